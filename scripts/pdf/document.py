"""The print edition's document: front matter, contents, part dividers, chapters and back matter as one HTML file.

Print presents the same semantic markup as the site (ARCHITECTURE.md): it does not re-read Markdown. What differs
on paper is done here, on the assembled tree: footnotes become page footnotes, external links print their address
as a footnote, cross-references gain their page number, and long code lines wrap with a visible mark.
"""
import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from lxml import etree
from lxml.html import HtmlElement, fragments_fromstring
from lxml.html import builder as E

from scripts.shared import highlight
from scripts.shared.assemble import (BookChapter, LinkReport, LinkResolver, as_book_section, book_chapters, book_links,
                                     cover_wave, part_divider, site_relative_images)

PRINT_CSS = Path(__file__).with_name("print.css")
CONTINUATION_MARK = "\u21aa "
CODE_POINT_SIZE = 8.0
MONO_ADVANCE = 0.6          # Source Code Pro's advance width, in em
PAGE_SIZES = {              # trim size -> (width, height) in points
    "7in 9.25in": (504, 666),
    "A4": (595.3, 841.9),
    "Letter": (612, 792),
}
MARGINS = {"top": 54, "bottom": 54, "inside": 63, "outside": 54}   # points
# print.css's @page names: these print their folio in lower-roman (or none), counted from the cover; the first
# body page restarts the count at 1 in arabic. The PDF's page labels follow the same rule (pdf._label_pages).
ROMAN_PAGES = frozenset({"cover", "plain", "front"})
BODY_START_PAGE = "body-start"


class PrintError(Exception):
    """The book cannot be printed as it is; the message names the page and what to fix."""


@dataclass(frozen=True)
class BookMeta:
    title: str
    subtitle: str
    author: str
    companion: str          # "A companion to ..."
    copyright: str
    edition: str            # from the project version
    date: str               # ISO date of the build (SOURCE_DATE_EPOCH when set)
    description: str
    keywords: str
    page_size: str = "7in 9.25in"

    @property
    def code_columns(self) -> int:
        """How many monospace characters fit in a code block on this trim size."""
        # Less the block's padding and border, and a few per cent of slack so the wrap mark never re-wraps.
        width = PAGE_SIZES[self.page_size][0] - MARGINS["inside"] - MARGINS["outside"] - 20
        return math.floor(0.96 * width / (CODE_POINT_SIZE * MONO_ADVANCE))


@dataclass
class PrintIndex:
    """The back-of-book index, printed in a second pass once the pages of its marks are known (scripts/pdf/index.py):
    the whole section, and the id of the emptied section that stands in for it in the first pass."""
    section: HtmlElement
    anchor: str
    meta: BookMeta

    def document(self, section: HtmlElement) -> str:
        return _page(self.meta, [section])


@dataclass
class PrintBook:
    """The print document, and where its parts came from (to name the page in a message about it)."""
    html: str
    pages: dict[str, str] = field(default_factory=dict)       # id prefix -> page URL, e.g. "one" -> "one/"
    resources: dict[str, str] = field(default_factory=dict)   # embedded file (site-relative) -> first page URL
    index: PrintIndex | None = None

    @property
    def content(self) -> str:
        """Everything the PDF is made from, the index's text included (the render cache's key)."""
        index = etree.tostring(self.index.section, encoding="unicode") if self.index else ""
        return self.html + index


def print_document(site_dir: Path, meta: BookMeta) -> str:
    return print_book(site_dir, meta).html


def print_book(site_dir: Path, meta: BookMeta, only_chapter: int | None = None) -> PrintBook:
    """The whole book, or with `only_chapter` that chapter alone after its part's divider (a proof for authors)."""
    chapters = book_chapters(site_dir)
    resolver = LinkResolver(chapters)
    if only_chapter is not None:
        chapters = [_numbered(chapters, only_chapter)]
    report = LinkReport()
    for chapter in chapters:
        site_relative_images(chapter, report)
        _link_into_one_document(chapter, resolver, report)
        if only_chapter is not None:
            _unlink_other_pages(chapter)
        _prepare_for_print(chapter, meta)
    report.raise_if_any(PrintError)
    book = PrintBook("", {c.prefix: c.url for c in chapters},
                     {img.get("src"): c.url for c in reversed(chapters) for img in c.body.iter("img") if img.get("src")})
    front = [] if only_chapter is not None else [_cover(meta), _title_page(meta), _copyright_page(meta),
                                                  _contents(chapters)]
    sections = list(_sections(chapters))
    book.index = _index_for_second_pass(sections, meta)
    book.html = _page(meta, [*front, *sections])
    return book


def _index_for_second_pass(sections: list[HtmlElement], meta: BookMeta) -> PrintIndex | None:
    """Take the Index's entries out of the first pass, keeping its heading so that the contents can give its page.
    The Index must close the book: pages after it would move when it gets its numbers."""
    holders = [(number, section) for number, section in enumerate(sections) if section.cssselect("div.book-index")]
    if not holders:
        return None
    number, section = holders[0]
    if number != len(sections) - 1:
        raise PrintError(f"{section.get('data-page')}: the Index must be the last page of the book's navigation, "
                         "so that the pages it lists do not move when it is printed")
    index = PrintIndex(copy.deepcopy(section), section.get("id", ""), meta)
    for entries in section.cssselect("div.book-index"):
        for child in list(entries):
            entries.remove(child)
    return index


def _link_into_one_document(chapter: BookChapter, resolver: LinkResolver, report: LinkReport) -> None:
    """Joined into one document, every id gets its page's name as a prefix (every chapter has `fn:1`), and every
    link into the book points at the joined ids."""
    links = book_links(chapter, resolver, report)
    for element in chapter.body.iter():
        if isinstance(element.tag, str) and element.get("id"):
            element.set("id", f"{chapter.prefix}--{element.get('id')}")
    for link, target in links:
        link.set("href", f"#{target.prefix}--{target.anchor}" if target.anchor else f"#{target.prefix}")
        link.set("data-internal", "")


def _numbered(chapters: list[BookChapter], number: int) -> BookChapter:
    for chapter in chapters:
        if chapter.number == number:
            return chapter
    numbers = [c.number for c in chapters if c.number]
    raise PrintError(f"there is no chapter {number}: the book's chapters are numbered "
                     f"{min(numbers, default=0)} to {max(numbers, default=0)}")


def _unlink_other_pages(chapter: BookChapter) -> None:
    """In a one-chapter proof, links to other pages have nowhere to go: keep their text, drop the link."""
    for link in chapter.body.cssselect("a[data-internal]"):
        href = link.get("href", "")
        if href != f"#{chapter.prefix}" and not href.startswith(f"#{chapter.prefix}--"):
            del link.attrib["href"]
            del link.attrib["data-internal"]


def print_stylesheet(meta: BookMeta) -> str:
    css = Template(PRINT_CSS.read_text(encoding="utf-8")).substitute(
        page_size=meta.page_size, **{f"margin_{k}": f"{v}pt" for k, v in MARGINS.items()}, code_size=f"{CODE_POINT_SIZE}pt")
    return css + "\n" + highlight.css(".highlight", highlight.PRINT)


# ── per-chapter print transforms ─────────────────────────────────────────────
def _prepare_for_print(chapter: BookChapter, meta: BookMeta) -> None:
    _page_footnotes(chapter.body)
    _link_addresses_as_footnotes(chapter.body)
    _mark_page_references(chapter)
    for code in chapter.body.cssselect("pre > code"):
        wrap_code(code, meta.code_columns)
    for table in chapter.body.iter("table"):
        columns = len(table.xpath("(.//tr)[1]/*"))
        if columns >= 6:   # a narrow page cannot give many columns a normal font size
            table.set("class", (table.get("class", "") + " wide").strip())


def _page_footnotes(body: HtmlElement) -> None:
    """Move each Markdown footnote to its call site as a CSS float: footnote, so it prints on that page.

    The note keeps its markup (links, code, emphasis): only its paragraphs become runs of one inline footnote.
    """
    notes = {li.get("id"): li for li in body.cssselect("div.footnote li[id]")}
    for call in body.cssselect("sup[id] > a.footnote-ref"):
        note = notes.get(call.get("href", "").lstrip("#"))
        if note is None:
            continue
        for backref in note.cssselect("a.footnote-backref"):
            backref.drop_tree()
        footnote = etree.SubElement(call.getparent().getparent(), "span", {"class": "footnote-print"})
        _move_inline_content(note, footnote)
        sup = call.getparent()
        sup.addnext(footnote)
        footnote.tail, sup.tail = sup.tail, None
        sup.getparent().remove(sup)
    for block in body.cssselect("div.footnote"):
        block.drop_tree()


def _move_inline_content(note: HtmlElement, footnote: HtmlElement) -> None:
    """The note's content into the footnote span: its paragraphs run on, separated by a space."""
    _append_text(footnote, note.text or "")
    for child in list(note):
        if child.tag != "p":
            footnote.append(child)
            continue
        if len(footnote) or (footnote.text or "").strip():
            _append_text(footnote, " ")
        _append_text(footnote, child.text or "")
        for inline in list(child):
            footnote.append(inline)
        _append_text(footnote, child.tail or "")
    footnote.text = (footnote.text or "").lstrip()
    if len(footnote):
        footnote[-1].tail = (footnote[-1].tail or "").rstrip()
    else:
        footnote.text = footnote.text.rstrip()


def _append_text(element: HtmlElement, text: str) -> None:
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _link_addresses_as_footnotes(body: HtmlElement) -> None:
    """An outside link prints its address: as a footnote, or after it in brackets inside a footnote (which
    cannot have footnotes of its own)."""
    for link in body.cssselect("a[href^='http']"):
        classes = link.get("class", "")
        if "ref-url" in classes or "xref-book1" in classes or link.text_content().strip() == link.get("href"):
            continue
        in_footnote = any("footnote-print" in (a.get("class") or "") for a in link.iterancestors("span"))
        kind = "url-inline" if in_footnote else "url-note"
        note = E.SPAN(E.CLASS(kind), link.get("href", ""))
        note.tail, link.tail = link.tail, None
        link.addnext(note)


def _mark_page_references(chapter: BookChapter) -> None:
    """Cross-references print their page: 'Figure 4.2, page 91', 'Chapter 3, page 61'.

    Only figure and table references and links from a chapter to another page: a page number on every glossary
    term, citation or "see also" would be noise, and each forward page reference costs WeasyPrint a re-layout.
    """
    if chapter.kind == "back":
        return
    for link in chapter.body.cssselect("a[data-internal]"):
        classes = link.get("class", "")
        to_other_page = not link.get("href", "").startswith(f"#{chapter.prefix}--")
        is_numbered = "xref-figure" in classes or "xref-table" in classes
        is_plain = not any(c in classes for c in ("term", "footnote", "xref-book1")) and \
            link.getparent().get("class") != "citation"
        if is_numbered or (is_plain and to_other_page):
            link.set("class", (classes + " pageref").strip())


def wrap_code(code: HtmlElement, columns: int) -> None:
    """Break code lines longer than the text block, marking each continuation, so nothing is ever clipped."""
    column = 0

    def split(text: str) -> str:
        nonlocal column
        out = []
        for char in text:
            if char == "\n":
                column = 0
            elif column >= columns:
                out.append("\n" + CONTINUATION_MARK)
                column = len(CONTINUATION_MARK)
            if char != "\n":
                column += 1
            out.append(char)
        return "".join(out)

    def walk(element: HtmlElement) -> None:
        if element.text:
            element.text = split(element.text)
        for child in element:
            walk(child)
            if child.tail:
                child.tail = split(child.tail)

    walk(code)


# ── the parts of the book ────────────────────────────────────────────────────
def _sections(chapters: list[BookChapter]) -> Iterator[HtmlElement]:
    current_part, first_body = None, True
    for chapter in chapters:
        if chapter.part and chapter.part_id and chapter.part != current_part:
            current_part = chapter.part
            yield _part_divider(chapter.part, chapter.part_id, first_body)
            first_body = False
        yield _chapter(chapter)


def _part_divider(part: str, part_id: str, restart_numbering: bool) -> HtmlElement:
    divider = part_divider(part)
    divider.set("class", "part-divider restart-numbering" if restart_numbering else "part-divider")
    divider.set("id", part_id)
    divider.set("data-page", part)
    return divider


def _chapter(chapter: BookChapter) -> HtmlElement:
    section = as_book_section(chapter)
    section.set("id", chapter.prefix)
    section.set("data-page", chapter.url)
    return section


def _contents(chapters: list[BookChapter]) -> HtmlElement:
    items, part = [], None
    for chapter in chapters:
        if chapter.part and chapter.part_id and chapter.part != part:
            part = chapter.part
            items.append(E.LI(E.CLASS("toc-part"), E.A(chapter.part, href=f"#{chapter.part_id}")))
        number = [E.SPAN(E.CLASS("toc-number"), str(chapter.number)), " "] if chapter.number else []
        items.append(E.LI(E.CLASS(f"toc-chapter toc-{chapter.kind}"),
                          E.A(*number, chapter.title, href=f"#{chapter.prefix}")))
        if chapter.kind == "chapter":
            items += [E.LI(E.CLASS("toc-section"), E.A(title, href=f"#{chapter.prefix}--{anchor}"))
                      for anchor, title in chapter.sections if anchor != "references"]
    return E.E.nav(E.CLASS("toc"), E.H1("Contents"), E.OL(*items), id="contents")


def _cover(meta: BookMeta) -> HtmlElement:
    bars = [E.E.rect(x=_number(b.x), y=_number(b.y), width=_number(b.width), height=_number(b.height),
                     rx=_number(b.width / 2))
            for b in cover_wave(60, step=8, width=5, middle=60, base=8, amplitude=44)]
    wave = E.E.svg(E.E.g(*bars, fill="#f2a65a"), {"class": "cover-wave", "viewBox": "0 0 480 120",
                                                  "role": "presentation", "aria-hidden": "true"})
    return E.SECTION(E.CLASS("cover"), wave,
                     E.H1(E.CLASS("cover-title"), meta.title),
                     E.P(E.CLASS("cover-subtitle"), meta.subtitle),
                     E.P(E.CLASS("cover-author"), meta.author),
                     E.P(E.CLASS("cover-companion"), meta.companion))


def _number(value: float) -> str:
    """An SVG coordinate as the drawing writes it: 8, not 8.0."""
    return f"{value:g}"


def _title_page(meta: BookMeta) -> HtmlElement:
    return E.SECTION(E.CLASS("title-page"),
                     E.H1(E.CLASS("title-page-title"), meta.title),
                     E.P(E.CLASS("title-page-subtitle"), meta.subtitle),
                     E.P(E.CLASS("title-page-author"), meta.author))


def _copyright_page(meta: BookMeta) -> HtmlElement:
    return E.SECTION(
        E.CLASS("copyright-page"),
        E.P(E.CITE(f"{meta.title}: {meta.subtitle}")),
        E.P(*_markup(meta.copyright)),   # mkdocs.yml's copyright is HTML (Material shows it as such): "&copy; 2026"
        E.P(f"Edition {meta.edition}, built {meta.date}."),
        E.P(f"{meta.companion}."),
        E.P("Prices, limits and product details change; each source in the Works Cited gives the date it was read.\n"
            "  Figures labelled as illustrative assumptions are not measurements."),
        E.P("Set in Source Serif 4, Source Sans 3 and Source Code Pro (SIL Open Font License 1.1)."))


def _markup(text: str) -> list[str | HtmlElement]:
    """HTML text as the children of an element: its leading text, then its elements (with their tails)."""
    return list(fragments_fromstring(text)) if text.strip() else []


def _page(meta: BookMeta, sections: list[HtmlElement]) -> str:
    head = E.HEAD(
        E.META(charset="utf-8"),
        E.TITLE(f"{meta.title}: {meta.subtitle}"),
        E.META(name="author", content=meta.author),
        E.META(name="description", content=meta.description),
        E.META(name="keywords", content=meta.keywords),
        E.META(name="generator", content="MkDocs, Material for MkDocs and WeasyPrint"),
        E.META(name="dcterms.created", content=meta.date),
        E.META(name="dcterms.modified", content=meta.date),
        E.LINK(rel="stylesheet", href="assets/fonts/fonts.css"))
    document = E.HTML(head, E.BODY(*sections), lang="en")
    return etree.tostring(document, encoding="unicode", method="html", doctype="<!DOCTYPE html>")
