"""The one entry point of the web page and the command line."""

from __future__ import annotations

from flask import current_app

from app.pdf.signing import load_signing_key
from app.verify.checking import Result, Trust, check_pdf
from app.verify.records import describe


def current_trust() -> Trust | None:
    """Our signatures are those of the configured signing certificate (None: none is)."""
    config = current_app.config
    key = load_signing_key(config.get("PDF_SIGNING_PKCS12"), config.get("PDF_SIGNING_PASSPHRASE"))
    return Trust(key) if key is not None else None


def verify_file(data: bytes) -> Result:
    """Genuine, altered or unknown, with what the records say of a genuine file; raises
    ``Unreadable`` for what is not a PDF. Reads only: changes nothing."""
    return describe(check_pdf(data, current_trust()))
