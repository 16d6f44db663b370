"""Shared fixtures: fixture books built in tmp_path, and the real book built once per run."""
import os
import subprocess
from pathlib import Path

import pytest

from bookbuild import MKDOCS, QUIET, ROOT, BuiltBook, build_book, write_book


@pytest.fixture
def book(tmp_path):
    """book(pages, nav=None, ...) -> BuiltBook: writes a fixture book in tmp_path and builds it strictly."""
    def make(pages: dict, pdf: bool = False, **options) -> BuiltBook:
        return build_book(write_book(tmp_path / "book", pages, **options), pdf=pdf)
    return make


@pytest.fixture(scope="session")
def real_site(tmp_path_factory) -> Path:
    """The real book, built once per test run exactly as scripts/build does (site, PDF)."""
    site = tmp_path_factory.mktemp("real") / "site"
    result = subprocess.run([MKDOCS, "build", "--strict", "-d", str(site)], cwd=ROOT, capture_output=True,
                            text=True, timeout=1800, env={**os.environ, **QUIET, "BOOK_EDITIONS": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    return site
