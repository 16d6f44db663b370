"""Names and addresses the presenters share: one slug rule, one namespace of unique names, one "inside the site" rule.

- `slug`: the readable form of a page URL or a title ("01-the-serving-problem/" -> "01-the-serving-problem").
  It is lossy ("a-b/" and "a/b/" both read "a-b"), so nothing uses it to name a thing directly: names are claimed
  from a `UniqueNames`, which numbers a second claim of the same slug, so no page can take another's ids or file.
- `site_path`: where an address written in a page points inside the built site, or None when it leaves the site
  (a scheme, an absolute path, a "../" above the site's root). The print fetcher, the assembly of images, the EPUB's
  files and the site's SVG check all ask this one question.
"""
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scripts.shared.safety import is_remote

NOT_IN_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """Lower-case letters and digits, each run of anything else one hyphen; never "--" (print joins a page's name
    and an anchor with it) and never empty."""
    return NOT_IN_SLUG.sub("-", text.lower()).strip("-") or "page"


class UniqueNames:
    """Names in one namespace (the ids of one print document, the files of one EPUB, the social cards of one site):
    each claim gets the slug of what it names, numbered when that slug is taken, so two things never share a name."""

    def __init__(self, reserved: Iterable[str] = ()) -> None:
        self.taken: set[str] = set(reserved)

    def claim(self, text: str) -> str:
        stem = slug(text)
        unique, number = stem, 1
        while unique in self.taken:
            number += 1
            unique = f"{stem}-{number}"
        self.taken.add(unique)
        return unique


def site_path(page_url: str, address: str) -> str | None:
    """The site-relative path an address in the page at `page_url` points to ("" for the site's root), or None
    when it points outside the built site: another host, a scheme (file:, data:...), an absolute path, or above
    the site's root. Query and fragment are not part of the path."""
    if not address or is_remote(address) or address.startswith(("/", "\\")):
        return None
    path = unquote(urlsplit(address).path)
    if not path:
        return page_url
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page_url) or ".", path))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined + "/" if path.endswith("/") else joined


def file_in_site(site_dir: Path, file: Path) -> str | None:
    """The site-relative path of a file on disk, or None when it is not inside the site folder (symbolic links
    resolved, so a link cannot lead out)."""
    root, resolved = site_dir.resolve(), file.resolve()
    if not resolved.is_relative_to(root):
        return None
    return site_path("", resolved.relative_to(root).as_posix())
