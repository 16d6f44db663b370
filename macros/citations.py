"""The bibliography (CSL YAML, as reference managers export it), cite(), chapter reference lists, Works Cited."""
from dataclasses import dataclass
from html import escape
from pathlib import Path

from .datafiles import (ADDRESS_SCHEMES, DATA_DIR, TEXT, check_date_parts, check_fields, check_url, load_yaml, require,
                        where)
from .errors import DataError, MacroError, closest
from .figures import call_line, line_attribute

BIBLIOGRAPHY_DIR = DATA_DIR / "bibliography"
WORKS_CITED_PAGE = "works-cited.md"
CSL_TYPES = {
    "webpage", "report", "article-journal", "paper-conference", "book", "chapter", "legislation", "software",
    "post-weblog", "standard", "manuscript", "dataset", "article", "regulation", "legal_case", "speech",
}
FIELD_TYPES = {"id": TEXT, "type": TEXT, "title": TEXT, "URL": TEXT}
DATE_FIELDS = ("issued", "accessed")
NAME_PARTS = ("family", "given", "literal")
URL_FIELDS = {"URL": ADDRESS_SCHEMES[:2]}   # a CSL URL is a web page: http(s) only
MONTHS = "January February March April May June July August September October November December".split()


@dataclass(frozen=True)
class Source:
    id: str
    csl: dict
    origin: str  # the file it came from, for error messages

    @property
    def sort_key(self) -> tuple:
        return (_names(self.csl.get("author")) or self.csl.get("publisher") or self.csl["title"]).lower(), self.id


class Bibliography:
    def __init__(self, sources: dict):
        self.sources = sources

    @classmethod
    def load(cls, folder: Path = BIBLIOGRAPHY_DIR) -> "Bibliography":
        sources: dict = {}
        for path in sorted(folder.glob("*.y*ml")):
            entries = load_yaml(path) or []
            if not isinstance(entries, list):
                raise DataError(f"{where(path, entries)}: a bibliography file is a list of CSL entries (- id: ...)")
            for index, entry in enumerate(entries):
                source = _validated(entry, path, f"entry {index + 1}", where(path, entries, index))
                if source.id in sources:
                    raise DataError(
                        f"{where(path, entry, 'id')}: citation key {source.id!r} is already defined in "
                        f"{sources[source.id].origin}"
                    )
                sources[source.id] = Source(source.id, source.csl, path.name)
        return cls(sources)

    def get(self, key: str) -> Source:
        if key not in self.sources:
            raise MacroError(f"unknown citation key {key!r}." + closest(key, self.sources))
        return self.sources[key]


def _validated(entry: dict, path: Path, label: str, at: str) -> Source:
    require(entry, ("id", "type", "title"), f"{at}: {label}")
    check_fields(entry, FIELD_TYPES, path, f"{label} ({entry['id']})")
    label = f"{label} ({entry['id']})"
    if entry["type"] not in CSL_TYPES:
        raise DataError(f"{where(path, entry, 'type')}: {label}: unknown CSL type {entry['type']!r}."
                        + closest(entry["type"], CSL_TYPES))
    if not any(entry.get(f) for f in ("author", "publisher", "container-title")):
        raise DataError(f"{at}: {label}: needs an author, publisher or container-title")
    if not any(entry.get(f) for f in DATE_FIELDS):
        raise DataError(f"{at}: {label}: needs an issued or accessed date")
    _check_authors(entry, path, label)
    for field in DATE_FIELDS:
        if entry.get(field) is not None:
            _check_date(entry[field], f"{where(path, entry, field)}: {label}: {field}")
    for field, schemes in URL_FIELDS.items():
        check_url(entry.get(field, ""), f"{where(path, entry, field)}: {label}: {field}", schemes)
    return Source(str(entry["id"]), entry, f"{path.name}")


def _check_authors(entry: dict, path: Path, label: str) -> None:
    authors = entry.get("author")
    if authors is None:
        return
    expected = ("author must be a list of names, each {family: Fette, given: Ian} or {literal: IETF}, "
                "such as [{family: Fette, given: Ian}]")
    if not isinstance(authors, list):
        raise DataError(f"{where(path, entry, 'author')}: {label}: {expected}; not {authors!r}")
    for author in authors:
        parts_ok = isinstance(author, dict) and author and set(author) <= set(NAME_PARTS) and all(
            isinstance(value, str) for value in author.values())
        if not parts_ok:
            raise DataError(f"{where(path, authors, authors.index(author))}: {label}: "
                            f"{expected}; not {author!r}")


def _check_date(value, at: str) -> None:
    if isinstance(value, dict) and set(value) == {"literal"} and isinstance(value["literal"], str):
        return
    if not isinstance(value, dict) or set(value) != {"date-parts"}:
        raise DataError(f"{at} must be {{date-parts: [[year, month, day]]}} or {{literal: \"Spring 2026\"}}, "
                        f"not {value!r}")
    check_date_parts(value["date-parts"], at)


def render_citation(numbered: list[tuple[int, str]], line: int = 0) -> str:
    """[1] or [1, 4]: each number links to the entry in the chapter's reference list."""
    links = ", ".join(f'<a href="#ref-{escape(key)}" data-key="{escape(key)}">{n}</a>' for n, key in numbered)
    return f'<span class="citation"{line_attribute(line)}>[{links}]</span>'


def render_reference_list(sources: list[Source], works_cited_href: str) -> str:
    """The generated end-of-chapter list, in order of first citation."""
    items = "\n".join(
        f'<li id="ref-{escape(s.id)}" data-key="{escape(s.id)}">{format_source(s.csl)} '
        f'<a class="ref-all" href="{works_cited_href}#cite-{escape(s.id)}" title="In Works Cited">&#8599;</a></li>'
        for s in sources
    )
    return f'\n\n## References {{#references}}\n\n<ol class="references">\n{items}\n</ol>\n'


def render_works_cited(bibliography: Bibliography, cited_in: dict) -> str:
    """Every source once, alphabetically, with the chapters that cite it (cited_in: key -> [(label, href)])."""
    items = []
    for source in sorted(bibliography.sources.values(), key=lambda s: s.sort_key):
        uses = cited_in.get(source.id, [])
        where = ", ".join(f'<a href="{href}">{escape(label)}</a>' for label, href in uses)
        back = f' <span class="cited-in">Cited in {where}.</span>' if where else ""
        items.append(f'<li id="cite-{escape(source.id)}" data-key="{escape(source.id)}">'
                     f"{format_source(source.csl)}{back}</li>")
    return '<ol class="works-cited">\n' + "\n".join(items) + "\n</ol>\n"


def format_source(csl: dict) -> str:
    """One entry in a compact author-date style: Author. Title. Container or publisher, date. URL (accessed)."""
    parts = []
    names = _names(csl.get("author"))
    if names:
        parts.append(escape(names) + ".")
    title = escape(csl["title"].rstrip("."))
    standalone = csl["type"] in {"book", "report", "software", "legislation", "standard", "dataset"}
    parts.append(f"<cite>{title}</cite>." if standalone else f"\u201c{title}.\u201d")
    where = [escape(str(csl[f])) for f in ("container-title", "collection-title", "publisher", "number") if csl.get(f)]
    if csl.get("volume"):
        where.append(f"vol. {escape(str(csl['volume']))}")
    date = _date(csl.get("issued"))
    if date:
        where.append(date)
    if where:
        parts.append(", ".join(where) + ".")
    if csl.get("URL"):
        url = escape(csl["URL"])
        parts.append(f'<a class="ref-url" href="{url}">{url}</a>')
    accessed = _date(csl.get("accessed"))
    if accessed:
        parts.append(f"(accessed {accessed}).")
    return " ".join(parts)


def _names(authors) -> str:
    if not authors:
        return ""
    names = [a.get("literal") or " ".join(p for p in (a.get("given"), a.get("family")) if p) for a in authors]
    if len(names) > 3:
        return f"{names[0]} et al"
    return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]


def _date(value) -> str:
    if not value:
        return ""
    if value.get("literal"):
        return str(value["literal"])
    parts = (value.get("date-parts") or [[]])[0]
    if not parts:
        return ""
    year, month, day = (list(parts) + [None, None])[:3]
    if month and day:
        return f"{int(day)} {MONTHS[int(month) - 1]} {year}"
    if month:
        return f"{MONTHS[int(month) - 1]} {year}"
    return str(year)


def macros(session) -> dict:
    def cite(*keys: str) -> str:
        if not keys:
            raise MacroError("cite() needs at least one citation key")
        numbered = []
        for key in keys:
            session.bibliography.get(key)
            if key not in session.page.cited:
                session.page.cited.append(key)
            numbered.append((session.page.cited.index(key) + 1, key))
        return render_citation(numbered, call_line(session.page))

    def works_cited() -> str:
        structure = session.structure
        cited_in = {key: structure.chapters_using(session.page.src, lambda p, k=key: k in p.citations)
                    for key in session.bibliography.sources}
        return render_works_cited(session.bibliography, cited_in)

    return {"cite": cite, "works_cited": works_cited}
