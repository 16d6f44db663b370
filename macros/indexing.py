"""The back-of-book index: index() marks in the chapters, and the Index page made from the pages they land in.

An author writes `{{ index("WebSocket", "close codes") }}` where a concept is explained; the mark prints an empty
anchor that carries its heading. Glossary terms index themselves: term()'s first use in a page carries an anchor,
and so does each definition on the Glossary page. Once every page is rendered (MkDocs' `env` event, before any
page is written or indexed for search), `complete_index_page()` reads the marks from the rendered pages in book
order, with the section each one stands in, and writes the Index page in place of `book_index()`'s placeholder.
The web shows each locator as "Chapter 4: Section"; print replaces the same locators with the pages the marks land
on (scripts/pdf/index.py); the EPUB keeps the web's labels and adds the EPUB Indexes vocabulary.

Sorting is word by word (ISO 999): "chunk size" files before "chunking", hyphens and slashes separate words,
case and accents are ignored, and headings that start with a digit or a symbol come first.
"""
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

import lxml.html
from lxml.html import HtmlElement

from .errors import MacroError, closest
from .figures import call_line, line_attribute
from .preview import error_box

INDEX_PAGE = "book-index.md"  # the back matter page that holds book_index()
PLACEHOLDER = '<div class="book-index" data-book-index></div>'
MARK_CLASS = "index-mark"
SYMBOLS = "#"                 # the group of headings that start with a digit or a symbol
GLOSSARY_PAGE = "glossary.md"
WORD_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015/]+")
NOT_SORTED = re.compile(r"[^\w ]")


# ── The marks, as the macros write them ──────────────────────────────────────
def macros(session) -> dict:
    def index(heading: str, sub: str = "", see: str = "", see_also: str = "", begin: bool = False,
              end: bool = False) -> str:
        page = session.current
        heading, sub = index_heading(session.glossary, heading), _words(sub)
        see, see_also = (index_heading(session.glossary, target) if target.strip() else ""
                         for target in (see, see_also))
        if begin and end:
            raise MacroError("an index mark begins or ends a range, not both")
        if (begin or end) and (see or see_also):
            raise MacroError("a see or see_also reference marks no pages: it cannot begin or end a range")
        line = call_line(page)
        attributes = {"data-index": heading, "data-index-sub": sub, "data-index-see": see,
                      "data-index-see-also": see_also}
        key = (heading, sub)
        if end:
            if key not in page.open_ranges:
                raise MacroError(f"index range {_named(key)} ends here but does not begin earlier on this page; "
                                 f"mark its start with index(..., begin=True)")
            attributes["data-index-range"] = "end"
            attributes["data-index-begin"] = page.open_ranges.pop(key)[0]
        page.index_marks += 1
        mark_id = f"ix-{page.index_marks}"
        if begin:
            if key in page.open_ranges:
                raise MacroError(f"index range {_named(key)} is already open (line {page.open_ranges[key][1]})")
            page.open_ranges[key] = (mark_id, line)
            attributes["data-index-range"] = "begin"
        return render_mark(mark_id, attributes, line)

    def book_index() -> str:
        return "\n" + PLACEHOLDER + "\n"

    return {"index": index, "book_index": book_index}


def index_heading(glossary, heading: str) -> str:
    """The heading as written, spaces tidied, or the glossary term it names: "real-time factor" -> "RTF"."""
    words = _words(heading)
    if not words:
        raise MacroError("an index heading cannot be empty")
    return glossary_headings(glossary).get(words.casefold(), words)


def glossary_headings(glossary) -> dict[str, str]:
    """{a term's name or expansion, casefolded: the term}."""
    names = {}
    for term in glossary.terms.values():
        names[term.term.casefold()] = term.term
        if term.expansion:
            names.setdefault(term.expansion.casefold(), term.term)
    return names


def render_mark(mark_id: str, attributes: dict[str, str], line: int) -> str:
    data = "".join(f' {name}="{escape(value)}"' for name, value in attributes.items() if value)
    return f'<span class="{MARK_CLASS}" id="{mark_id}"{data}{line_attribute(line)}></span>'


def unclosed_ranges(page) -> list[str]:
    """`line: message` for each range a page began and never ended."""
    return [f"{line}: index range {_named(key)} begins here but never ends; close it with "
            f"index(..., end=True) before the end of the page" for key, (_, line) in page.open_ranges.items()]


def _named(key: tuple[str, str]) -> str:
    heading, sub = key
    return repr(f"{heading}, {sub}" if sub else heading)


def _words(text: str) -> str:
    return " ".join(str(text).split())


# ── Reading the marks from the rendered pages ────────────────────────────────
@dataclass(frozen=True)
class RenderedPage:
    src: str              # "04-streaming-audio-architecture.md"
    source_path: str      # the file as the author finds it, for messages
    label: str            # "Chapter 4", "Preface", "Glossary"
    html: str


@dataclass(frozen=True)
class Mark:
    heading: str
    sub: str
    page: RenderedPage
    anchor: str           # the id the mark carries on its page
    section: str          # the title of the level-2 section it stands in ("" before the first)
    line: int
    end_anchor: str = ""  # the id of the mark that ends its range
    definition: bool = False
    see: str = ""
    see_also: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.source_path}:{self.line}" if self.line else self.page.source_path


def read_marks(page: RenderedPage, glossary_page: bool = False) -> list[Mark]:
    """The page's index marks in source order, a range as one mark (its end's id in end_anchor)."""
    if not page.html.strip():
        return []
    root = lxml.html.fragment_fromstring(page.html, create_parent="div")
    marks: list[Mark] = []
    begins: dict[str, int] = {}
    section = ""
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "h2":
            section = _heading_text(element)
        elif MARK_CLASS in element.get("class", "").split():
            mark = _explicit_mark(element, page, section)
            if element.get("data-index-range") == "end":
                start = begins.get(element.get("data-index-begin", ""))
                if start is not None:
                    marks[start] = _with_end(marks[start], mark.anchor)
                continue
            if element.get("data-index-range") == "begin":
                begins[mark.anchor] = len(marks)
            marks.append(mark)
        elif element.tag == "a" and "term" in element.get("class", "").split() and element.get("id"):
            marks.append(Mark(element.get("data-term", ""), "", page, element.get("id", ""), section,
                              _line(element)))
        elif glossary_page and element.tag == "dt" and element.get("data-term") and element.get("id"):
            marks.append(Mark(element.get("data-term", ""), "", page, element.get("id", ""), "", 0,
                              definition=True))
    return marks


def _explicit_mark(element: HtmlElement, page: RenderedPage, section: str) -> Mark:
    see, see_also = element.get("data-index-see", ""), element.get("data-index-see-also", "")
    # A cross-reference marks no spot: it has no anchor to link to.
    return Mark(element.get("data-index", ""), element.get("data-index-sub", ""), page,
                "" if see or see_also else element.get("id", ""), section, _line(element), see=see,
                see_also=see_also)


def _with_end(mark: Mark, end_anchor: str) -> Mark:
    return Mark(mark.heading, mark.sub, mark.page, mark.anchor, mark.section, mark.line, end_anchor,
                mark.definition, mark.see, mark.see_also)


def _heading_text(heading: HtmlElement) -> str:
    """A heading's text as the reader sees it, without its permalink sign."""
    copy = lxml.html.fragment_fromstring(lxml.html.tostring(heading, encoding="unicode"))
    for link in copy.cssselect("a.headerlink"):
        link.drop_tree()
    return _words(copy.text_content())


def _line(element: HtmlElement) -> int:
    return int(element.get("data-line") or 0)


# ── The index: entries, sub-entries, cross-references ────────────────────────
@dataclass
class Entry:
    heading: str
    gloss: str = ""                                        # a glossary term's expansion: "RTF (real-time factor)"
    marks: list[Mark] = field(default_factory=list)
    subentries: dict[str, "Entry"] = field(default_factory=dict)
    see: list[str] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)

    def add_reference(self, kind: str, target: str) -> None:
        targets = self.see if kind == "see" else self.see_also
        if target not in targets:
            targets.append(target)

    @property
    def locator_count(self) -> int:
        return len(self.marks)


def build_index(marks: Iterable[Mark], glossary) -> dict[str, Entry]:
    """The entries by heading. Glossary terms are entries of their own (their definition is a mark), and a term's
    expansion files as a cross-reference to it: "real-time factor. See RTF"."""
    entries: dict[str, Entry] = {}

    def entry(heading: str) -> Entry:
        if heading not in entries:
            term = glossary.terms.get(heading)
            entries[heading] = Entry(heading, gloss=term.expansion if term is not None else "")
        return entries[heading]

    for mark in marks:
        main = entry(mark.heading)
        target = main if not mark.sub else main.subentries.setdefault(mark.sub, Entry(mark.sub))
        if mark.see:
            target.add_reference("see", mark.see)
        if mark.see_also:
            target.add_reference("see also", mark.see_also)
        if mark.anchor:
            target.marks.append(mark)
    for term in glossary.terms.values():
        if term.expansion and term.term in entries and term.expansion.casefold() != term.term.casefold():
            entry(term.expansion).add_reference("see", term.term)
    return entries


def reference_problems(entries: dict[str, Entry], marks: Iterable[Mark]) -> list[str]:
    """`file:line: message` for each see or see-also mark whose target is not a heading of the index."""
    problems = []
    for mark in marks:
        for kind, target in (("see", mark.see), ("see_also", mark.see_also)):
            if target and target not in entries:
                problems.append(f"{mark.where}: index {kind} target {target!r} is not a heading of the index; "
                                f"a target must be a main heading that some mark uses." + closest(target, entries))
    return problems


# ── Sorting ───────────────────────────────────────────────────────────────────
def sort_key(heading: str) -> tuple:
    """Word by word, ignoring case, accents and punctuation; digits and symbols first."""
    plain = unicodedata.normalize("NFKD", heading)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = [NOT_SORTED.sub("", word) for word in WORD_SEPARATORS.split(plain)]
    words = [word for word in words if word]
    return (0 if letter_of(heading) == SYMBOLS else 1, words, heading.casefold(), heading)


def letter_of(heading: str) -> str:
    """The group a heading files under: its first letter A to Z, or '#' for a digit or symbol."""
    plain = unicodedata.normalize("NFKD", heading.lstrip(".\"'([_"))
    first = plain[:1].upper()
    return first if "A" <= first <= "Z" else SYMBOLS


def grouped(entries: dict[str, Entry]) -> list[tuple[str, list[Entry]]]:
    groups: dict[str, list[Entry]] = {}
    for entry in sorted(entries.values(), key=lambda e: sort_key(e.heading)):
        groups.setdefault(letter_of(entry.heading), []).append(entry)
    return list(groups.items())


# ── The Index page ────────────────────────────────────────────────────────────
def entry_anchor(heading: str) -> str:
    return "index-" + (re.sub(r"[^a-z0-9]+", "-", sort_key(heading)[2]).strip("-") or "symbol")


def group_anchor(letter: str) -> str:
    return "index-letter-" + ("symbols" if letter == SYMBOLS else letter.lower())


class IndexPage:
    """The Index page's HTML: a jump bar, then the entries by letter, each locator a link to its mark."""

    def __init__(self, entries: dict[str, Entry], href):
        self.entries, self.href = entries, href      # href(page src, anchor) -> a link from the Index page
        self.anchors = _unique_anchors(entries)

    def html(self) -> str:
        groups = grouped(self.entries)
        if not groups:
            return '<div class="book-index"><p>No index entries yet.</p></div>'
        letters = {letter for letter, _ in groups}
        jump = "".join(f'<a href="#{group_anchor(letter)}">{"0–9" if letter == SYMBOLS else letter}</a>'
                       if letter in letters else f'<span aria-hidden="true">{letter}</span>'
                       for letter in [SYMBOLS, *map(chr, range(ord("A"), ord("Z") + 1))]
                       if letter != SYMBOLS or letter in letters)
        out = ['<div class="book-index">',
               f'<nav class="index-jump" aria-label="Index by letter">{jump}</nav>']
        for letter, members in groups:
            title = "Symbols and numbers" if letter == SYMBOLS else letter
            out.append(f'<section class="index-group" aria-labelledby="{group_anchor(letter)}">'
                       f'<h2 id="{group_anchor(letter)}">{title}</h2><ul class="index-entries">')
            out += [self._entry(entry, main=True) for entry in members]
            out.append("</ul></section>")
        out.append("</div>")
        return "\n".join(out)

    def _entry(self, entry: Entry, main: bool) -> str:
        name = escape(entry.heading) + (f' <span class="index-gloss">({escape(entry.gloss)})</span>'
                                        if entry.gloss else "")
        identity = (f' id="{self.anchors[entry.heading]}" data-heading="{escape(entry.heading)}"' if main
                    else f' data-heading="{escape(entry.heading)}"')
        parts = [f'<li class="index-entry"{identity}><span class="index-term">{name}</span>']
        locators = self._locators(entry.marks)
        if locators:
            parts.append(f'<span class="index-locators">, {locators}</span>')
        for kind, targets in (("See", entry.see), ("See also", entry.see_also)):
            if targets:
                links = "; ".join(f'<a href="#{self.anchors[t]}">{escape(t)}</a>' for t in sorted(targets, key=sort_key)
                                  if t in self.anchors)
                parts.append(f'<span class="index-xref index-xref--{kind.lower().replace(" ", "-")}">. '
                             f"<em>{kind}</em> {links}</span>")
        if entry.subentries:
            subs = sorted(entry.subentries.values(), key=lambda e: sort_key(e.heading))
            parts.append('<ul class="index-subentries">' + "".join(self._entry(s, main=False) for s in subs)
                         + "</ul>")
        parts.append("</li>")
        return "".join(parts)

    def _locators(self, marks: list[Mark]) -> str:
        """One link per section of a page: the web has no page numbers, and two links with one label would read as
        a repetition. Every mark stays listed in data-marks, for print to turn into its pages."""
        folded: dict[tuple[str, str], list[Mark]] = {}
        for mark in marks:
            folded.setdefault((mark.page.src, "" if mark.definition else mark.section), []).append(mark)
        links = []
        for (src, section), group in folded.items():
            first = group[0]
            label = "Glossary" if first.definition else (f"{first.page.label}: {section}" if section
                                                          else first.page.label)
            spans = " ".join(m.anchor + (f":{m.end_anchor}" if m.end_anchor else "") for m in group)
            kind = " index-locator--definition" if first.definition else ""
            links.append(f'<a class="index-locator{kind}" href="{escape(self.href(src, first.anchor))}" '
                         f'data-marks="{escape(spans)}">{escape(label)}</a>')
        return "; ".join(links)


def _unique_anchors(entries: dict[str, Entry]) -> dict[str, str]:
    anchors: dict[str, str] = {}
    taken: set[str] = set()
    for heading in sorted(entries, key=sort_key):
        anchor, n = entry_anchor(heading), 1
        while anchor in taken:
            n += 1
            anchor = f"{entry_anchor(heading)}-{n}"
        taken.add(anchor)
        anchors[heading] = anchor
    return anchors


def index_html(pages: list[RenderedPage], glossary, href) -> tuple[str, list[str]]:
    """The Index page's body for the rendered pages in book order, and the problems found (file:line: message)."""
    marks = [mark for page in pages for mark in read_marks(page, glossary_page=page.src == GLOSSARY_PAGE)]
    entries = build_index(marks, glossary)
    problems = reference_problems(entries, marks)
    return IndexPage(entries, href).html(), problems


def complete_index_page(session, pages) -> list[str]:
    """Write the Index into the page that holds book_index()'s placeholder, from every rendered page of the book.

    `pages` are MkDocs' pages, rendered (their `content` set) and not yet written. Returns the problems found, as
    `file:line: message`; the page then shows them instead of the index (what a preview keeps)."""
    by_src = {page.file.src_uri: page for page in pages}
    holder = next((page for page in pages if page.content and PLACEHOLDER in page.content), None)
    if holder is None:
        return []
    structure = session.structure
    rendered = [RenderedPage(src, session.source_path(src), book_page.label, by_src[src].content or "")
                for src, book_page in structure.pages.items()
                if src in by_src and src != holder.file.src_uri and structure.in_every_edition(src)]
    body, problems = index_html(rendered, session.glossary,
                                lambda src, anchor: structure.href(holder.file.src_uri, src, anchor))
    if problems:
        body = error_box("\n".join(problems))
    holder.content = holder.content.replace(PLACEHOLDER, body)
    return problems
