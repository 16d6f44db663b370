"""What a build may publish: only files that really are in docs_dir.

MkDocs copies every file under docs_dir into the site and follows symbolic links to do it, so a pull request
that adds `ln -s /proc/self/environ chapters/env.txt` would publish the build machine's environment. Every symbolic
link under docs_dir therefore fails the build, naming it.

One link is allowed, for the test fixture books (tests/bookbuild.py): a link that mirrors the real book's own
folder at the same place, such as `docs/assets -> <repository>/chapters/assets`. It can only show files the real
book publishes anyway; and in the real book such a link would have to point at itself, so there the rule lets
nothing through.
"""
import os
from pathlib import Path

from .errors import DataError

REPOSITORY = Path(__file__).resolve().parent.parent
BOOK_DOCS = REPOSITORY / "chapters"   # the real book's docs_dir (mkdocs.yml)


def check_docs_files(docs_dir: Path, project_dir: Path) -> None:
    """Fail, naming every offending path, when docs_dir holds a symbolic link other than a mirror of the book."""
    docs_dir = Path(docs_dir).absolute()
    problems = []
    for link in _links_under(docs_dir):
        if _mirrors_the_book(link, docs_dir):
            problems += [f"{_shown(inner, project_dir)}: is a symbolic link (to {os.readlink(inner)})"
                         for inner in _links_under(link.resolve())]
        else:
            problems.append(f"{_shown(link, project_dir)}: is a symbolic link (to {os.readlink(link)})")
    if problems:
        raise DataError("\n".join(f"{problem}; the book publishes only files that are really under "
                                  f"{docs_dir.name}/: copy the file there instead" for problem in problems))


def _links_under(folder: Path) -> list[Path]:
    """Every symbolic link under the folder, without following any."""
    links = []
    for directory, subdirectories, files in os.walk(folder, followlinks=False):
        links += [Path(directory) / name for name in (*subdirectories, *files) if (Path(directory) / name).is_symlink()]
    return links


def _mirrors_the_book(link: Path, docs_dir: Path) -> bool:
    book_docs = BOOK_DOCS.resolve()
    if docs_dir.resolve() == book_docs:
        return False
    mirror = book_docs / link.relative_to(docs_dir)
    return link.resolve() == mirror and mirror.resolve() == mirror


def _shown(path: Path, project_dir: Path) -> str:
    relative = os.path.relpath(path, project_dir)
    return str(path) if relative.startswith("..") else relative
