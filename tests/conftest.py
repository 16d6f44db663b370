"""Shared fixtures: fixture books built in tmp_path, the real book built once per run, and a clean environment."""
import subprocess
from pathlib import Path

import pytest

from bookbuild import BOOK_SETTINGS, MKDOCS, ROOT, BuiltBook, build_book, clean_env, write_book

# The test books hold pages, and links to the real scripts/ and overrides/: nothing there is a test to collect.
collect_ignore_glob = ["books/*"]


@pytest.fixture(autouse=True)
def no_book_settings_from_the_shell(monkeypatch):
    """The README's deploy recipe exports SITE_URL; a test must not build a different book because of it."""
    for name in BOOK_SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def book(tmp_path):
    """book(pages, nav=None, ...) -> BuiltBook: writes a fixture book in tmp_path and builds it strictly."""
    def make(pages: dict | None = None, pdf: bool = False, **options) -> BuiltBook:
        return build_book(write_book(tmp_path / "book", pages, **options), pdf=pdf)
    return make


@pytest.fixture(scope="session")
def real_site(tmp_path_factory) -> Path:
    """The real book, built once per test run exactly as scripts/build does (site, PDF, EPUB)."""
    site = tmp_path_factory.mktemp("real") / "site"
    result = subprocess.run([MKDOCS, "build", "--strict", "-d", str(site)], cwd=ROOT, capture_output=True,
                            text=True, timeout=1800, env=clean_env({"BOOK_EDITIONS": "true"}))
    assert result.returncode == 0, result.stdout + result.stderr
    return site
