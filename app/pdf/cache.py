"""The PDF cache: a file per document, named by everything that decides its bytes, made once
even when several workers want it at the same moment."""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import weasyprint

from app.pdf.exact_spacing import EXACT
from app.pdf.fonts import RoleFont
from app.pdf.typesetting import PdfSource


@cache
def layout_digest() -> str:
    """Changes whenever the layout code, template, stylesheet or WeasyPrint changes (and
    whether its spacing is written exactly), so that a cached PDF is never served after an
    upgrade that would typeset it differently."""
    here = Path(__file__).parent
    templates = (here.parent.parent / "templates" / "pdf").glob("*.html")  # _report.html too
    digest = hashlib.sha256(f"WeasyPrint {weasyprint.__version__}, exact {EXACT}".encode())
    for path in sorted([*here.glob("*.py"), here / "official.css", *templates]):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_key(source: PdfSource | str, roles: dict[str, RoleFont], signature: str = "") -> str:
    """Same text, template and fonts → same key (and the same bytes). ``signature``: the
    certificate and approval of a signed PDF (``signing.signature_cache_part``). A ``str``
    source names a document with no text of its own (a layer of page numbers)."""
    digest = hashlib.sha256()
    for part in (
        layout_digest(),
        repr(source),
        signature,
        *(
            f"{r.role}:{face.path}:{face.index}:{face.path.stat().st_mtime_ns}"
            for r in roles.values()
            for face in r.faces
        ),
    ):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


# How long to wait for another thread or process making the same PDF before making it anyway
# (a hung maker must not hang every later download).
MAKING_WAIT_SECONDS = 30.0


def lock_file(path: Path) -> Path:
    """The lock held while the file at ``path`` is made: one per file. (One per two hex digits
    of the key made every PDF whose key shared them wait up to MAKING_WAIT_SECONDS for a long
    job's PDF, and then make itself anyway: 30 s stalls of a sync web worker under load.)"""
    return path.parent / ".locks" / f"{path.name}.lock"


@contextmanager
def making(path: Path) -> Iterator[None]:
    """Held while the PDF at ``path`` is made, so that others who want it at the same moment
    (right after an approval: the approver's worker and the report page in another worker)
    wait for it instead of making it again. A lock file in the cache folder: it works across
    threads, processes and hosts sharing the folder. The maker removes it once the file is
    there: whoever still waits on it finds the file, whoever comes later needs no lock."""
    lock = lock_file(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as handle:
        deadline = time.monotonic() + MAKING_WAIT_SECONDS
        held = False
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
                break
            except BlockingIOError:
                if path.exists() or time.monotonic() > deadline:
                    break  # made meanwhile (the caller reads it), or waited long enough
                time.sleep(0.02)
        try:
            yield
        finally:
            if held and path.exists():
                lock.unlink(missing_ok=True)
        # closing the file releases the lock


def store_in_cache(path: Path, pdf: bytes) -> None:
    """Write ``path`` whole or not at all: through a temporary file of this thread's own, then
    a rename. (With one temporary name per PDF, two threads that made the same PDF at once
    overwrote each other's temporary file and the second rename found none: a 500.)"""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    temporary.write_bytes(pdf)
    os.replace(temporary, path)
