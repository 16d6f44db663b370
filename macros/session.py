"""One build's state: the data, the book's structure, and what the page being rendered has used so far.

The macros record what they cannot resolve instead of raising, so that one build reports every bad reference on a
page at once, as `file:line: message`, and then stops before anything is written.
"""
import functools
import hashlib
import os
from collections import OrderedDict
from pathlib import Path

import lxml.html
from jinja2 import Environment
from mkdocs.exceptions import PluginError

from . import book1, citations, glossary, indexing
from .calls import MacroCall, check_template
from .datafiles import DATA_DIR, DataError, check_url
from .codeguard import protect_code, restore_code, stash_prose, stash_whole, without_placeholders
from .docsfiles import check_docs_files
from .book import BookConfig
from .errors import MacroError, closest
from .structure import BookStructure


LABS_DIR = Path(__file__).resolve().parent.parent / "labs"   # value() and chart() depend on its code


class RenderCache:
    """Rendered pages (code still stashed) by a key of their source and everything else they depend on, the least
    recently used dropped first: a long preview session keeps the pages being edited without growing unbounded."""

    def __init__(self, capacity: int = 500):
        self.capacity, self.pages = capacity, OrderedDict[str, str]()

    def get(self, key: str) -> str | None:
        if key in self.pages:
            self.pages.move_to_end(key)
        return self.pages.get(key)

    def put(self, key: str, markdown: str) -> None:
        self.pages[key] = markdown
        self.pages.move_to_end(key)
        while len(self.pages) > self.capacity:
            self.pages.popitem(last=False)


# One per process: `mkdocs serve` makes a new session on every rebuild, and reuse across rebuilds is the point.
_rendered = RenderCache()


class PageState:
    def __init__(self, src: str, markdown: str, first_line: int = 1):
        self.src, self.markdown = src, markdown
        self.first_line = first_line  # the file's line of the markdown's first line, after any front matter
        self.terms_seen: set = set()
        self.cited: list = []        # keys in order of first citation
        self.errors: list = []
        self.saved_code: list = []
        self.calls: list[MacroCall] = []   # the page's macro calls in source order, with their lines
        self.next_call = 0
        self.cache_key: str = ""
        self.from_cache = False
        self.index_marks = 0                                  # index() marks so far: the next one's id
        self.open_ranges: dict[tuple[str, str], tuple[str, int]] = {}   # (heading, sub) -> (begin's id, line)

    def file_line(self, template_line: int) -> int:
        return template_line + self.first_line - 1

    def line_of_call(self, name: str, args: tuple, kwargs: dict) -> int:
        """The source line of the call being run. Jinja runs the calls in source order, so the next recorded call
        with these arguments is this one; a call skipped on the way (a recap() body whose recap failed) does not
        shift the others. 0 for a call that was never in the page's text."""
        for index in [*range(self.next_call, len(self.calls)), *range(self.next_call)]:
            if self.calls[index].matches(name, args, kwargs):
                self.next_call = index + 1
                return self.file_line(self.calls[index].line)
        return 0


class BookSession:
    def __init__(self, config):
        self.config = config
        self.docs_dir = Path(config["docs_dir"])
        self.data_dir = data_dir = self._data_dir(config)
        self.glossary_file = data_dir / glossary.GLOSSARY_FILE.name
        self.bibliography_dir = data_dir / citations.BIBLIOGRAPHY_DIR.name
        try:   # a data mistake is one `file:line: message`, not a traceback
            self.book = BookConfig.from_mkdocs(config)
            self.book1_url = self.book.book1_url
            self.glossary = glossary.Glossary.load(self.glossary_file)
            self.bibliography = citations.Bibliography.load(self.bibliography_dir)
            self.book1 = book1.Book1Inventory.load(data_dir / book1.BOOK1_FILE.name)
            check_docs_files(self.docs_dir, Path(config["config_file_path"]).parent)
        except DataError as error:
            raise PluginError(str(error)) from error
        try:
            self.structure = BookStructure.from_config(config)
        except MacroError as error:
            raise PluginError(str(error)) from error
        self.page: PageState | None = None
        self.macros: dict = {}   # name -> function, filled by define_env: the only names a chapter may use
        self.titles_rendered = False
        self.fingerprint = self._fingerprint(data_dir)

    def _fingerprint(self, data_dir: Path) -> str:
        """Everything besides a page's own text that its rendering depends on: the data files, the book's shape
        (chapter numbers, figure numbers, which page uses which term and source), the Book 1 address, and the labs'
        code, whose values value() and chart() print."""
        sources = [p for p in data_dir.rglob("*") if p.is_file()] + sorted(LABS_DIR.glob("*.py"))
        files = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sources)
        shape = [(p.src, p.number, p.part, p.title, sorted(p.terms), p.citations, p.figures, p.tables)
                 for p in self.structure.pages.values()]
        return hashlib.sha256(repr((files, shape, self.book1_url)).encode()).hexdigest()

    @staticmethod
    def _data_dir(config) -> Path:
        """macros/data, unless a book (a test fixture) names its own folder in extra.book_data."""
        custom = (config.get("extra") or {}).get("book_data")
        return Path(config["config_file_path"]).parent / custom if custom else DATA_DIR

    # ── page lifecycle ──────────────────────────────────────────────────────
    def start_page(self, page, markdown: str, jinja: Environment) -> str:
        """The page as the plugin will render it: code and prose stashed, and only checked macro calls left."""
        if not self.titles_rendered:
            self._render_titles(jinja)
        self.page = state = PageState(page.file.src_path, markdown, _first_line(page, markdown))
        chapter = self.structure.page(page.file.src_path)
        if chapter and chapter.number:
            page.meta.setdefault("book_label", f"Chapter {chapter.number}")
            page.meta.setdefault("book_part", chapter.part)
        protected, state.saved_code = protect_code(markdown)
        protected = stash_prose(protected, state.saved_code)
        state.cache_key = hashlib.sha256(f"{self.fingerprint}\n{page.file.src_path}\n{markdown}".encode()).hexdigest()
        # Checked even for a cached page: the cache key covers the body, not the front matter.
        front_matter_problems = self._front_matter_problems(page, jinja)
        cached = _rendered.get(state.cache_key)
        if cached is not None and not front_matter_problems:
            # Unchanged page, unchanged book: hand the plugin the finished text as one placeholder, so its render
            # is nearly free (and rendered data is never read as a template). `mkdocs serve` rebuilds every page
            # on each save; this keeps previews fast.
            state.from_cache = True
            return stash_whole(cached, state.saved_code)
        state.calls, problems = check_template(jinja, protected, self.macros)
        # A first-line heading is checked with the body: report the body's problems first, not the same one twice.
        messages = [f"{state.file_line(p.line)}: {without_placeholders(p.message)}" for p in problems]
        if messages or front_matter_problems:
            where = self.source_path(state.src)
            raise PluginError("\n".join(f"{where}:{message}" for message in messages or front_matter_problems))
        return protected

    def _front_matter_problems(self, page, jinja: Environment) -> list[str]:
        """`line: message` for what mkdocs-macros takes from outside the body: it renders the page title (a front
        matter `title:`, or a first-line heading that may sit where the body's check does not look, in code) and
        passes front matter keys to the template as variables, where one named like a macro would hide it."""
        title = str(page.title or "")
        markers = (jinja.variable_start_string, jinja.block_start_string, jinja.comment_start_string)
        title_problems = check_template(jinja, title, self.macros)[1] if any(m in title for m in markers) else []
        return ([f"{self._title_line(page)}: in the page title: {p.message}" for p in title_problems]
                + [f"1: the front matter key {key!r} has the name of a macro; rename it"
                   for key in sorted(set(page.meta) & set(self.macros))])

    def _render_titles(self, jinja: Environment) -> None:
        """Chapter titles as the reader sees them, for the contents, xref.json and the editions that read it:
        a heading `# The {{ term("RTF") }} budget` becomes "The real-time factor (RTF) budget"."""
        self.titles_rendered = True
        for chapter in self.structure.pages.values():
            if "{{" in chapter.title and not check_template(jinja, chapter.title, self.macros)[1]:
                self.page = PageState(chapter.src, chapter.title)   # a scratch page: terms and citations not kept
                try:
                    chapter.title = plain_text(jinja.from_string(chapter.title).render(**self.macros))
                except MacroError:
                    pass  # the page reports it, with its line, when it renders
        self.page = None

    def _title_line(self, page) -> int:
        """The line of the page title: the front matter's `title:` or the first heading."""
        source = page.file.content_string.splitlines()
        for number, line in enumerate(source, start=1):
            if line.startswith(("title:", "# ")):
                return number
        return 1

    @property
    def current(self) -> PageState:
        """The page being rendered: macros run only between start_page and finish_page."""
        assert self.page is not None, "a macro ran outside a page"
        return self.page

    def finish_page(self, markdown: str) -> str:
        state = self.current
        where = self.source_path(state.src)
        state.errors += [f"{where}:{problem}" for problem in indexing.unclosed_ranges(state)]
        if state.errors:
            raise PluginError("\n".join(state.errors))
        if state.cited and not state.from_cache:
            sources = [self.bibliography.get(key) for key in state.cited]
            href = self.structure.href(state.src, citations.WORKS_CITED_PAGE)
            markdown += citations.render_reference_list(sources, href)
        if not state.from_cache:   # a reused render came back as its placeholder: keep the text it stands for
            _rendered.put(state.cache_key, markdown)
        return restore_code(markdown, state.saved_code)

    def report(self, error: MacroError, line: int) -> str:
        self.current.errors.append(f"{self.source_path(self.current.src)}:{line}: {error}")
        return '<span class="macro-error"></span>'

    def source_path(self, src: str) -> str:
        """The page's file as the author finds it from the project folder (chapters/01-....md)."""
        root = Path(self.config["config_file_path"]).parent
        return os.path.relpath(self.docs_dir / src, root)

    # ── helpers for the macros ──────────────────────────────────────────────
    def href(self, to_src: str, anchor: str = "") -> str:
        return self.structure.href(self.current.src, to_src, anchor)

    def numbered(self, kind: str, item_id: str):
        item = self.structure.numbered.get(item_id)
        if not item or item.kind != kind:
            known = [i for i, n in self.structure.numbered.items() if n.kind == kind]
            raise MacroError(f"unknown {kind} id {item_id!r}." + closest(item_id, known))
        return item


def reported(macro, name: str, session: BookSession):
    """Turn a MacroError inside a macro into a `file:line: message` entry for the page, at the line of the call."""
    @functools.wraps(macro)
    def wrapper(*args, **kwargs):
        line = session.current.line_of_call(name, args, kwargs)
        try:
            return macro(*args, **kwargs)
        except MacroError as error:
            return session.report(error, line)
    return wrapper


def plain_text(html: str) -> str:
    """The text a reader sees in a fragment of HTML."""
    return lxml.html.fragment_fromstring(html, create_parent="span").text_content().strip()


def _first_line(page, markdown: str) -> int:
    """The file's line number of the markdown's first line: MkDocs has cut the YAML front matter off."""
    source = page.file.content_string
    if not source.endswith(markdown):
        return 1  # another plugin changed the text; lines can only be counted from the top
    return source[: len(source) - len(markdown)].count("\n") + 1
