"""One build's state: the data, the book's structure, and what the page being rendered has used so far.

The macros record what they cannot resolve instead of raising, so that one build reports every bad reference on a
page at once, as `file:line: message`, and then stops before anything is written.
"""
import functools
import hashlib
import os
from pathlib import Path

from mkdocs.exceptions import PluginError

from . import book1, citations, glossary
from .datafiles import DATA_DIR
from .codeguard import protect_code, restore_code, stash_prose
from .errors import MacroError, closest
from .structure import BookStructure


# Rendered pages (code still stashed) by a key of their source and everything else they depend on.
_rendered: dict[str, str] = {}


class PageState:
    def __init__(self, src: str, markdown: str):
        self.src, self.markdown = src, markdown
        self.terms_seen: set = set()
        self.cited: list = []        # keys in order of first citation
        self.errors: list = []
        self.saved_code: list = []
        self.cache_key: str = ""
        self.from_cache = False

    def line_of(self, needle: str) -> int:
        """The first line that holds the needle, quoted as a macro argument if possible; 0 when not found."""
        lines = self.markdown.splitlines()
        for candidate in (f'"{needle}"', f"'{needle}'", needle):
            for number, line in enumerate(lines, start=1):
                if candidate in line:
                    return number
        return 0


class BookSession:
    def __init__(self, config):
        self.config = config
        self.docs_dir = Path(config["docs_dir"])
        data_dir = self._data_dir(config)
        self.glossary_file = data_dir / glossary.GLOSSARY_FILE.name
        self.bibliography_dir = data_dir / citations.BIBLIOGRAPHY_DIR.name
        self.glossary = glossary.Glossary.load(self.glossary_file)
        self.bibliography = citations.Bibliography.load(self.bibliography_dir)
        self.book1 = book1.Book1Inventory.load(data_dir / book1.BOOK1_FILE.name)
        self.book1_url = ((config.get("extra") or {}).get("book1") or {}).get("url") or ""
        try:
            self.structure = BookStructure.from_config(config)
        except MacroError as error:
            raise PluginError(str(error)) from error
        self.page: PageState | None = None
        self.fingerprint = self._fingerprint(data_dir)

    def _fingerprint(self, data_dir: Path) -> str:
        """Everything besides a page's own text that its rendering depends on: the data files, the book's shape
        (chapter numbers, figure numbers, which page uses which term and source) and the Book 1 address."""
        files = sorted((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in data_dir.rglob("*") if p.is_file())
        shape = [(p.src, p.number, p.part, p.title, sorted(p.terms), p.citations, p.figures, p.tables)
                 for p in self.structure.pages.values()]
        return hashlib.sha256(repr((files, shape, self.book1_url)).encode()).hexdigest()

    @staticmethod
    def _data_dir(config) -> Path:
        """macros/data, unless a book (a test fixture) names its own folder in extra.book_data."""
        custom = (config.get("extra") or {}).get("book_data")
        return Path(config["config_file_path"]).parent / custom if custom else DATA_DIR

    # ── page lifecycle ──────────────────────────────────────────────────────
    def start_page(self, page, markdown: str) -> str:
        self.page = PageState(page.file.src_path, markdown)
        chapter = self.structure.page(page.file.src_path)
        if chapter and chapter.number:
            page.meta.setdefault("book_label", f"Chapter {chapter.number}")
            page.meta.setdefault("book_part", chapter.part)
        protected, self.page.saved_code = protect_code(markdown)
        protected = stash_prose(protected, self.page.saved_code)
        self.page.cache_key = hashlib.sha256(f"{self.fingerprint}\n{page.file.src_path}\n{markdown}".encode()).hexdigest()
        if self.page.cache_key in _rendered:
            # Unchanged page, unchanged book: hand the plugin the finished text, which holds no Jinja, so its
            # render is nearly free. `mkdocs serve` rebuilds every page on each save; this keeps previews fast.
            self.page.from_cache = True
            return _rendered[self.page.cache_key]
        return protected

    def finish_page(self, markdown: str) -> str:
        state = self.page
        if state.errors:
            raise PluginError("\n".join(state.errors))
        if state.cited and not state.from_cache:
            sources = [self.bibliography.get(key) for key in state.cited]
            href = self.structure.href(state.src, citations.WORKS_CITED_PAGE)
            markdown += citations.render_reference_list(sources, href)
        if len(_rendered) > 500:   # a long preview session: drop old renders rather than grow without bound
            _rendered.clear()
        _rendered[state.cache_key] = markdown
        return restore_code(markdown, state.saved_code)

    def report(self, error: MacroError, needle: str) -> str:
        line = self.page.line_of(needle)
        self.page.errors.append(f"{self.source_path(self.page.src)}:{line}: {error}")
        return '<span class="macro-error"></span>'

    def source_path(self, src: str) -> str:
        """The page's file as the author finds it from the project folder (chapters/01-....md)."""
        root = Path(self.config["config_file_path"]).parent
        return os.path.relpath(self.docs_dir / src, root)

    # ── helpers for the macros ──────────────────────────────────────────────
    def href(self, to_src: str, anchor: str = "") -> str:
        return self.structure.href(self.page.src, to_src, anchor)

    def numbered(self, kind: str, item_id: str):
        item = self.structure.numbered.get(item_id)
        if not item or item.kind != kind:
            known = [i for i, n in self.structure.numbered.items() if n.kind == kind]
            raise MacroError(f"unknown {kind} id {item_id!r}." + closest(item_id, known))
        return item


def reported(macro, session: BookSession):
    """Turn a MacroError inside a macro into a `file:line: message` entry for the page, found by its first argument."""
    @functools.wraps(macro)
    def wrapper(*args, **kwargs):
        try:
            return macro(*args, **kwargs)
        except MacroError as error:
            return session.report(error, str(args[0]) if args else macro.__name__)
    return wrapper
