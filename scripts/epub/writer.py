"""The EPUB edition: one XHTML document per page of the book, from the same built site as the PDF.

The chapter extraction is shared with the print edition (assemble.py); what differs for e-readers is done here:
links point at chapter files instead of one joined document, footnotes become EPUB footnotes, and the book
carries its own reflowable stylesheet, its fonts, its diagrams and its accessibility metadata.

Content documents are serialised here as XML, in the XHTML namespace with the EPUB namespace declared, rather than
by ebooklib (which re-parses them as HTML, where an epub:type attribute cannot be written). Every link and SVG
file goes through the same output policy as the site (scripts/safety.py).
"""
import io
import textwrap
import uuid
import zipfile
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ebooklib import epub
from lxml import etree

from scripts.shared import highlight, safety
from scripts.shared.addresses import UniqueNames, slug
from scripts.shared.assemble import (BookChapter, LinkReport, LinkResolver, as_book_section, book_chapters, book_links,
                                     cover_wave, part_divider, site_relative_images)
from scripts.shared.files import atomic_write
from scripts.shared.markup import SVG_NAMES
from scripts.pdf.document import BookMeta, PrintError

EPUB_CSS = Path(__file__).with_name("epub.css")
XHTML, OPS, SVG = "http://www.w3.org/1999/xhtml", "http://www.idpf.org/2007/ops", "http://www.w3.org/2000/svg"
EPUB_TYPE = f"{{{OPS}}}type"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
LANGUAGE = "en"
STYLESHEET = "style.css"
# The EPUB 3.3 core media types the book can hold; any other file is refused rather than packed as an unknown type.
MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
               ".gif": "image/gif", ".webp": "image/webp", ".woff2": "font/woff2"}
RESERVED_NAMES = {"cover", "nav", "toc", "style"}
COVER_TITLE_COLUMNS = 20   # the cover's title, 44 units high, wraps at about this many characters   # the stems of the files ebooklib and this module add


def render_epub(site_dir: Path, output: Path, meta: BookMeta, modified: datetime) -> None:
    """Write the EPUB for a built site. Like the PDF, it appears only when complete."""
    atomic_write(output, reproducible_zip(epub_bytes(site_dir, meta, modified), modified))


def epub_bytes(site_dir: Path, meta: BookMeta, modified: datetime) -> bytes:
    chapters = book_chapters(site_dir, UniqueNames(RESERVED_NAMES))   # a page's name is its file's stem
    resolver = LinkResolver(chapters)
    report = LinkReport()
    book = _book(meta, site_dir)
    stylesheet = epub.EpubItem(uid="style", file_name=STYLESHEET, media_type="text/css",
                               content=_stylesheet(site_dir))
    book.add_item(stylesheet)
    resources: set[str] = set()
    documents: list[XhtmlDocument] = []
    toc: list[Any] = []
    part_section: tuple[epub.Section, list[epub.Link]] | None = None
    for chapter in chapters:
        if chapter.part and chapter.part_id and (part_section is None or part_section[0].title != chapter.part):
            part_page = _part_page(chapter.part, chapter.part_id)
            book.add_item(part_page)
            documents.append(part_page)
            part_section = (epub.Section(chapter.part, part_page.file_name), [])
            toc.append(part_section)
        document = _chapter_document(chapter, resolver, resources, report)
        book.add_item(document)
        documents.append(document)
        link = epub.Link(document.file_name, _label(chapter), document.id)
        (part_section[1] if chapter.part and part_section else toc).append(link)
    report.raise_if_any(PrintError)
    fonts = sorted(p.relative_to(site_dir).as_posix() for p in (site_dir / "assets" / "fonts").glob("*.woff2"))
    ids = UniqueNames()   # "a-b.png" and "a/b.png" are two items
    for path in sorted(resources):
        book.add_item(_resource(site_dir, path, uid=f"res-{ids.claim(path)}"))
    for path in fonts:
        book.add_item(_resource(site_dir, path, f"fonts/{Path(path).name}", uid=f"res-{ids.claim(path)}"))
    book.toc = toc
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav(title="Contents"))
    book.spine = ["cover", "nav", *documents]
    book.guide = _landmarks(chapters)
    _refuse_collisions(book)
    buffer = io.BytesIO()
    writer = BookWriter(buffer, book, {"mtime": modified, "epub3_landmark": True, "landmark_title": "Landmarks",
                                       "epub3_pages": False,   # a reflowable book has no print pages to list
                                       "play_order": {"enabled": True}})
    writer.process()
    writer.write()
    return buffer.getvalue()


class BookWriter(epub.EpubWriter):
    """ebooklib's writer, plus what it leaves out: the package document's language (Ace: epub-lang), and a table of
    contents whose nav has a meaningful id."""

    def _write_opf_file(self, root):
        root.set(XML_LANG, self.book.language)
        super()._write_opf_file(root)

    def _get_nav(self, item):
        document = etree.fromstring(super()._get_nav(item))
        document.find(f".//{{{XHTML}}}nav[@{{{OPS}}}type='toc']").set("id", "toc")
        return etree.tostring(document, encoding="utf-8", xml_declaration=True)


class XhtmlDocument(epub.EpubHtml):
    """A content document this module serialises itself (see the module's docstring)."""

    def __init__(self, uid: str, file_name: str, title: str, section: etree._Element, body_type: str = ""):
        super().__init__(uid=uid, file_name=file_name, title=title, lang=LANGUAGE)
        self.content = xhtml_document(title, section, body_type)
        if section.find(f".//{{{SVG}}}svg") is not None:
            self.properties.append("svg")

    def get_content(self, default=None) -> bytes:
        return self.content


def _refuse_collisions(book: epub.EpubBook) -> None:
    """Two items with one file name or id make a broken EPUB (a duplicate zip entry); fail instead of writing it."""
    for what, values in (("file name", [item.file_name for item in book.items]),
                         ("id", [item.id for item in book.items])):
        duplicates = sorted(value for value, count in Counter(values).items() if count > 1)
        if duplicates:
            raise PrintError(f"EPUB: two items share the {what} {', '.join(map(repr, duplicates))}")


def xhtml_document(title: str, section: etree._Element, body_type: str = "") -> bytes:
    """A complete XHTML content document around one section, with the EPUB namespace declared for epub:type
    (`body_type`, on the body: EPUB Indexes wants `index` there when the page holds more than the index)."""
    root = etree.Element(f"{{{XHTML}}}html", {"lang": LANGUAGE, XML_LANG: LANGUAGE}, nsmap={None: XHTML, "epub": OPS})
    head = etree.SubElement(root, f"{{{XHTML}}}head")
    etree.SubElement(head, f"{{{XHTML}}}title").text = title
    etree.SubElement(head, f"{{{XHTML}}}link", {"href": STYLESHEET, "rel": "stylesheet", "type": "text/css"})
    body = etree.SubElement(root, f"{{{XHTML}}}body", {EPUB_TYPE: body_type} if body_type else {})
    body.append(section)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True, doctype="<!DOCTYPE html>")


def as_xhtml(element, namespace: str = XHTML) -> etree._Element:
    """A copy of an HTML element tree (lxml.html) in the XHTML namespace, inline SVG in the SVG namespace.
    Comments are left out: they are not part of the book."""
    tag = element.tag.lower()
    namespace = SVG if tag == "svg" else namespace
    copy = etree.Element(f"{{{namespace}}}{SVG_NAMES.get(tag, tag) if namespace == SVG else tag}")
    for name, value in element.attrib.items():
        copy.set(_xml_attribute(name, namespace), value)
    copy.text = element.text
    for child in element:
        if isinstance(child.tag, str):
            converted = as_xhtml(child, namespace)
            converted.tail = child.tail
            copy.append(converted)
        elif child.tail:
            last = copy[-1] if len(copy) else None
            if last is None:
                copy.text = (copy.text or "") + child.tail
            else:
                last.tail = (last.tail or "") + child.tail
    return copy


def _xml_attribute(name: str, namespace: str) -> str:
    known = {"xml:lang": XML_LANG, "xlink:href": safety.XLINK_HREF, "epub:type": EPUB_TYPE}
    if name.startswith("{") or name in known:
        return known.get(name, name)
    if ":" in name or not name.replace("-", "a").replace("_", "a").replace(".", "a").isalnum():
        raise PrintError(f"EPUB: the attribute {name!r} cannot be written in XHTML")
    return SVG_NAMES.get(name, name) if namespace == SVG else name


def _book(meta: BookMeta, site_dir: Path) -> epub.EpubBook:
    book = epub.EpubBook()
    book.set_identifier(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'book:' + meta.title + ':' + meta.subtitle)}")
    book.title = meta.title   # read by the navigation document's <title> and heading
    book.add_metadata("DC", "title", meta.title, {"id": "title-main"})
    book.add_metadata(None, "meta", "main", {"refines": "#title-main", "property": "title-type"})
    book.add_metadata("DC", "title", meta.subtitle, {"id": "title-sub"})
    book.add_metadata(None, "meta", "subtitle", {"refines": "#title-sub", "property": "title-type"})
    book.set_language(LANGUAGE)
    book.add_author(meta.author)
    book.add_metadata("DC", "description", meta.description)
    book.add_metadata("DC", "rights", meta.copyright.replace("&copy;", "\u00a9"))
    book.add_metadata("DC", "date", meta.date)
    for subject in filter(None, (k.strip() for k in meta.keywords.split(","))):
        book.add_metadata("DC", "subject", subject)
    _accessibility_metadata(book)
    book.set_cover("cover.svg", _cover_svg(meta).encode(), create_page=True)
    return book


def _accessibility_metadata(book: epub.EpubBook) -> None:
    """EPUB Accessibility 1.1: how the book can be read, what helps, what could harm."""
    facts = [
        ("schema:accessMode", "textual"), ("schema:accessMode", "visual"),
        ("schema:accessModeSufficient", "textual"),
        ("schema:accessibilityFeature", "structuralNavigation"),
        ("schema:accessibilityFeature", "tableOfContents"),
        ("schema:accessibilityFeature", "readingOrder"),
        ("schema:accessibilityFeature", "alternativeText"),
        ("schema:accessibilityFeature", "displayTransformability"),
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary",
         "A reflowable text with a navigable table of contents, headings in order and text alternatives for every "
         "diagram; each diagram's content is also described in the surrounding text."),
    ]
    for prop, value in facts:
        book.add_metadata(None, "meta", value, {"property": prop})


def _chapter_document(chapter: BookChapter, resolver: LinkResolver, resources: set[str],
                      report: LinkReport) -> XhtmlDocument:
    resources.update(site_relative_images(chapter, report))
    _link_across_files(chapter, resolver, report)
    _epub_footnotes(chapter.body)
    _scrollable_tables(chapter.body)
    is_index = _index_semantics(chapter.body)
    section = as_book_section(chapter)
    # OPF ids must be XML names, which cannot start with the digit of "01-the-serving-problem".
    return XhtmlDocument(f"page-{chapter.prefix}", f"{chapter.prefix}.xhtml", _label(chapter), as_xhtml(section),
                         body_type="index" if is_index else "")


# The Index page's classes (macros/indexing.py) and their terms in the EPUB Indexes vocabulary.
INDEX_SEMANTICS = {
    "section.index-group": "index-group",
    "ul.index-entries": "index-entry-list",
    "ul.index-subentries": "index-entry-list",
    "li.index-entry": "index-entry",
    "span.index-term": "index-term",
    "span.index-locators": "index-locator-list",
    "a.index-locator": "index-locator",
    ".index-xref--see > a": "index-xref-preferred",
    ".index-xref--see-also > a": "index-xref-related",
}


def _index_semantics(body) -> bool:
    """Mark the Index page up in the EPUB Indexes vocabulary, for reading systems that offer index features;
    whether the page is the Index."""
    if not body.cssselect("div.book-index"):
        return False
    for selector, term in INDEX_SEMANTICS.items():
        for element in body.cssselect(selector):
            element.set(EPUB_TYPE, term)
    return True


def _link_across_files(chapter: BookChapter, resolver: LinkResolver, report: LinkReport) -> None:
    """A link into the book points at its page's file (or, on the same page, at the anchor alone)."""
    for link, target in book_links(chapter, resolver, report):
        file = "" if target.prefix == chapter.prefix else f"{target.prefix}.xhtml"
        link.set("href", f"{file}#{target.anchor}" if target.anchor else (file or "#"))


def _epub_footnotes(body) -> None:
    """Markdown footnotes as EPUB footnotes: reading systems show them as pop-ups instead of jumping away."""
    for call in body.cssselect("a.footnote-ref"):
        call.set(EPUB_TYPE, "noteref")
        call.set("role", "doc-noteref")
    for block in body.cssselect("div.footnote"):
        for note in block.cssselect("li[id]"):
            aside = etree.Element("aside", {"id": note.get("id"), EPUB_TYPE: "footnote", "role": "doc-footnote",
                                            "class": "footnote"})
            for backref in note.cssselect("a.footnote-backref"):
                backref.set("role", "doc-backlink")
            aside.extend(list(note))
            aside.text = note.text
            block.addprevious(aside)
        block.getparent().remove(block)


def _scrollable_tables(body) -> None:
    """A table too wide for a phone scrolls inside its own box instead of widening the whole page."""
    for table in body.iter("table"):
        wrapper = etree.Element("div", {"class": "table-scroll"})
        table.addprevious(wrapper)
        wrapper.tail, table.tail = table.tail, None
        wrapper.append(table)


def _part_page(part: str, name: str) -> XhtmlDocument:
    return XhtmlDocument(name, f"{name}.xhtml", part, as_xhtml(part_divider(part)))


def _resource(site_dir: Path, path: str, file_name: str | None = None, uid: str | None = None) -> epub.EpubItem:
    file = site_dir / path
    if not file.is_file():
        raise PrintError(f"{path}: a file the book uses is missing from the built site")
    media_type = MEDIA_TYPES.get(file.suffix.lower())
    if media_type is None:
        raise PrintError(f"{path}: EPUB readers are not required to show {file.suffix} files; use one of "
                         f"{', '.join(sorted(MEDIA_TYPES))}")
    if media_type == "image/svg+xml":
        problems = safety.svg_file_problems(file)
        if problems:
            raise PrintError("\n".join(f"{path}: {problem.message}" for problem in problems))
    return epub.EpubItem(uid=uid or f"res-{slug(path)}", file_name=file_name or path,
                         media_type=media_type, content=file.read_bytes())


def _stylesheet(site_dir: Path) -> str:
    fonts = (site_dir / "assets" / "fonts" / "fonts.css").read_text(encoding="utf-8").replace("url(./", "url(fonts/")
    return fonts + "\n" + EPUB_CSS.read_text(encoding="utf-8") + "\n" + highlight.css(".highlight", highlight.EPUB)


def _landmarks(chapters: list[BookChapter]) -> list[dict]:
    first_body = next((c for c in chapters if c.kind == "chapter"), chapters[0])
    marks = [{"href": "cover.xhtml", "title": "Cover", "type": "cover"},
             {"href": "nav.xhtml", "title": "Contents", "type": "toc"},
             {"href": f"{first_body.prefix}.xhtml", "title": "Start of content", "type": "bodymatter"}]
    for chapter in chapters:
        if chapter.url == "glossary/":
            marks.append({"href": f"{chapter.prefix}.xhtml", "title": "Glossary", "type": "glossary"})
        if chapter.url == "works-cited/":
            marks.append({"href": f"{chapter.prefix}.xhtml", "title": "Works Cited", "type": "bibliography"})
        if chapter.body.cssselect("div.book-index"):
            marks.append({"href": f"{chapter.prefix}.xhtml", "title": "Index", "type": "index"})
    return marks


def _label(chapter: BookChapter) -> str:
    return f"{chapter.number}. {chapter.title}" if chapter.number else chapter.title


def _cover_svg(meta: BookMeta) -> str:
    """The cover: the book's wave (as on the printed cover), its title, subtitle and author."""
    svg = etree.Element(f"{{{SVG}}}svg", {"viewBox": "0 0 600 900", "role": "img", "aria-labelledby": "t"},
                        nsmap={None: SVG})
    title = etree.SubElement(svg, f"{{{SVG}}}title", id="t")
    title.text = f"{meta.title}: {meta.subtitle}, by {meta.author}"
    etree.SubElement(svg, f"{{{SVG}}}rect", width="600", height="900", fill="#1d2b4f")
    wave = etree.SubElement(svg, f"{{{SVG}}}g", fill="#f2a65a")
    for bar in cover_wave(40, step=12, width=7, middle=330, base=10, amplitude=60, left=60):
        etree.SubElement(wave, f"{{{SVG}}}rect", x=f"{bar.x:g}", y=f"{bar.y:g}", width=f"{bar.width:g}",
                         height=f"{bar.height:g}", rx=f"{bar.width / 2:g}")
    lines = [(line, 44, "700", "#f5f7fb") for line in textwrap.wrap(meta.title, COVER_TITLE_COLUMNS)]
    lines.append((meta.subtitle, 21, "", "#d8def0"))
    y = 520
    for text, size, weight, colour in lines:
        _cover_text(svg, text, y, size, weight, colour)
        y += 55 if size == 44 else 0
    _cover_text(svg, meta.author, 780, 26, "600", "#f5f7fb")
    return etree.tostring(svg, encoding="unicode")


def _cover_text(svg: etree._Element, text: str, y: int, size: int, weight: str, colour: str) -> None:
    attributes = {"x": "60", "y": str(y), "font-family": "sans-serif", "font-size": str(size)}
    if weight:
        attributes["font-weight"] = weight
    attributes["fill"] = colour
    etree.SubElement(svg, f"{{{SVG}}}text", attributes).text = text


def reproducible_zip(data: bytes, modified: datetime) -> bytes:
    """The same EPUB with fixed timestamps, so two builds of one commit are byte-identical.

    zipfile stamps each entry with the time it was written; the mimetype entry stays first and uncompressed,
    as the EPUB container format requires.
    """
    stamp = modified.astimezone(timezone.utc).timetuple()[:6]
    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=max(stamp, (1980, 1, 1, 0, 0, 0)))
            fixed.compress_type = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()
