"""site/xref.json, the manifest: the contract between the build and the presenters.

The macros write it once the site is built; the PDF and EPUB read it to take the pages in book order; another book
can read it to check its links to this one, as this book checks Book 1's. One typed writer and one typed reader, so
a field is named in one place.
"""
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .figures import anchor

MANIFEST_FILE = "xref.json"


@dataclass(frozen=True)
class ManifestSection:
    title: str
    anchor: str
    url: str
    level: int


@dataclass(frozen=True)
class ManifestPage:
    label: str                    # "Chapter 3", or the page's navigation title
    number: int | None            # the chapter number, for pages inside a Part
    part: str | None
    title: str                    # plain text, macros already rendered
    url: str                      # site-relative, "03-gpu-optimization/"
    in_every_edition: bool        # false for the landing page, which print and EPUB replace with their front matter
    sections: tuple[ManifestSection, ...] = ()


@dataclass(frozen=True)
class ManifestItem:
    kind: str                     # "figure" or "table"
    id: str
    number: str                   # "3.2"
    url: str


@dataclass(frozen=True)
class ManifestTerm:
    term: str
    expansion: str
    url: str


@dataclass(frozen=True)
class Manifest:
    title: str
    site_url: str
    chapters: tuple[ManifestPage, ...]
    figures: tuple[ManifestItem, ...] = ()
    tables: tuple[ManifestItem, ...] = ()
    terms: tuple[ManifestTerm, ...] = field(default=())

    def write(self, site_dir: Path) -> None:
        text = json.dumps(asdict(self), indent=1, ensure_ascii=False) + "\n"
        (Path(site_dir) / MANIFEST_FILE).write_text(text, encoding="utf-8")

    @classmethod
    def read(cls, site_dir: Path) -> "Manifest":
        data = json.loads((Path(site_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
        return cls(
            title=data["title"], site_url=data["site_url"],
            chapters=tuple(ManifestPage(**{**page, "sections": tuple(ManifestSection(**s) for s in page["sections"])})
                           for page in data["chapters"]),
            figures=tuple(ManifestItem(**item) for item in data["figures"]),
            tables=tuple(ManifestItem(**item) for item in data["tables"]),
            terms=tuple(ManifestTerm(**term) for term in data["terms"]),
        )


def build_manifest(session, nav_pages, site_url: str) -> Manifest:
    structure = session.structure
    toc_by_src = {page.file.src_path: page.toc for page in nav_pages}
    chapters = []
    for page in structure.pages.values():
        url = structure.url(page.src)
        sections = tuple(ManifestSection(s.title, s.id, f"{url}#{s.id}", s.level)
                         for s in _flatten(toc_by_src.get(page.src, [])))
        chapters.append(ManifestPage(page.label, page.number, page.part, page.title, url,
                                     structure.in_every_edition(page.src), sections))
    numbered = [ManifestItem(item.kind, item.id, item.number, f"{structure.url(item.page)}#{anchor(item)}")
                for item in structure.numbered.values()]
    glossary_url = structure.url("glossary.md")
    terms = tuple(ManifestTerm(t.term, t.expansion or "", f"{glossary_url}#{t.anchor}")
                  for t in session.glossary.terms.values())
    return Manifest(session.book.title, site_url, tuple(chapters),
                    tuple(n for n in numbered if n.kind == "figure"), tuple(n for n in numbered if n.kind == "table"),
                    terms)


def _flatten(toc):
    for item in toc:
        yield item
        yield from _flatten(item.children)


def write_manifest(session, nav_pages, site_dir: Path, site_url: str) -> None:
    build_manifest(session, nav_pages, site_url).write(site_dir)
