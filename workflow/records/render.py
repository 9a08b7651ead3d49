"""HTML to PDF/A with WeasyPrint, reaching nothing but the app's own static files.

WeasyPrint 70's default fetcher opens any URL (``file://``, the network): ours
serves files under ``static/`` and stops the render on anything else, so no
template mistake and no text a customer typed can make a render read a file or
call out. One ``FontConfiguration`` per process (a new one per render leaks
memory) and one shipped Latin font (most of a render is font subsetting; DESIGN
§12).
"""

from __future__ import annotations

import mimetypes
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

STATIC_DIR = (Path(__file__).resolve().parents[2] / "static").resolve()
STYLESHEET = STATIC_DIR / "records" / "record.css"
PDF_VARIANT = "pdf/a-3b"  # 3b keeps the embedded JSON (2b would drop it)


class StaticOnlyFetcher(URLFetcher):
    """Serves ``file:`` URLs inside ``static/``; refuses everything else, fatally."""

    def fetch(self, url, headers=None):
        path = _static_path(url)
        if path is None:
            raise FatalURLFetchingError(f"record renders may only use static files: {url[:200]}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


def _static_path(url: str) -> Path | None:
    """The file under static/ that ``url`` names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(unquote(parts.path)).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    return path


@cache
def _fonts() -> FontConfiguration:
    return FontConfiguration()


@cache
def _fetcher() -> StaticOnlyFetcher:
    return StaticOnlyFetcher()


@cache
def _stylesheet() -> CSS:
    return CSS(filename=str(STYLESHEET), url_fetcher=_fetcher(), font_config=_fonts())


def pdf(html: str, *, data: bytes | None = None, data_name: str = "dados.json") -> bytes:
    """Render ``html`` to PDF/A-3b; ``data`` (JSON) is embedded with relationship Data."""
    attachments = None
    if data is not None:
        attachments = [Attachment(string=data, name=data_name, relationship="Data",
                                  description="application/json", url_fetcher=_fetcher())]
    document = HTML(string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=_fetcher())
    return document.write_pdf(
        stylesheets=[_stylesheet()], font_config=_fonts(), pdf_variant=PDF_VARIANT,
        custom_metadata=True, attachments=attachments,
    )
