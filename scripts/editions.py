"""The downloadable editions of a built site: one function for the build hook, the `book` command and the benchmarks.

The PDF and the EPUB are presenters over the same built HTML (scripts/shared/assemble.py reads it in book order);
each writes its file atomically, so a failure leaves the previous edition in place.
"""
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError

from macros.book import BookConfig
from scripts.pdf.document import BookMeta, PrintError

if TYPE_CHECKING:
    from scripts.pdf.fonts import FontCoverage

log = logging.getLogger("mkdocs.plugins.book")


@dataclass(frozen=True)
class EditionFiles:
    pdf: Path
    epub: Path


def edition_files(site_dir: Path, book: BookConfig) -> EditionFiles:
    downloads = Path(site_dir) / "downloads"
    return EditionFiles(downloads / book.pdf_name, downloads / book.epub_name)


def render_editions(site_dir: Path, book: BookConfig, cache_dir: Path | None,
                    moment: datetime | None = None, fonts: "FontCoverage | None" = None) -> EditionFiles:
    """Write the PDF (reusing an unchanged render from cache_dir) and the EPUB of a built site; `fonts` is what the
    build process already knows of its fonts (scripts/pdf/fonts.py)."""
    # Imported here, not at the top: WeasyPrint takes a second to load, and a preview rarely needs it.
    from scripts.epub.writer import render_epub
    from scripts.pdf.render import render_pdf
    moment = moment or build_moment()
    files, meta = edition_files(site_dir, book), book_meta(book, moment)
    try:
        started = time.perf_counter()
        rendered = render_pdf(Path(site_dir), files.pdf, meta, cache_dir=cache_dir, fonts=fonts)
        _report("Rendered" if rendered else "Reused the unchanged", "PDF", started, files.pdf)
        started = time.perf_counter()
        render_epub(Path(site_dir), files.epub, meta, moment)
        _report("Wrote", "EPUB", started, files.epub)
    except PrintError as error:
        raise PluginError(f"The downloadable editions were not written:\n{error}") from error
    return files


def book_meta(book: BookConfig, moment: datetime) -> BookMeta:
    """What the PDF and EPUB print about the book, for one build."""
    return BookMeta(
        title=book.title, subtitle=book.subtitle, author=book.author, companion=book.companion,
        copyright=book.copyright, edition=book.edition, date=moment.strftime("%Y-%m-%d"),
        description=book.description, keywords=", ".join(book.keywords), page_size=book.page_size,
    )


def build_moment() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now; an unreadable value is one clear error."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise PluginError(f"SOURCE_DATE_EPOCH={epoch!r} is not a time: give whole seconds since 1970-01-01 UTC, "
                          "for example $(git log -1 --format=%ct)") from None


def _report(verb: str, kind: str, started: float, output: Path) -> None:
    log.info(f"{verb} {kind} in {time.perf_counter() - started:.1f} s: downloads/{output.name}")
