"""Book assembly: read the built site in navigation order and join it into one print document.

The site is the source of truth (ARCHITECTURE.md, "resolve once, render thrice"): chapters are taken from the
built HTML, never from Markdown. Joining pages makes their ids collide (every chapter has `fn:1`, many share
section titles), so every id gets its page's prefix and every link is rewritten to match. The PDF renders the
result; the EPUB can reuse the same chapter extraction.
"""
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

from lxml import html as lxml_html

from macros.manifest import Manifest
from lxml.html import HtmlElement

DROP = (".headerlink", ".md-content__button", ".chapter-eyebrow", "script", "form", ".md-source-file",
        ".ref-all")


@dataclass
class BookChapter:
    """One page of the book as it goes into print."""
    url: str                       # site URL path, e.g. "01-the-serving-problem/"
    prefix: str                    # id prefix, unique per page
    title: str
    number: int | None
    part: str | None
    kind: str                      # "front", "chapter" or "back"
    body: HtmlElement = None
    sections: list = field(default_factory=list)   # (anchor, title) of level-2 headings, for the contents


def book_chapters(site_dir: Path) -> list[BookChapter]:
    """Every page of the book except the landing page, in navigation order, with its article extracted."""
    chapters, seen_chapter = [], False
    for entry in Manifest.read(site_dir).chapters:
        if not entry.in_every_edition:
            continue  # the landing page is the web's front door; print has its own front matter
        seen_chapter = seen_chapter or bool(entry.number)
        kind = "chapter" if entry.number else ("back" if seen_chapter else "front")
        chapter = BookChapter(entry.url, _prefix(entry.url), entry.title, entry.number, entry.part, kind)
        chapter.body = _article(site_dir / _page_file(entry.url))
        if chapter.number:
            _label_chapter(chapter)
        chapter.sections = [(s.anchor, s.title) for s in entry.sections if s.level == 2]
        chapters.append(chapter)
    return chapters


def _prefix(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", url.strip("/").lower()) or "home"


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
    label = chapter.body.makeelement("p", {"class": "chapter-label"})
    label.text = f"Chapter {chapter.number}"
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


class LinkResolver:
    """Maps site URLs (page plus anchor) to ids in the joined document."""

    def __init__(self, chapters: list[BookChapter]):
        self.prefix_of = {chapter.url: chapter.prefix for chapter in chapters}

    def internal_target(self, page_url: str, href: str) -> str | None:
        """'#prefix--anchor' for a link into the joined document, None for an external or unknown one."""
        target = self.resolve(page_url, href)
        if target is None:
            return None
        prefix, anchor = target
        return f"#{prefix}--{anchor}" if anchor else f"#{prefix}"

    def resolve(self, page_url: str, href: str) -> tuple[str, str] | None:
        """(page prefix, anchor) for a link into the book, None for an external or unknown one."""
        if urlsplit(href).scheme or href.startswith("//"):
            return None
        path, anchor = urldefrag(href)
        if path:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page_url) or ".", path))
            target = "" if target == "." else target
            target = target + "/" if target and not target.endswith((".html", "/")) else target
            target = target.removesuffix("index.html")
        else:
            target = page_url
        prefix = self.prefix_of.get(target)
        return None if prefix is None else (prefix, anchor)


def prefix_ids_and_links(chapter: BookChapter, resolver: LinkResolver) -> list[str]:
    """Give every id the page's prefix and point every internal link at the joined document; return broken links."""
    broken = []
    for element in chapter.body.iter():
        if not isinstance(element.tag, str):
            continue
        if element.get("id"):
            element.set("id", f"{chapter.prefix}--{element.get('id')}")
        if element.tag == "a" and element.get("href"):
            href = element.get("href")
            target = resolver.internal_target(chapter.url, href)
            if target:
                element.set("href", target)
                element.set("data-internal", "")
            elif not urlsplit(href).scheme:
                broken.append(href)
        if element.tag == "img" and element.get("src"):
            element.set("src", site_relative(chapter.url, element.get("src")))
    return broken


def site_relative(page_url: str, src: str) -> str:
    if urlsplit(src).scheme or src.startswith("/"):
        return src  # left for the URL fetcher to refuse with a clear message
    return posixpath.normpath(posixpath.join(posixpath.dirname(page_url) or ".", src))
