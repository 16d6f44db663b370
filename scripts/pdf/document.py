"""The print edition's document: front matter, contents, part dividers, chapters and back matter as one HTML file.

Print presents the same semantic markup as the site (ARCHITECTURE.md): it does not re-read Markdown. What differs
on paper is done here, on the assembled tree: footnotes become page footnotes, external links print their address
as a footnote, cross-references gain their page number, and long code lines wrap with a visible mark.
"""
import html
import math
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from lxml import etree
from lxml.html import HtmlElement, fragment_fromstring

from scripts.shared import highlight
from scripts.shared.assemble import BookChapter, LinkResolver, book_chapters, prefix_ids_and_links

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
class PrintBook:
    """The print document, and where its parts came from (to name the page in a message about it)."""
    html: str
    pages: dict[str, str] = field(default_factory=dict)       # id prefix -> page URL, e.g. "one" -> "one/"
    resources: dict[str, str] = field(default_factory=dict)   # embedded file (site-relative) -> first page URL


def print_document(site_dir: Path, meta: BookMeta) -> str:
    return print_book(site_dir, meta).html


def print_book(site_dir: Path, meta: BookMeta, only_chapter: int | None = None) -> PrintBook:
    """The whole book, or with `only_chapter` that chapter alone after its part's divider (a proof for authors)."""
    chapters = book_chapters(site_dir)
    resolver = LinkResolver(chapters)
    if only_chapter is not None:
        chapters = [_numbered(chapters, only_chapter)]
    problems = []
    for chapter in chapters:
        problems += _outside_resources(chapter)
        problems += [f"{chapter.url}: link to {href!r} does not resolve inside the book"
                     for href in prefix_ids_and_links(chapter, resolver)]
        if only_chapter is not None:
            _unlink_other_pages(chapter)
        _prepare_for_print(chapter, meta)
    if problems:
        raise PrintError("\n".join(problems))
    book = PrintBook("", {c.prefix: c.url for c in chapters},
                     {img.get("src"): c.url for c in reversed(chapters) for img in c.body.iter("img") if img.get("src")})
    front = [] if only_chapter is not None else [_cover(meta), _title_page(meta), _copyright_page(meta),
                                                  _contents(chapters)]
    book.html = _page(meta, "\n".join([*front, *_sections(chapters)]))
    return book


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
        note = fragment_fromstring(f'<span class="{kind}">{html.escape(link.get("href"))}</span>')
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


def _outside_resources(chapter: BookChapter) -> list[str]:
    """Embedded files that are not inside the built site, named as the page wrote them."""
    problems = []
    for element in chapter.body.iter("img", "source", "link", "object", "embed"):
        address = element.get("src") or element.get("href") or element.get("data") or ""
        in_site = posixpath.normpath(posixpath.join(posixpath.dirname(chapter.url) or ".", address))
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", address, re.I) or in_site.startswith(".."):
            problems.append(f"{chapter.url}: {element.tag} {address!r} is outside the site; "
                            "the print edition embeds only files from the built site")
    return problems


# ── the parts of the book ────────────────────────────────────────────────────
def _sections(chapters: list[BookChapter]):
    current_part = None
    first_body = True
    for chapter in chapters:
        if chapter.part and chapter.part != current_part:
            current_part = chapter.part
            yield _part_divider(chapter.part, first_body)
            first_body = False
        yield _chapter(chapter)


def _part_divider(part: str, restart_numbering: bool) -> str:
    label, _, name = part.partition(":")
    reset = " restart-numbering" if restart_numbering else ""
    return (f'<section class="part-divider{reset}" id="{_slug(part)}" data-page="{html.escape(part)}">'
            f'<p class="part-label">{html.escape(label)}</p>'
            f'<h1 class="part-title">{html.escape(name.strip() or label)}</h1></section>')


def _chapter(chapter: BookChapter) -> str:
    body = chapter.body
    body.tag = "section"
    body.attrib.clear()
    body.set("class", f"book-page {chapter.kind}")
    body.set("id", chapter.prefix)
    body.set("data-page", chapter.url)
    return etree.tostring(body, encoding="unicode", method="html")


def _contents(chapters: list[BookChapter]) -> str:
    items, part = [], None
    for chapter in chapters:
        if chapter.part and chapter.part != part:
            part = chapter.part
            items.append(f'<li class="toc-part"><a href="#{_slug(part)}">{html.escape(part)}</a></li>')
        number = f'<span class="toc-number">{chapter.number}</span> ' if chapter.number else ""
        items.append(f'<li class="toc-chapter toc-{chapter.kind}"><a href="#{chapter.prefix}">'
                     f"{number}{html.escape(chapter.title)}</a></li>")
        if chapter.kind == "chapter":
            items += [f'<li class="toc-section"><a href="#{chapter.prefix}--{anchor}">{html.escape(title)}</a></li>'
                      for anchor, title in chapter.sections if anchor != "references"]
    return f'<nav class="toc" id="contents"><h1>Contents</h1><ol>{"".join(items)}</ol></nav>'


def _cover(meta: BookMeta) -> str:
    bars = "".join(
        f'<rect x="{8 * i}" y="{60 - h}" width="5" height="{2 * h}" rx="2.5"/>'
        for i, h in enumerate(round(8 + 44 * abs(math.sin(i * 0.37) * math.cos(i * 0.11))) for i in range(60))
    )
    return f'''<section class="cover">
  <svg class="cover-wave" viewBox="0 0 480 120" role="presentation" aria-hidden="true"><g fill="#f2a65a">{bars}</g></svg>
  <h1 class="cover-title">{html.escape(meta.title)}</h1>
  <p class="cover-subtitle">{html.escape(meta.subtitle)}</p>
  <p class="cover-author">{html.escape(meta.author)}</p>
  <p class="cover-companion">{html.escape(meta.companion)}</p>
</section>'''


def _title_page(meta: BookMeta) -> str:
    return f'''<section class="title-page">
  <h1 class="title-page-title">{html.escape(meta.title)}</h1>
  <p class="title-page-subtitle">{html.escape(meta.subtitle)}</p>
  <p class="title-page-author">{html.escape(meta.author)}</p>
</section>'''


def _copyright_page(meta: BookMeta) -> str:
    return f'''<section class="copyright-page">
  <p><cite>{html.escape(meta.title)}: {html.escape(meta.subtitle)}</cite></p>
  <p>{meta.copyright}</p>
  <p>Edition {html.escape(meta.edition)}, built {html.escape(meta.date)}.</p>
  <p>{html.escape(meta.companion)}.</p>
  <p>Prices, limits and product details change; each source in the Works Cited gives the date it was read.
  Figures labelled as illustrative assumptions are not measurements.</p>
  <p>Set in Source Serif 4, Source Sans 3 and Source Code Pro (SIL Open Font License 1.1).</p>
</section>'''


def _page(meta: BookMeta, body: str) -> str:
    return f'''<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(meta.title)}: {html.escape(meta.subtitle)}</title>
<meta name="author" content="{html.escape(meta.author)}">
<meta name="description" content="{html.escape(meta.description)}">
<meta name="keywords" content="{html.escape(meta.keywords)}">
<meta name="generator" content="MkDocs, Material for MkDocs and WeasyPrint">
<meta name="dcterms.created" content="{meta.date}">
<meta name="dcterms.modified" content="{meta.date}">
<link rel="stylesheet" href="assets/fonts/fonts.css">
</head>
<body>
{body}
</body>
</html>'''


def _slug(text: str) -> str:
    return "part-" + re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
