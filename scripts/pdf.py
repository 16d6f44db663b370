"""The PDF edition: WeasyPrint over the assembled print document, fetching only files inside the built site."""
import hashlib
import logging
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import CSS, HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from .files import atomic_write
from .print_book import BookMeta, PrintError, print_document, print_stylesheet

CACHE_VERSION = "1"   # bump when the rendering code changes in a way the content hash cannot see


class SiteOnlyFetcher(URLFetcher):
    """Serves files under the site folder and refuses everything else (other paths, http, data from elsewhere)."""

    def __init__(self, site_dir: Path):
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.site_dir = site_dir.resolve()

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = Path(unquote(parts.path)).resolve() if parts.scheme == "file" else None
        if path is None or not path.is_relative_to(self.site_dir):
            raise FatalURLFetchingError(f"refused to fetch {url!r}: the PDF embeds only files inside {self.site_dir}")
        return super().fetch(url, headers)


def render_pdf(site_dir: Path, output: Path, meta: BookMeta, cache_dir: Path | None = None) -> bool:
    """Write the PDF for a built site; returns False when an identical earlier render was reused.

    The file appears only when complete: it is written beside its destination and moved into place, so a failed
    render leaves any previous PDF untouched.
    """
    site_dir = Path(site_dir)
    document = print_document(site_dir, meta)
    stylesheet = print_stylesheet(meta)
    key = _content_key(site_dir, document, stylesheet)
    cached = cache_dir / f"{key}.pdf" if cache_dir else None
    if cached and cached.is_file():
        atomic_write(output, cached.read_bytes())
        return False
    data = _weasyprint(site_dir, document, stylesheet, key)
    atomic_write(output, data)
    if cached:
        _store(cache_dir, cached, data)
    return True


def _weasyprint(site_dir: Path, document: str, stylesheet: str, key: str) -> bytes:
    fetcher = SiteOnlyFetcher(site_dir)
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    try:
        return HTML(string=document, base_url=str(site_dir / "index.html"), url_fetcher=fetcher).write_pdf(
            stylesheets=[CSS(string=stylesheet, url_fetcher=fetcher)],
            pdf_variant="pdf/ua-1",
            pdf_identifier=key.encode(),   # a stable /ID keeps two builds of one commit byte-identical
        )
    except FatalURLFetchingError as error:
        raise PrintError(f"{error}: {error.__cause__ or ''}".rstrip(": ")) from error


def _content_key(site_dir: Path, document: str, stylesheet: str) -> str:
    """Everything the PDF depends on: the document, the stylesheet, and the bytes of the files it embeds."""
    digest = hashlib.sha256(f"{CACHE_VERSION}\n{document}\n{stylesheet}".encode())
    for folder in ("assets", "images"):
        for path in sorted((site_dir / folder).rglob("*")) if (site_dir / folder).is_dir() else []:
            if path.is_file() and path.suffix in {".svg", ".png", ".jpg", ".woff2", ".css"}:
                digest.update(path.relative_to(site_dir).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:32]


def _store(cache_dir: Path, cached: Path, data: bytes) -> None:
    """Keep only the latest render: the cache is for 'nothing changed since the last build'."""
    if cache_dir.is_dir():
        shutil.rmtree(cache_dir)
    atomic_write(cached, data)
