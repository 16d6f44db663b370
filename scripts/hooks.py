"""Build-wide MkDocs hooks: the downloadable editions (PDF and EPUB) are made after the site is built.

`mkdocs serve` skips them, so previews stay fast, unless BOOK_PDF=1 is set in the environment; BOOK_PDF=0 skips
them in any build (the test suite's fixture books that are not about the editions).
"""
import os
import time
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from mkdocs.exceptions import PluginError

from scripts.print_book import PAGE_SIZES, BookMeta, PrintError

PDF_NAME = "productionizing-ml-inference-apis.pdf"
EPUB_NAME = "productionizing-ml-inference-apis.epub"

_command = "build"


def on_startup(command, dirty):
    global _command
    _command = command


def on_post_build(config):
    wanted = os.environ.get("BOOK_PDF", "0" if _command == "serve" else "1")
    if wanted != "1":
        return
    # Imported here, not at the top: WeasyPrint takes a second to load, and `mkdocs serve` rarely needs it.
    from scripts.epub import render_epub
    from scripts.pdf import render_pdf
    site_dir, meta = Path(config["site_dir"]), book_meta(config)
    downloads = site_dir / "downloads"
    try:
        started = time.perf_counter()
        rendered = render_pdf(site_dir, downloads / PDF_NAME, meta,
                              cache_dir=Path(config["config_file_path"]).parent / ".cache" / "pdf")
        _log(f"{'Rendered' if rendered else 'Reused the unchanged'} PDF", started, PDF_NAME)
        started = time.perf_counter()
        render_epub(site_dir, downloads / EPUB_NAME, meta, build_moment())
        _log("Wrote EPUB", started, EPUB_NAME)
    except PrintError as error:
        raise PluginError(f"The downloadable editions were not written:\n{error}") from error


def _log(what: str, started: float, name: str) -> None:
    print(f"INFO    -  {what} in {time.perf_counter() - started:.1f} s: downloads/{name}")


def book_meta(config) -> BookMeta:
    extra = config.get("extra") or {}
    book, book1, print_options = extra.get("book") or {}, extra.get("book1") or {}, extra.get("print") or {}
    page_size = print_options.get("page_size", "7in 9.25in")
    if page_size not in PAGE_SIZES:
        raise PluginError(f"mkdocs.yml: extra.print.page_size {page_size!r} is not one of {sorted(PAGE_SIZES)}")
    return BookMeta(
        title=config["site_name"],
        subtitle=book.get("subtitle", ""),
        author=config.get("site_author") or book.get("author", ""),
        companion=f"A companion to {book1.get('title', '')}: {book1.get('subtitle', '')}",
        copyright=config.get("copyright") or "",
        edition=version("productionizing-ml-inference-apis"),
        date=build_moment().strftime("%Y-%m-%d"),
        description=config.get("site_description") or "",
        keywords=", ".join(book.get("keywords", [])),
        page_size=page_size,
    )


def build_moment() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc).replace(microsecond=0)
