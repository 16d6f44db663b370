"""Building books for tests: a book folder under tests/books/ copied into tmp_path, a scenario's pages on top, built
like the real book.

- tests/books/small/ is the base book: a mkdocs.yml that INHERITs the real one, a Home page, two chapters in a Part,
  a glossary and a works cited page. An author opens it with `mkdocs serve -f tests/books/small/mkdocs.yml`.
- A scenario's pages that are more than a line or two live in tests/books/<scenario>/docs/ (write_book(...,
  scenario="pdf")); one-line variants stay inline in the test (write_book(..., {"one.md": "# One\\n"})).
- The copy's mkdocs.yml INHERITs the book folder's, adding only what the scenario changes (nav, data, settings), so
  the hook list, theme and extensions are always the real book's.
- Builds run in a clean environment: the shell's book settings (SITE_URL, BOOK_EDITIONS, ...) do not reach them.

A module of its own (not conftest.py) so that test files can import it by a name no other folder shadows.
"""
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import pytest
import yaml
from mkdocs.utils.yaml import yaml_load

from macros.book import BookConfig
from macros.datafiles import DATA_DIR

ROOT = Path(__file__).resolve().parent.parent
BOOKS = Path(__file__).parent / "books"
SMALL = BOOKS / "small"
FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
MKDOCS = str(Path(sys.executable).parent / "mkdocs")
QUIET = {"NO_MKDOCS_2_WARNING": "1"}  # MkDocs 1.6.x prints a banner about 2.0 on every build
# The shell settings mkdocs.yml reads through !ENV: a test that wants one passes it explicitly.
BOOK_SETTINGS = ("SITE_URL", "BOOK1_URL", "BOOK_PAGE_SIZE", "BOOK_EDITIONS", "SOURCE_DATE_EPOCH")
NOT_COPIED = shutil.ignore_patterns("site", ".cache", ".site.staging", ".site.retired")


def clean_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """os.environ without the book settings, quiet, plus what the test sets."""
    kept = {name: value for name, value in os.environ.items() if name not in BOOK_SETTINGS}
    return {**kept, **QUIET, **(env or {})}


def unavailable(message: str) -> None:
    """A checker that is not installed: skip on a workstation, fail in CI, where its absence must not pass."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class BuiltBook:
    root: Path
    result: subprocess.CompletedProcess

    @property
    def ok(self) -> bool:
        return self.result.returncode == 0

    @property
    def log(self) -> str:
        return self.result.stdout + self.result.stderr

    @property
    def site(self) -> Path:
        return self.root / "site"

    def edition(self, kind: str) -> Path:
        """site/downloads/<slug>.pdf or .epub, the slug read from this book's mkdocs.yml as the build reads it."""
        return self.site / "downloads" / book_config(self.root).edition_file(kind)

    @property
    def pdf(self) -> Path:
        return self.edition("pdf")

    @property
    def epub(self) -> Path:
        return self.edition("epub")

    def html(self, page: str) -> str:
        return (self.site / page / "index.html").read_text(encoding="utf-8")  # page "" is the landing page


def load_config(config_file: Path) -> dict[str, Any]:
    """A mkdocs.yml as MkDocs reads it: INHERIT followed, !ENV resolved."""
    with config_file.open("rb") as handle:
        return yaml_load(handle)


def book_config(root: Path) -> BookConfig:
    return BookConfig.from_mkdocs(load_config(root / "mkdocs.yml"))


def copy_book(source: Path, root: Path) -> None:
    """The book folder without its build output; its relative links become absolute, so they still resolve.
    root may be an empty folder that exists already (a test's own tmp_path)."""
    shutil.copytree(source, root, symlinks=True, ignore=NOT_COPIED, dirs_exist_ok=True)
    for link in _links_under(root):
        target = (source / link.relative_to(root)).resolve()
        link.unlink()
        link.symlink_to(target, target_is_directory=target.is_dir())


def write_book(root: Path, pages: Mapping[str, str] | None = None, nav: list | None = None,
               data: Path | None = FIXTURE_DATA, extra_config: Mapping[str, Any] | None = None,
               scenario: str | None = None, base: Path = SMALL) -> Path:
    """Copy the base book to root, add tests/books/<scenario>/docs and then `pages` over its pages, and write a
    mkdocs.yml that INHERITs the base book's. With `nav`, base pages the nav does not list are left out (the strict
    build would fail on a page outside the nav). data=None uses the real book's data (macros/data)."""
    copy_book(base, root)
    docs = root / "docs"
    if scenario:
        shutil.copytree(BOOKS / scenario / "docs", docs, dirs_exist_ok=True)
    for name, text in (pages or {}).items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(textwrap.dedent(text), encoding="utf-8")
    config: dict[str, Any] = {"INHERIT": str(base / "mkdocs.yml"),
                              "extra": {"book_data": str(data or DATA_DIR)}}
    if nav is not None:
        config["nav"] = nav
        _leave_out_unlisted_pages(docs, nav, keep={*(pages or {}), *_scenario_pages(scenario)})
    (root / "mkdocs.yml").write_text(yaml.safe_dump(_merged(config, extra_config or {}), sort_keys=False),
                                     encoding="utf-8")
    return root


def build_book(root: Path, pdf: bool = False, env: Mapping[str, str] | None = None) -> BuiltBook:
    """Build strictly; the PDF and EPUB only when asked, to keep the many small fixture builds fast."""
    environment = clean_env({"BOOK_EDITIONS": "true" if pdf else "false", **(env or {})})
    result = subprocess.run([MKDOCS, "build", "--strict", "-f", str(root / "mkdocs.yml")], cwd=root,
                            capture_output=True, text=True, timeout=600, env=environment)
    return BuiltBook(root, result)


DEFAULT_NAV = load_config(SMALL / "mkdocs.yml")["nav"]
REAL_BOOK = book_config(ROOT)   # the real book's settings (its slug names site/downloads/<slug>.pdf and .epub)


def _merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """Settings merged key by key, as MkDocs merges an INHERITed file."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _links_under(folder: Path) -> list[Path]:
    return [Path(directory) / name for directory, folders, files in os.walk(folder)
            for name in (*folders, *files) if (Path(directory) / name).is_symlink()]


def _nav_pages(nav: Any) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, Mapping):
        return set().union(*map(_nav_pages, nav.values()))
    return set().union(*map(_nav_pages, nav)) if isinstance(nav, list) else set()


def _scenario_pages(scenario: str | None) -> set[str]:
    if not scenario:
        return set()
    docs = BOOKS / scenario / "docs"
    return {str(path.relative_to(docs)) for path in docs.rglob("*.md")}


def _leave_out_unlisted_pages(docs: Path, nav: list, keep: set[str]) -> None:
    listed = _nav_pages(nav)
    for directory, _, files in os.walk(docs):   # not into docs/assets, a link to the real book's folder
        for page in (Path(directory) / name for name in files if name.endswith(".md")):
            if str(page.relative_to(docs)) not in listed | keep:
                page.unlink()
