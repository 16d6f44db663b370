"""The book's shape, read from the navigation: which page is Chapter N, and a pre-scan of what each page defines.

Numbers come from the nav, not from file names: the pages inside sections whose title starts with "Part" are the
chapters, numbered in order. The pre-scan finds figure and table ids before any page renders, so that fig() and
table() can refer forwards to a later chapter; it also lists the terms and citations each page uses, for the
Glossary and Works Cited back-links. It reads the macro calls with Jinja's own parser, configured as the macros
plugin renders the page, with code protected as the render protects it (macros/codeguard.py): the calls it finds
are the calls that run. A call that is not literal, or a page that is not valid Jinja, is left to the page's own
render, which reports it with its line.
"""
import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, TemplateSyntaxError, nodes

from .codeguard import protect_code
from .errors import MacroError

H1 = re.compile(r"^#\s+(.+?)\s*(\{.*\})?\s*$", re.M)
JINJA_OPTIONS = ("block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
                 "comment_start_string", "comment_end_string")


@dataclass
class BookPage:
    src: str                     # path under docs_dir, e.g. "01-the-serving-problem.md"
    nav_title: str | None
    part: str | None
    number: int | None = None    # chapter number, for pages inside a Part
    title: str = ""
    figures: list = field(default_factory=list)
    charts: list = field(default_factory=list)    # the figures among them that a lab draws
    tables: list = field(default_factory=list)
    terms: set = field(default_factory=set)
    citations: list = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"Chapter {self.number}" if self.number else (self.nav_title or self.title)


@dataclass(frozen=True)
class Numbered:
    """A captioned figure or table: its id, its number ("4.2") and the page that holds it."""
    kind: str
    id: str
    number: str
    page: str


class BookStructure:
    def __init__(self, pages: list[BookPage], use_directory_urls: bool = True):
        self.pages = {page.src: page for page in pages}
        self.use_directory_urls = use_directory_urls
        self.numbered: dict[str, Numbered] = {}

    @classmethod
    def from_config(cls, config) -> "BookStructure":
        pages, chapter = [], 0
        for title, src, part in _walk(config.get("nav") or []):
            page = BookPage(src, title, part)
            if part:
                chapter += 1
                page.number = chapter
            pages.append(page)
        structure = cls(pages, config.get("use_directory_urls", True))
        structure.scan(Path(config["docs_dir"]), page_jinja(config))
        return structure

    def scan(self, docs_dir: Path, jinja: Environment | None = None) -> None:
        jinja = jinja or Environment()
        for page in self.pages.values():
            path = docs_dir / page.src
            if not path.is_file():
                continue  # MkDocs itself reports a nav entry without a file
            text = path.read_text(encoding="utf-8")
            heading = H1.search(text)
            page.title = heading.group(1) if heading else page.nav_title or page.src
            calls = list(literal_calls(jinja, text))
            page.terms = {args[0] for name, args in calls if name == "term" and args}
            page.citations = [key for name, args in calls if name == "cite" for key in args]
            # A chart() is a figure drawn by a lab: numbered with the figures, in source order.
            page.figures = [args[0] for name, args in calls if name in ("figure", "chart") and args]
            page.charts = [args[0] for name, args in calls if name == "chart" and args]
            page.tables = [args[0] for name, args in calls if name == "table_caption" and args]
            self._number(page, "figure", page.figures)
            self._number(page, "table", page.tables)

    def _number(self, page: BookPage, kind: str, ids: list) -> None:
        for index, item in enumerate(ids, start=1):
            if not page.number:
                raise MacroError(f"{page.src}: {kind} {item!r} is in a page that is not a numbered chapter")
            if item in self.numbered:
                raise MacroError(f"{page.src}: {kind} id {item!r} is already used in {self.numbered[item].page}")
            self.numbered[item] = Numbered(kind, item, f"{page.number}.{index}", page.src)

    def page(self, src: str) -> BookPage | None:
        return self.pages.get(src)

    def url(self, src: str) -> str:
        """The page's URL path as MkDocs writes it."""
        stem = src[: -len(".md")]
        if not self.use_directory_urls:
            return stem + ".html"
        if stem == "index" or stem.endswith("/index"):
            return stem[: -len("index")]
        return stem + "/"

    def href(self, from_src: str, to_src: str, anchor: str = "") -> str:
        """A link from one page to another (or to an anchor on the same page), relative so the site can move."""
        fragment = f"#{anchor}" if anchor else ""
        if from_src == to_src:
            return fragment or "./"
        source_dir = posixpath.dirname(self.url(from_src)) or "."
        target = self.url(to_src)
        relative = posixpath.relpath(target or ".", source_dir)
        if target.endswith("/") or not target:
            relative = relative.rstrip("/") + "/"
        return relative + fragment

    def asset_href(self, from_src: str, asset: str) -> str:
        """A link from a page to a file under docs_dir (an image), relative to the page's URL."""
        source_dir = posixpath.dirname(self.url(from_src)) or "."
        return posixpath.relpath(asset, source_dir)

    def in_every_edition(self, src: str) -> bool:
        """Whether the PDF and EPUB hold the page too: all but the landing page, the web's front door
        (scripts/assemble.py leaves it out; print has its own front matter)."""
        return self.url(src) != ""

    def chapters_using(self, from_src: str, predicate) -> list:
        """[(label, href)] for the pages, in book order, whose pre-scan satisfies predicate. Only pages that every
        edition holds: a back-link from the Glossary to the landing page would break in the PDF and EPUB."""
        return [(page.label, self.href(from_src, page.src)) for page in self.pages.values()
                if predicate(page) and self.in_every_edition(page.src)]


def page_jinja(config) -> Environment:
    """A Jinja environment with the delimiters the macros plugin renders pages with (mkdocs.yml's j2_* options)."""
    plugin = (config.get("plugins") or {}).get("macros")
    options = getattr(plugin, "config", None) or {}
    return Environment(**{name: options[f"j2_{name}"] for name in JINJA_OPTIONS if options.get(f"j2_{name}")})


def literal_calls(jinja: Environment, text: str) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(macro name, leading string arguments) of each macro call in a page, in source order; code is not read."""
    try:
        tree = jinja.parse(protect_code(text)[0])
    except TemplateSyntaxError:
        return   # the page's render reports it, with its line
    for call in tree.find_all(nodes.Call):
        if isinstance(call.node, nodes.Name):
            args = []
            for arg in call.args:
                if not (isinstance(arg, nodes.Const) and isinstance(arg.value, str)):
                    break
                args.append(arg.value)
            yield call.node.name, tuple(args)


def _walk(items, part=None):
    for item in items:
        if isinstance(item, str):
            yield None, item, part
            continue
        (title, value), = item.items()
        if isinstance(value, list):
            yield from _walk(value, title if title.lower().startswith("part") else part)
        else:
            yield title, value, part
