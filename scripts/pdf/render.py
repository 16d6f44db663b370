"""The PDF edition: WeasyPrint over the assembled print document, fetching only files inside the built site.

Nothing is lost silently: WeasyPrint's warnings and errors (an image it cannot load, an anchor that does not exist,
CSS it ignores) go to MkDocs' log, naming the page where they can, so `--strict` fails on them; so does a character
none of the book's fonts can print. The PDF's page labels follow the printed folios (roman, then arabic from 1).
"""
import copy
import hashlib
import json
import logging
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pydyf
from lxml import html as lxml_html
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher

from scripts.shared.addresses import file_in_site
from scripts.shared.files import atomic_write
from .fonts import FontCoverage
from .document import BookMeta, PrintBook, PrintError, print_book, print_stylesheet
from .index import anchor_pages, page_folios, print_locators

CACHE_VERSION = "3"   # bump when the rendering code changes in a way the content hash cannot see
FONT_FILES = ("*.woff2", "*.woff", "*.ttf", "*.otf")
LOG = logging.getLogger("mkdocs.plugins.book")   # a child of MkDocs' logger: `--strict` counts its warnings


class SiteOnlyFetcher(URLFetcher):
    """Serves files under the site folder and refuses everything else (other paths, http, data from elsewhere).

    It also records every file it served: the PDF depends on exactly those (the render cache keys on them).
    """

    def __init__(self, site_dir: Path) -> None:
        super().__init__(allowed_protocols={"file"}, fail_on_errors=True)
        self.site_dir = site_dir.resolve()
        self.fetched: set[Path] = set()

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> Any:
        parts = urlsplit(url)
        path = Path(unquote(parts.path)) if parts.scheme == "file" else None
        if path is None or file_in_site(self.site_dir, path) is None:
            raise FatalURLFetchingError(f"refused to fetch {url!r}: the PDF embeds only files inside {self.site_dir}")
        self.fetched.add(path.resolve())
        return super().fetch(url, headers)


def render_pdf(site_dir: Path, output: Path, meta: BookMeta, cache_dir: Path | None = None,
               only_chapter: int | None = None, fonts: FontCoverage | None = None) -> bool:
    """Write the PDF for a built site; returns False when an identical earlier render was reused.

    The file appears only when complete: it is written beside its destination and moved into place, so a failed
    render leaves any previous PDF untouched. `only_chapter` prints one chapter with its part divider (a proof).
    `fonts` is the build's memory of the fonts' characters (a new one reads them again).
    """
    site_dir = Path(site_dir)
    book = print_book(site_dir, meta, only_chapter)
    stylesheet = print_stylesheet(meta)
    key = _content_key(book.content, stylesheet)
    cached = _cached_render(cache_dir, key, site_dir) if cache_dir else None
    if cached is not None:
        data, warnings = cached
        for level, message in warnings:   # a reused render says again what was wrong with it
            LOG.log(level, message)
        atomic_write(output, data)
        return False
    with _warnings_logged() as warnings:
        _warn_about_missing_glyphs(book, site_dir, fonts or FontCoverage())
        data, fetched = _weasyprint(site_dir, book, stylesheet, key)
    atomic_write(output, data)
    if cache_dir:
        _store(cache_dir, key, data, {"embedded": _digests(site_dir, fetched), "warnings": warnings})
    return True


def _weasyprint(site_dir: Path, book: PrintBook, stylesheet: str, key: str) -> tuple[bytes, set[Path]]:
    fetcher = SiteOnlyFetcher(site_dir)
    fonts = FontConfiguration()   # one for both passes: a page keeps using the fonts its pass loaded

    def layout(html: str, extra_css: str = ""):
        sheets = [CSS(string=stylesheet + extra_css, url_fetcher=fetcher, font_config=fonts)]
        return HTML(string=html, base_url=str(site_dir / "index.html"), url_fetcher=fetcher).render(
            font_config=fonts, stylesheets=sheets, pdf_variant="pdf/ua-1")

    try:
        with _weasyprint_log_to_build_log(_page_finder(book, site_dir)):
            document = layout(book.html)
            if book.index is not None:
                document = _with_printed_index(document, book, layout)
            data = document.write_pdf(
                pdf_variant="pdf/ua-1",
                pdf_identifier=key.encode(),   # a stable /ID keeps two builds of one commit byte-identical
                finisher=_label_pages,
            )
    except FatalURLFetchingError as error:
        raise PrintError(f"{error}: {error.__cause__ or ''}".rstrip(": ")) from error
    return data, fetcher.fetched


def _with_printed_index(document, book: PrintBook, layout):
    """The second pass (scripts/pdf/index.py): the Index laid out with the pages its marks landed on, in place of
    the empty Index of the first pass, its first folio continuing the book's count."""
    assert book.index is not None
    pages, folios = anchor_pages(document.pages), page_folios(document.pages)
    first = pages[book.index.anchor]
    section = copy.deepcopy(book.index.section)
    missing = print_locators(section, pages, folios)
    if missing:
        raise PrintError(f"{book.pages.get(book.index.anchor, 'the Index')}: index marks that are not in the "
                         f"printed book: {', '.join(sorted(missing))} (a mark inside web-only content?)")
    index = layout(book.index.document(section), f"\n@page :first {{ counter-reset: page {folios[first].number}; }}")
    return document.copy(document.pages[:first] + index.pages)


# ── WeasyPrint's messages, in the build's log ────────────────────────────────
class _ToBuildLog(logging.Handler):
    def __init__(self, page_of):
        super().__init__(logging.WARNING)
        self.page_of = page_of

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        page = self.page_of(message)
        LOG.log(record.levelno, f"PDF{f' ({page})' if page else ''}: {message}")


@contextmanager
def _weasyprint_log_to_build_log(page_of):
    """While rendering, WeasyPrint's warnings and errors become the build's (and nothing else hears them)."""
    logger = logging.getLogger("weasyprint")
    handler, saved = _ToBuildLog(page_of), (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _page_finder(book: PrintBook, site_dir: Path):
    """A function naming the page a WeasyPrint message is about, from the ids and files the message mentions."""
    site_uri = site_dir.resolve().as_uri() + "/"

    def page_of(message: str) -> str | None:
        message = message.replace(site_uri, "")
        for anchor in re.findall(r"#([\w.-]+)", message):
            prefix = anchor.split("--")[0]
            if prefix in book.pages:
                return book.pages[prefix]
        for resource, page in book.resources.items():
            if resource in message:
                return page
        return None
    return page_of


class _Recorder(logging.Handler):
    def __init__(self, into: list):
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append((record.levelno, record.getMessage()))


@contextmanager
def _warnings_logged():
    """The warnings this module logs inside the block, as (level, message) pairs."""
    warnings: list[tuple[int, str]] = []
    recorder = _Recorder(warnings)
    LOG.addHandler(recorder)
    try:
        yield warnings
    finally:
        LOG.removeHandler(recorder)


# ── Page labels: what a PDF viewer shows as the page number ──────────────────
def _label_pages(document, pdf: pydyf.PDF) -> None:
    """/PageLabels that match the printed folios (scripts/pdf/index.py: roman from the cover, arabic from 1 at the
    first body page): a new label range wherever the numbering style changes or restarts."""
    numbers, previous = [], None
    for index, folio in enumerate(page_folios(document.pages)):
        if previous is None or folio.roman != previous.roman or folio.number != previous.number + 1:
            numbers += [index, pydyf.Dictionary({"S": "/r" if folio.roman else "/D", "St": folio.number})]
        previous = folio
    pdf.catalog["PageLabels"] = pydyf.Dictionary({"Nums": pydyf.Array(numbers)})


# ── Characters no font of the book has ───────────────────────────────────────
def _warn_about_missing_glyphs(book: PrintBook, site_dir: Path, fonts: FontCoverage) -> None:
    """Warn, naming the page and the character, about text that neither the vendored fonts nor their declared
    fallback can print: it would come out as an empty box."""
    vendored = sorted(path for pattern in FONT_FILES for path in (site_dir / "assets" / "fonts").glob(pattern))
    if not vendored:
        return
    covered = fonts.characters([*vendored, *fonts.fallback_fonts()])
    for page, characters in missing_characters(book.html, covered).items():
        listed = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in sorted(characters))
        LOG.warning(f"PDF ({page}): no font of the book has {listed}, which would print as an empty box: "
                    "use another character, or vendor a font that has it")


def missing_characters(document: str, covered: frozenset[int]) -> dict[str, set[str]]:
    """{page: characters} for the printable characters of the print document that no font covers."""
    tree = lxml_html.document_fromstring(document)
    found: dict[str, set[str]] = {}
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag in ("style", "script", "head", "title", "meta"):
            continue
        for text in (element.text, element.tail if element.getparent() is not None else None):
            for char in set(text or ""):
                if char.isprintable() and not char.isspace() and ord(char) not in covered:
                    section = next(element.iterancestors("section"), None) if element.tag != "section" else element
                    page = section.get("data-page") if section is not None else None
                    found.setdefault(page or "front matter", set()).add(char)
    return found


# ── The render cache ─────────────────────────────────────────────────────────
def _content_key(document: str, stylesheet: str) -> str:
    """The document and the stylesheet; the files they embed are checked against the cached render's record."""
    return hashlib.sha256(f"{CACHE_VERSION}\n{document}\n{stylesheet}".encode()).hexdigest()[:32]


def _digests(site_dir: Path, files: set[Path]) -> dict[str, str]:
    root = site_dir.resolve()
    return {path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(files) if path.is_file()}


def _cached_render(cache_dir: Path, key: str, site_dir: Path) -> tuple[bytes, list] | None:
    """The earlier render of this document and its warnings, if every file it embedded (figures, fonts, CSS) is
    byte for byte unchanged."""
    pdf, record = cache_dir / f"{key}.pdf", cache_dir / f"{key}.json"
    if not (pdf.is_file() and record.is_file()):
        return None
    recorded = json.loads(record.read_text(encoding="utf-8"))
    paths = {site_dir.resolve() / name for name in recorded["embedded"]}
    if _digests(site_dir, paths) != recorded["embedded"]:
        return None
    return pdf.read_bytes(), recorded["warnings"]


def _store(cache_dir: Path, key: str, data: bytes, record: dict) -> None:
    """Keep only the latest render: the cache is for 'nothing changed since the last build'."""
    if cache_dir.is_dir():
        shutil.rmtree(cache_dir)
    atomic_write(cache_dir / f"{key}.json", json.dumps(record, indent=0).encode())
    atomic_write(cache_dir / f"{key}.pdf", data)
