"""The EPUB edition: one XHTML document per page of the book, from the same built site as the PDF.

The chapter extraction is shared with the print edition (assemble.py); what differs for e-readers is done here:
links point at chapter files instead of one joined document, footnotes become EPUB footnotes, and the book
carries its own reflowable stylesheet, its fonts, its diagrams and its accessibility metadata.
"""
import io
import math
import uuid
import zipfile
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from ebooklib import epub
from lxml import etree
from pygments.formatters import HtmlFormatter

from .assemble import BookChapter, LinkResolver, book_chapters, site_relative
from .files import atomic_write
from .print_book import BookMeta, PrintError

EPUB_CSS = Path(__file__).with_name("epub.css")
# lxml will not set a prefixed attribute on an HTML tree; this stand-in is renamed when the chapter is serialised.
EPUB_TYPE = "data-epub-type"
MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".woff2": "font/woff2"}


def render_epub(site_dir: Path, output: Path, meta: BookMeta, modified: datetime) -> None:
    """Write the EPUB for a built site. Like the PDF, it appears only when complete."""
    atomic_write(output, reproducible_zip(epub_bytes(site_dir, meta, modified), modified))


def epub_bytes(site_dir: Path, meta: BookMeta, modified: datetime) -> bytes:
    chapters = book_chapters(site_dir)
    resolver = LinkResolver(chapters)
    book = _book(meta, site_dir)
    stylesheet = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css",
                               content=_stylesheet(site_dir))
    book.add_item(stylesheet)
    resources: set[str] = set()
    documents, toc, part_section = [], [], None
    for chapter in chapters:
        if chapter.part and (part_section is None or part_section[0].title != chapter.part):
            part_page = _part_page(chapter.part, stylesheet)
            book.add_item(part_page)
            documents.append(part_page)
            part_section = (epub.Section(chapter.part, part_page.file_name), [])
            toc.append(part_section)
        document = _chapter_document(chapter, resolver, resources, stylesheet)
        book.add_item(document)
        documents.append(document)
        link = epub.Link(document.file_name, _label(chapter), document.id)
        (part_section[1] if chapter.part else toc).append(link)
    fonts = sorted(p.relative_to(site_dir).as_posix() for p in (site_dir / "assets" / "fonts").glob("*.woff2"))
    for path in sorted(resources):
        book.add_item(_resource(site_dir, path))
    for path in fonts:
        book.add_item(_resource(site_dir, path, f"fonts/{Path(path).name}"))
    book.toc = toc
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["cover", "nav", *documents]
    book.guide = _landmarks(chapters)
    buffer = io.BytesIO()
    epub.write_epub(buffer, book, {"mtime": modified, "epub3_landmark": True, "play_order": {"enabled": True}})
    return buffer.getvalue()


def _book(meta: BookMeta, site_dir: Path) -> epub.EpubBook:
    book = epub.EpubBook()
    book.set_identifier(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'book:' + meta.title + ':' + meta.subtitle)}")
    book.title = meta.title   # read by the navigation document's <title> and heading
    book.add_metadata("DC", "title", meta.title, {"id": "title-main"})
    book.add_metadata(None, "meta", "main", {"refines": "#title-main", "property": "title-type"})
    book.add_metadata("DC", "title", meta.subtitle, {"id": "title-sub"})
    book.add_metadata(None, "meta", "subtitle", {"refines": "#title-sub", "property": "title-type"})
    book.set_language("en")
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


def _chapter_document(chapter: BookChapter, resolver: LinkResolver, resources: set,
                      stylesheet: epub.EpubItem) -> epub.EpubHtml:
    body = chapter.body
    _link_across_files(chapter, resolver, resources)
    _epub_footnotes(body)
    _scrollable_tables(body)
    body.tag = "section"
    body.attrib.clear()
    body.set("class", f"book-page {chapter.kind}")
    # OPF ids must be XML names, which cannot start with the digit of "01-the-serving-problem".
    document = epub.EpubHtml(title=_label(chapter), file_name=f"{chapter.prefix}.xhtml", lang="en",
                             uid=f"page-{chapter.prefix}")
    document.content = etree.tostring(body, encoding="unicode", method="html").replace(f"{EPUB_TYPE}=", "epub:type=")
    document.add_item(stylesheet)
    return document


def _link_across_files(chapter: BookChapter, resolver: LinkResolver, resources: set) -> None:
    problems = []
    for element in chapter.body.iter("a", "img"):
        if element.tag == "img":
            src = site_relative(chapter.url, element.get("src", ""))
            if urlsplit(src).scheme or src.startswith(("/", "..")):
                problems.append(f"{chapter.url}: image {element.get('src')!r} is outside the site")
            element.set("src", src)
            resources.add(src)
            continue
        href = element.get("href")
        if not href:
            continue
        target = resolver.resolve(chapter.url, href)
        if target:
            prefix, anchor = target
            file = "" if prefix == chapter.prefix else f"{prefix}.xhtml"
            element.set("href", f"{file}#{anchor}" if anchor else (file or "#"))
        elif not urlsplit(href).scheme:
            problems.append(f"{chapter.url}: link to {href!r} does not resolve inside the book")
    if problems:
        raise PrintError("\n".join(problems))


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


def _part_page(part: str, stylesheet: epub.EpubItem) -> epub.EpubHtml:
    label, _, name = part.partition(":")
    slug = "".join(c if c.isalnum() else "-" for c in label.lower()).strip("-")   # "part-i"
    page = epub.EpubHtml(title=part, file_name=f"{slug}.xhtml", lang="en", uid=slug)
    page.content = (f'<section class="part-divider"><p class="part-label">{escape(label)}</p>'
                    f'<h1 class="part-title">{escape(name.strip() or label)}</h1></section>')
    page.add_item(stylesheet)
    return page


def _resource(site_dir: Path, path: str, file_name: str | None = None) -> epub.EpubItem:
    file = site_dir / path
    if not file.is_file():
        raise PrintError(f"{path}: a file the book uses is missing from the built site")
    return epub.EpubItem(uid="res-" + "".join(c if c.isalnum() else "-" for c in path), file_name=file_name or path,
                         media_type=MEDIA_TYPES.get(file.suffix, "application/octet-stream"), content=file.read_bytes())


def _stylesheet(site_dir: Path) -> str:
    fonts = (site_dir / "assets" / "fonts" / "fonts.css").read_text(encoding="utf-8").replace("url(./", "url(fonts/")
    return fonts + "\n" + EPUB_CSS.read_text(encoding="utf-8") + "\n" + \
        HtmlFormatter(style="friendly_grayscale").get_style_defs(".highlight")


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
    return marks


def _label(chapter: BookChapter) -> str:
    return f"{chapter.number}. {chapter.title}" if chapter.number else chapter.title


def _cover_svg(meta: BookMeta) -> str:
    bars = "".join(
        f'<rect x="{60 + 12 * i}" y="{330 - h}" width="7" height="{2 * h}" rx="3.5"/>'
        for i, h in enumerate(round(10 + 60 * abs(math.sin(i * 0.37) * math.cos(i * 0.11))) for i in range(40))
    )
    return f'''<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 900" role="img" aria-labelledby="t">
<title id="t">{escape(meta.title)}: {escape(meta.subtitle)}, by {escape(meta.author)}</title>
<rect width="600" height="900" fill="#1d2b4f"/>
<g fill="#f2a65a">{bars}</g>
<text x="60" y="520" font-family="sans-serif" font-size="44" font-weight="700" fill="#f5f7fb">Productionizing ML</text>
<text x="60" y="575" font-family="sans-serif" font-size="44" font-weight="700" fill="#f5f7fb">Inference APIs</text>
<text x="60" y="630" font-family="sans-serif" font-size="21" fill="#d8def0">{escape(meta.subtitle)}</text>
<text x="60" y="780" font-family="sans-serif" font-size="26" font-weight="600" fill="#f5f7fb">{escape(meta.author)}</text>
</svg>'''


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
