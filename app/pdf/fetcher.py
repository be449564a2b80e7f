"""The only resources a PDF may load: our own stylesheet and the chosen font files."""

from __future__ import annotations

from pathlib import Path

from weasyprint.urls import URLFetcher, URLFetcherResponse

SCHEME = "reportflow"
STYLESHEET = Path(__file__).with_name("official.css")


class RestrictedFetcher(URLFetcher):
    """Serves ``reportflow:`` URLs from an allow-list and refuses everything else
    (``file:``, ``http(s):``, ``data:``…), so user text can never pull anything in."""

    def __init__(self, files: dict[str, Path | bytes]):
        super().__init__(allowed_protocols={SCHEME}, allow_redirects=False)
        self.files = {"official.css": STYLESHEET, **files}

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        prefix = f"{SCHEME}:"
        if not url.startswith(prefix):
            raise ValueError(f"资源已被拒绝：{url[:80]}")
        name = url.removeprefix(prefix).lstrip("/")
        found = self.files.get(name)
        if found is None:
            raise ValueError(f"资源已被拒绝：{url[:80]}")
        body = found if isinstance(found, bytes) else found.read_bytes()
        return URLFetcherResponse(url, body=body, headers={"Content-Type": "text/css"})


def asset_url(name: str) -> str:
    return f"{SCHEME}:{name}"
