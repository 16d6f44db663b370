"""The shared glossary: term() for the chapters and the generated Glossary page."""
from dataclasses import dataclass, field
from html import escape

from markdown.extensions.toc import slugify

from .datafiles import DATA_DIR, FLAG, TEXT, TEXT_LIST, check_fields, load_yaml, require, where
from .errors import DataError, MacroError, closest
from .figures import call_line, line_attribute

GLOSSARY_FILE = DATA_DIR / "glossary.yml"
GLOSSARY_PAGE = "glossary.md"
FORMS = {"plural", "capital"}
FIELD_TYPES = {"term": TEXT, "definition": TEXT, "expansion": TEXT, "plural": TEXT, "expansion_plural": TEXT,
               "related": TEXT_LIST, "book1": FLAG}


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    definition: str
    expansion: str = ""
    plural: str = ""
    expansion_plural: str = ""
    related: tuple = ()
    book1: bool = False

    @property
    def anchor(self) -> str:
        return "term-" + slugify(self.term.replace("/", " "), "-")

    def short(self, plural: bool) -> str:
        return (self.plural or self.term + "s") if plural else self.term

    def long(self, plural: bool) -> str:
        """The first-use form: 'real-time factor (RTF)' for an acronym, the term itself otherwise."""
        if not self.expansion:
            return self.short(plural)
        expansion = (self.expansion_plural or self.expansion + "s") if plural else self.expansion
        return f"{expansion} ({self.short(plural)})"


@dataclass
class Glossary:
    terms: dict = field(default_factory=dict)
    anchors: dict = field(default_factory=dict)   # anchor -> term, to refuse two terms that slugify alike
    related_at: dict = field(default_factory=dict)   # term -> `file:line` of its related list, for errors

    @classmethod
    def load(cls, *paths) -> "Glossary":
        glossary = cls()
        for path in paths or (GLOSSARY_FILE,):
            entries = load_yaml(path) or []
            if not isinstance(entries, list):
                raise DataError(f"{where(path, entries)}: the glossary is a list of entries (- term: ...)")
            for index, raw in enumerate(entries):
                glossary._add(raw, path, f"entry {index + 1}", where(path, entries, index))
        glossary._check_related()
        return glossary

    def _add(self, raw: dict, path, label: str, at: str) -> None:
        require(raw, ("term", "definition"), f"{at}: {label}")
        label = f"{label} ({raw['term']})"
        unknown = set(raw) - set(FIELD_TYPES)
        if unknown:
            raise DataError(f"{where(path, raw, sorted(unknown)[0])}: {label}: unknown fields {sorted(unknown)}; "
                            f"an entry has {', '.join(FIELD_TYPES)}")
        check_fields(raw, FIELD_TYPES, path, label)
        if raw["term"] in self.terms:
            raise DataError(f"{where(path, raw, 'term')}: duplicate term {raw['term']!r}")
        term = GlossaryTerm(**{**raw, "related": tuple(raw.get("related") or ())})
        if term.anchor in self.anchors:
            raise DataError(f"{where(path, raw, 'term')}: term {term.term!r} has the same anchor as "
                            f"{self.anchors[term.anchor]!r}")
        self.anchors[term.anchor] = term.term
        self.terms[term.term] = term
        self.related_at[term.term] = where(path, raw, "related")

    def _check_related(self) -> None:
        for term in self.terms.values():
            for other in term.related:
                if other not in self.terms:
                    raise DataError(
                        f"{self.related_at[term.term]}: term {term.term!r} relates to unknown term {other!r}."
                        + closest(other, self.terms)
                    )

    def get(self, key: str) -> GlossaryTerm:
        if key not in self.terms:
            raise MacroError(f"unknown glossary term {key!r}." + closest(key, self.terms))
        return self.terms[key]


def parse_form(form: str) -> tuple[bool, bool]:
    """'plural', 'capital' or both ('plural capital') -> (plural, capital)."""
    words = set(form.split())
    if words - FORMS:
        raise MacroError(f"unknown term form {form!r}; use 'plural', 'capital' or 'plural capital'.")
    return "plural" in words, "capital" in words


def render_term(term: GlossaryTerm, first_use: bool, plural: bool, capital: bool, glossary_href: str,
                line: int = 0) -> str:
    text = term.long(plural) if first_use else term.short(plural)
    if capital:
        text = text[:1].upper() + text[1:]
    # The first use in a page is an index mark (macros/indexing.py): it carries an anchor for the Index to link to.
    mark = f' id="ix-{term.anchor}"' if first_use else ""
    return (
        f'<a class="term"{mark} href="{glossary_href}#{term.anchor}" data-term="{escape(term.term)}" '
        f'title="{escape(term.definition)}"{line_attribute(line)}>{escape(text)}</a>'
    )


def render_glossary_page(glossary: Glossary, used_in: dict) -> str:
    """The Glossary page body: letter headings, then each term with its anchor, definition and links.

    used_in maps a term to [(chapter label, relative href)] for the chapters that use it.
    """
    out, letter = [], None
    for term in sorted(glossary.terms.values(), key=lambda t: t.term.lower()):
        initial = term.term[0].upper() if term.term[0].isalpha() else "#"
        if initial != letter:
            if letter is not None:
                out.append("</dl>\n")
            letter = initial
            out.append(f"\n## {letter} {{#letter-{letter.lower() if letter != '#' else 'symbols'}}}\n\n"
                       '<dl class="glossary">')
        out.append(_entry(term, used_in.get(term.term, [])))
    out.append("</dl>\n")
    return "\n".join(out)


def _entry(term: GlossaryTerm, uses: list) -> str:
    expansion = f' <span class="glossary-expansion">{escape(term.expansion)}</span>' if term.expansion else ""
    meta = []
    if term.book1:
        meta.append('<span class="glossary-book1">Also in Book 1</span>')
    if term.related:
        links = ", ".join(f'<a href="#{GlossaryTerm(r, "").anchor}">{escape(r)}</a>' for r in term.related)
        meta.append(f"See also: {links}")
    if uses:
        meta.append("Used in: " + ", ".join(f'<a href="{href}">{escape(label)}</a>' for label, href in uses))
    meta_html = f'<p class="glossary-meta">{" · ".join(meta)}</p>' if meta else ""
    return (
        f'<dt id="{term.anchor}" data-term="{escape(term.term)}">{escape(term.term)}{expansion}</dt>'
        f"<dd><p>{escape(term.definition)}</p>{meta_html}</dd>"
    )


def macros(session) -> dict:
    def term(key: str, form: str = "") -> str:
        entry = session.glossary.get(key)
        plural, capital = parse_form(form)
        first_use = key not in session.page.terms_seen
        session.page.terms_seen.add(key)
        return render_term(entry, first_use, plural, capital, session.href(GLOSSARY_PAGE), call_line(session.page))

    def glossary_page() -> str:
        structure = session.structure
        used_in = {key: structure.chapters_using(session.page.src, lambda p, k=key: k in p.terms)
                   for key in session.glossary.terms}
        return render_glossary_page(session.glossary, used_in)

    return {"term": term, "glossary": glossary_page}
