"""Building books for tests: a tiny mkdocs.yml that INHERITs the real one, a few pages, built like the real book.

A module of its own (not conftest.py) so that test files can import it by a name no other folder shadows.
"""
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
MKDOCS = str(Path(sys.executable).parent / "mkdocs")
QUIET = {"NO_MKDOCS_2_WARNING": "1"}  # MkDocs 1.6.x prints a banner about 2.0 on every build
DEFAULT_NAV = [
    {"Home": "index.md"},
    {"Part I: Foundations": ["one.md", "two.md"]},
    {"Back matter": ["glossary.md", "works-cited.md"]},
]
BACK_MATTER = {
    "glossary.md": "# Glossary\n\n{{ glossary() }}\n",
    "works-cited.md": "# Works Cited\n\n{{ works_cited() }}\n",
}


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

    @property
    def pdf(self) -> Path:
        return self.site / "downloads" / "productionizing-ml-inference-apis.pdf"

    def html(self, page: str) -> str:
        return (self.site / page / "index.html").read_text(encoding="utf-8")  # page "" is the landing page


def write_book(root: Path, pages: dict, nav=None, data: Path | None = FIXTURE_DATA, extra_config=None) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "assets").symlink_to(ROOT / "chapters" / "assets", target_is_directory=True)
    for name, text in {**BACK_MATTER, **pages}.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(textwrap.dedent(text), encoding="utf-8")
    config = {
        "INHERIT": str(ROOT / "mkdocs.yml"),
        "docs_dir": "docs",
        "site_dir": "site",
        "nav": nav if nav is not None else DEFAULT_NAV,
        "theme": {"name": "material", "custom_dir": str(ROOT / "overrides")},
        "hooks": [str(ROOT / "scripts" / "hooks.py")],
        "extra": {"book_data": str(data)} if data else {},
        **(extra_config or {}),
    }
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return root


def build_book(root: Path, pdf: bool = False, env=None) -> BuiltBook:
    """Build strictly; the PDF step runs only when asked, to keep the many small fixture builds fast."""
    environment = {**os.environ, **QUIET, "BOOK_EDITIONS": "true" if pdf else "false", **(env or {})}
    result = subprocess.run([MKDOCS, "build", "--strict", "-f", str(root / "mkdocs.yml")], cwd=root,
                            capture_output=True, text=True, timeout=600, env=environment)
    return BuiltBook(root, result)
