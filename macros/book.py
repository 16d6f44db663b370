"""The book's identity and edition settings: read once from mkdocs.yml, validated, and the one place every name,
file name and print setting derives from (the macros, the site, the PDF, the EPUB, the `book` command).

Changing `extra.book.slug` renames both editions and every link to them; nothing else spells the slug out.
"""
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .datafiles import check_url
from .errors import DataError

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PAGE_SIZES = ("7in 9.25in", "A4", "Letter")        # the trim sizes print.css is laid out for
EDITION_SETTINGS = ("auto", "true", "false")       # auto: written by `mkdocs build`, not by `mkdocs serve`
EDITION_KINDS = {"pdf": "application/pdf", "epub": "application/epub+zip"}
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


@dataclass(frozen=True)
class BookConfig:
    title: str
    subtitle: str
    author: str
    slug: str
    keywords: tuple[str, ...]
    description: str
    copyright: str
    edition: str                 # the project's version, from pyproject.toml
    page_size: str               # the PDF's trim size
    editions: str                # "auto", "true" or "false": whether a build writes the PDF and EPUB
    book1_title: str
    book1_subtitle: str
    book1_url: str               # the hosted Book 1, or "" to render Book 1 references as citations

    @classmethod
    def from_mkdocs(cls, config: Mapping[str, Any]) -> "BookConfig":
        """Read and check the book's settings; a bad one raises DataError naming its key in mkdocs.yml."""
        extra = config.get("extra") or {}
        book, book1, printing = (_section(extra, name) for name in ("book", "book1", "print"))
        slug = _text(book, "slug", "extra.book.slug")
        if not SLUG.fullmatch(slug):
            raise DataError(f"mkdocs.yml: extra.book.slug {slug!r} must be lower-case words joined by hyphens "
                            "(it names the PDF and EPUB files)")
        book1_url = str(book1.get("url") or "")
        if book1_url:
            check_url(book1_url, "mkdocs.yml: extra.book1.url")
        return cls(
            title=str(config["site_name"]),
            subtitle=_text(book, "subtitle", "extra.book.subtitle"),
            author=str(config.get("site_author") or _text(book, "author", "extra.book.author")),
            slug=slug,
            keywords=tuple(str(k) for k in book.get("keywords") or ()),
            description=str(config.get("site_description") or ""),
            copyright=str(config.get("copyright") or ""),
            edition=project_version(),
            page_size=_choice(printing.get("page_size", PAGE_SIZES[0]), PAGE_SIZES, "extra.print.page_size"),
            editions=_choice(str(book.get("editions", "auto")).lower(), EDITION_SETTINGS, "extra.book.editions"),
            book1_title=_text(book1, "title", "extra.book1.title"),
            book1_subtitle=str(book1.get("subtitle") or ""),
            book1_url=book1_url,
        )

    def edition_file(self, kind: str) -> str:
        """"productionizing-ml-inference-apis.pdf": the file name of the PDF or EPUB edition."""
        if kind not in EDITION_KINDS:
            raise ValueError(f"no edition {kind!r}")
        return f"{self.slug}.{kind}"

    @property
    def pdf_name(self) -> str:
        return self.edition_file("pdf")

    @property
    def epub_name(self) -> str:
        return self.edition_file("epub")

    @property
    def companion(self) -> str:
        """"A companion to Before the 3 AM Alert: What Every Developer Should Know About API Performance"."""
        return f"A companion to {self.book1_title}" + (f": {self.book1_subtitle}" if self.book1_subtitle else "")

    def writes_editions(self, command: str) -> bool:
        return self.editions == "true" or (self.editions == "auto" and command != "serve")


def project_version() -> str:
    """The edition printed on the copyright page: the version in pyproject.toml, where the project declares it."""
    with PYPROJECT.open("rb") as handle:
        return str(tomllib.load(handle)["project"]["version"])


def _section(extra: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = extra.get(name) or {}
    if not isinstance(section, Mapping):
        raise DataError(f"mkdocs.yml: extra.{name} must be a mapping of settings")
    return section


def _text(section: Mapping[str, Any], key: str, where: str) -> str:
    value = section.get(key.rsplit(".", 1)[-1])
    if not isinstance(value, str) or not value.strip():
        raise DataError(f"mkdocs.yml: {where} must be set to a non-empty text")
    return value


def _choice(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise DataError(f"mkdocs.yml: {where} {value!r} is not one of {', '.join(map(repr, allowed))}")
    return str(value)
