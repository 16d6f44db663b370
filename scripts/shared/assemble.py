"""Book assembly: read the built site in navigation order; what the print and EPUB editions share.

The site is the source of truth (ARCHITECTURE.md, "resolve once, render thrice"): chapters are taken from the
built HTML, never from Markdown. Here, once, for both presenters:
- each page's article, its name (a `UniqueNames` claim, so no two pages or parts share one) and its ids;
- link resolution: a link into the book resolves to a page AND an anchor that page really has, or it is reported,
  naming the page (`LinkReport`): a raw `<a href="two/#missing">` fails the build as a Markdown link would;
- images: every src is rewritten site-relative, and one outside the site is reported (`site_path`);
- a part's divider, the cover's drawing, and the retagging of an article as the book's section.
Each presenter then does only what is specific to its format (one joined document, or one file per page).
"""
import math
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag

from lxml import html as lxml_html
from lxml.html import HtmlElement
from lxml.html import builder as E

from macros.manifest import Manifest
from scripts.shared import safety
from scripts.shared.addresses import UniqueNames, site_path

DROP = (".headerlink", ".md-content__button", ".chapter-eyebrow", "script", "form", ".md-source-file", ".web-only",
        ".ref-all")


@dataclass
class BookChapter:
    """One page of the book as it goes into print."""
    url: str                       # site URL path, e.g. "01-the-serving-problem/"
    prefix: str                    # the page's name: its id prefix in print, its file's stem in the EPUB
    title: str
    number: int | None
    part: str | None
    kind: str                      # "front", "chapter" or "back"
    body: HtmlElement
    part_id: str | None = None     # the name of its part's divider
    ids: frozenset[str] = frozenset()                               # the ids the page's article has
    sections: list[tuple[str, str]] = field(default_factory=list)   # (anchor, title) of level-2 headings


def book_chapters(site_dir: Path, names: UniqueNames | None = None) -> list[BookChapter]:
    """Every page of the book except the landing page, in navigation order, with its article extracted.

    Pages and parts are named from `names` (the caller's namespace: an EPUB reserves its own files' names)."""
    names = names or UniqueNames()
    chapters: list[BookChapter] = []
    seen_chapter, part, part_id = False, None, None
    for entry in Manifest.read(site_dir).chapters:
        if not entry.in_every_edition:
            continue  # the landing page is the web's front door; print has its own front matter
        seen_chapter = seen_chapter or bool(entry.number)
        kind = "chapter" if entry.number else ("back" if seen_chapter else "front")
        if entry.part and entry.part != part:
            part_id = names.claim(part_label(entry.part)[0])     # "Part I: Foundations" -> "part-i"
        part = entry.part
        body = _article(site_dir / _page_file(entry.url))
        chapter = BookChapter(entry.url, names.claim(entry.url), entry.title, entry.number, entry.part, kind, body,
                              part_id if part else None, frozenset(str(i) for i in body.xpath(".//@id")))
        if chapter.number:
            _label_chapter(chapter)
        chapter.sections = [(s.anchor, s.title) for s in entry.sections if s.level == 2]
        chapters.append(chapter)
    return chapters


def _page_file(url: str) -> str:
    return url + "index.html" if url.endswith("/") or not url else url


def _article(path: Path) -> HtmlElement:
    document = lxml_html.parse(str(path)).getroot()
    article = document.cssselect("article.md-content__inner")[0]
    for selector in DROP:
        for element in article.cssselect(selector):
            _remove(element)
    return article


def _label_chapter(chapter: BookChapter) -> None:
    """'Chapter 3' above the title, as the web's eyebrow shows it (the eyebrow itself is theme chrome)."""
    label = E.P(E.CLASS("chapter-label"), f"Chapter {chapter.number}")
    chapter.body.find(".//h1").addprevious(label)


def _remove(element: HtmlElement) -> None:
    """Remove an element but keep its tail text (lxml attaches following text to the element)."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


# ── Links and images ─────────────────────────────────────────────────────────
@dataclass(frozen=True)
class LinkTarget:
    prefix: str        # the target page's name
    anchor: str        # "" for the page itself


class LinkResolver:
    """Maps site URLs (page plus anchor) to the book's pages, checking that the anchor exists on its page."""

    def __init__(self, chapters: list[BookChapter]) -> None:
        self.chapters = {chapter.url: chapter for chapter in chapters}

    def resolve(self, page_url: str, href: str) -> LinkTarget | None:
        """The page and anchor of a link into the book; None for an external link or one to no page of the book."""
        if safety.scheme_of(href) or safety.is_remote(href):
            return None
        path, anchor = urldefrag(href)
        target = site_path(page_url, path) if path else page_url
        if target is None:
            return None
        target = target.removesuffix("index.html")
        if target and not target.endswith((".html", "/")):
            target += "/"
        chapter = self.chapters.get(target)
        return None if chapter is None else LinkTarget(chapter.prefix, anchor)

    def missing_anchor(self, target: LinkTarget) -> bool:
        chapter = next(c for c in self.chapters.values() if c.prefix == target.prefix)
        return bool(target.anchor) and target.anchor not in chapter.ids


@dataclass
class LinkReport:
    """What cannot go into an edition, one line per problem, each naming the page: raised all at once."""
    problems: list[str] = field(default_factory=list)

    def add(self, page_url: str, problem: str) -> None:
        self.problems.append(f"{page_url}: {problem}")

    def raise_if_any(self, error: type[Exception]) -> None:
        if self.problems:
            raise error("\n".join(self.problems))


def book_links(chapter: BookChapter, resolver: LinkResolver,
               report: LinkReport) -> list[tuple[HtmlElement, LinkTarget]]:
    """The page's links into the book with their targets; every other link that is not a safe outside address,
    and every link to an anchor its page does not have, goes into the report."""
    links = []
    for link in chapter.body.iter("a"):
        href = link.get("href")
        if not href:
            continue
        target = resolver.resolve(chapter.url, href)
        if target is not None and resolver.missing_anchor(target):
            report.add(chapter.url, f"link to {href!r}: the page it points to has no anchor #{target.anchor}")
        elif target is not None:
            links.append((link, target))
        elif not safety.is_safe_url(href):
            report.add(chapter.url, f"unsafe URL {href!r}: only http, https, mailto and relative URLs")
        elif not safety.scheme_of(href):
            report.add(chapter.url, f"link to {href!r} does not resolve inside the book")
    return links


def site_relative_images(chapter: BookChapter, report: LinkReport) -> set[str]:
    """Point every embedded file of the page (img, source...) at its site-relative path; return those paths.
    An address outside the site is reported: the editions embed only files from the built site."""
    used = set()
    for element in chapter.body.iter("img", "source", "link", "object", "embed"):
        attribute = "src" if element.tag in ("img", "source", "embed") else "href" if element.tag == "link" else "data"
        address = element.get(attribute)
        if address is None:
            continue
        path = site_path(chapter.url, address)
        if path is None:
            report.add(chapter.url, f"{element.tag} {address!r} is outside the site; "
                                    "the editions embed only files from the built site")
            continue
        element.set(attribute, path)
        used.add(path)
    return used


# ── What both editions draw the same way ─────────────────────────────────────
def as_book_section(chapter: BookChapter) -> HtmlElement:
    """The page's article, retagged as the book's section for its page (its theme attributes dropped)."""
    body = chapter.body
    body.tag = "section"
    body.attrib.clear()
    body.set("class", f"book-page {chapter.kind}")
    return body


def part_label(part: str) -> tuple[str, str]:
    """"Part I: Foundations" -> ("Part I", "Foundations"); a part without a name is its label."""
    label, _, name = part.partition(":")
    return label, name.strip() or label


def part_divider(part: str) -> HtmlElement:
    label, name = part_label(part)
    return E.SECTION(E.CLASS("part-divider"), E.P(E.CLASS("part-label"), label), E.H1(E.CLASS("part-title"), name))


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float


def cover_wave(count: int, step: float, width: float, middle: float, base: float, amplitude: float,
               left: float = 0) -> list[Bar]:
    """The cover's drawing: rounded bars of a sound wave around a middle line (the book serves models that answer);
    the same wave on the printed cover and the EPUB's, at each one's size."""
    heights = [round(base + amplitude * abs(math.sin(i * 0.37) * math.cos(i * 0.11))) for i in range(count)]
    return [Bar(left + step * i, middle - h, width, 2 * h) for i, h in enumerate(heights)]
