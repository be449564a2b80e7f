"""``/verify``: anyone with a PDF may ask whether it is an approved version issued here."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.extensions import limiter
from app.verify.checking import Unreadable
from app.verify.operations import verify_file

bp = Blueprint("verify", __name__)

# Room for the multipart envelope around the largest file we read.
ENVELOPE_BYTES = 64 * 1024


def _max_bytes() -> int:
    return current_app.config["VERIFY_MAX_BYTES"]


@bp.route("/verify", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["VERIFY_LIMIT"], methods=["POST"])
def verify():
    """Open without login: upload a file (field ``file``), get the verdict."""
    if request.method == "GET":
        return _page()
    request.max_content_length = _max_bytes() + ENVELOPE_BYTES
    try:
        upload = request.files.get("file")
        data = upload.read(_max_bytes() + 1) if upload else b""
    except RequestEntityTooLarge:
        return _too_large()
    if not upload or (not upload.filename and not data):
        return _page(error="请选择要验证的 PDF 文件。", status=400)
    if len(data) > _max_bytes():
        return _too_large()
    if not data:
        return _page(error="上传的文件是空的。", status=400)
    try:
        result = verify_file(data)
    except Unreadable as error:
        return _page(error=error.message, status=400)
    return _page(result=result, filename=upload.filename or "")


def _too_large():
    megabytes = _max_bytes() / (1024 * 1024)
    return _page(error=f"文件过大：只能验证不超过 {megabytes:g} MB 的 PDF 文件。", status=413)


def _page(*, status: int = 200, **context):
    return render_template("verify/verify.html", **context), status
