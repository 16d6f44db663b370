"""The book's own rules, run by `book check` over the site a strict build has just made. Each rule is a small
function that returns findings; a finding names the file and line and says what to do.

The rules read the built HTML (lxml), where the macros have already marked up what they resolved: terms carry
`data-term`, citations `data-key`, figures and tables their ids and numbers, references `data-ref`, and each of
them `data-line`, the line of the macro call in the chapter. Where the markup has no line (a heading, a word of
prose), the text is located in the chapter's source; the Markdown is never parsed again.

Errors fail the check. Warnings are reported without failing: a glossary term or source that no chapter uses yet
is expected while later chapters are unwritten.
"""
import posixpath
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lxml.html import HtmlElement

from macros.citations import WORKS_CITED_PAGE
from macros.codeguard import mask_code
from macros.glossary import GLOSSARY_PAGE
from macros.indexing import INDEX_PAGE
from macros.reference import REFERENCE_PAGE
from macros.session import BookSession
from scripts.shared.reading import GENERATED, page_article, page_file

ROOT = Path(__file__).resolve().parents[2]
WORD_LIST = Path(__file__).with_name("wordlist.txt")
PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|lorem ipsum", re.I)
OPENING, CLOSING = "What you will learn", "Summary"
HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
CODE = {"pre", "code", "kbd", "samp", "script", "style"}    # text in these is not prose
NOT_BARE = CODE | set(HEADINGS) | {"a"}      # an acronym here is not a bare use: code, a heading, a link's text
CODESPELL_FOUND_MISSPELLINGS = 65            # codespell's exit status when it worked and found something


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.path}:{self.line}: {tag}{self.message}"


class CheckError(Exception):
    """A check that could not run (a tool failed, a file is missing): `book check` fails with this message."""


@dataclass
class BuiltPage:
    """A chapter as the rules see it: its article in the built site, and its source, to name lines."""
    path: str                 # the source as the author finds it, e.g. chapters/01-the-serving-problem.md
    source: str
    article: HtmlElement
    numbered: bool

    def line_of(self, element: HtmlElement, *needles: str) -> int:
        """The source line of an element: its own `data-line`, else the first needle found in the source."""
        marked = element.get("data-line") or next((e.get("data-line") for e in element.iterdescendants()
                                                   if e.get("data-line")), None)
        if marked:
            return int(marked)
        return self.locate(*needles)

    def locate(self, *needles: str, heading: bool = False, after: int = 0) -> int:
        """The first line of the source (code blanked out) that holds a needle, looking below line `after` first;
        a heading prefers a line that starts with '#'. 1 when no needle is found."""
        lines = list(enumerate(mask_code(self.source).splitlines(), start=1))
        for needle in (n.strip() for n in needles if n.strip()):
            for candidates in (lines[after:], lines):
                found = [number for number, line in candidates if needle in line]
                starts = [number for number in found if lines[number - 1][1].lstrip().startswith("#")]
                if found:
                    return (starts if heading and starts else found)[0]
        return 1


def built_pages(session: BookSession, site_dir: Path) -> list[BuiltPage]:
    """The chapters (every page but the landing page and the back matter the build generates: the Glossary, Works
    Cited, the Reference System and the Index, whose text comes from macros/data and the marks), in navigation
    order."""
    pages = []
    for page in session.structure.pages.values():
        file = session.docs_dir / page.src
        if (not file.is_file() or not session.structure.in_every_edition(page.src)
                or page.src in (GLOSSARY_PAGE, WORKS_CITED_PAGE, REFERENCE_PAGE, INDEX_PAGE)):
            continue
        article = page_article(page_file(site_dir, session.structure.url(page.src)))
        pages.append(BuiltPage(session.source_path(page.src), file.read_text(encoding="utf-8"), article,
                               bool(page.number)))
    return pages


def text_pieces(element: HtmlElement, exempt: set[str], inside: bool = False) -> Iterator[tuple[str, bool]]:
    """Every piece of text under element in reading order, each with whether it sits inside an exempt tag."""
    inside = inside or element.tag in exempt
    if element.text and isinstance(element.tag, str):     # a comment's text is not shown
        yield element.text, inside
    for child in element:
        yield from text_pieces(child, exempt, inside)
        if child.tail:
            yield child.tail, inside


def _line_around(text: str, start: int, end: int) -> str:
    """The line of a text node around a match: Markdown keeps a paragraph's line breaks, so it is in the source."""
    return text[text.rfind("\n", 0, start) + 1: (text.find("\n", end) + 1 or len(text) + 1) - 1]


# ── rules over one chapter ───────────────────────────────────────────────────
def bare_acronyms(page: BuiltPage, acronyms: set[str]) -> list[Finding]:
    """An acronym written bare before term() has introduced it in this chapter, so it is never expanded."""
    findings, introduced, reported = [], set(), set()
    patterns = {a: re.compile(rf"(?<![\w/-]){re.escape(a)}(?![\w/-])") for a in acronyms}
    for kind, value in _terms_and_bare_text(page.article):
        if kind == "term":
            introduced.add(value)
            continue
        for acronym, pattern in sorted(patterns.items()):
            match = pattern.search(value)
            if match and acronym not in introduced and acronym not in reported:
                reported.add(acronym)
                line = page.locate(_line_around(value, match.start(), match.end()), acronym)
                findings.append(Finding(page.path, line, f"'{acronym}' is used before the chapter introduces it: "
                                        f"write {{{{ term(\"{acronym}\") }}}} at its first use"))
    return findings


def _terms_and_bare_text(element: HtmlElement, inside: bool = False) -> Iterator[tuple[str, str]]:
    """In reading order: ("term", key) where a term() is, ("text", text) for prose an acronym may be bare in."""
    if element.get("data-term") and "term" in (element.get("class") or "").split():
        yield "term", element.get("data-term", "")
    # A source's title in the generated reference list is the source's wording, not the chapter's.
    inside = inside or element.tag in NOT_BARE or (element.tag == "ol" and "references" in element.get("class", ""))
    if element.text and isinstance(element.tag, str) and not inside:
        yield "text", element.text
    for child in element:
        yield from _terms_and_bare_text(child, inside)
        if child.tail and not inside:
            yield "text", child.tail


def _headings(article: HtmlElement) -> list[tuple[HtmlElement, int, str]]:
    """(element, level, text) of the author's headings, in order: the generated References heading left out."""
    generated = [e for selector in GENERATED for e in article.cssselect(selector)]   # kept alive: lxml then
    return [(h, int(h.tag[1]), h.text_content().rstrip("¶").strip())                  # hands out the same proxies
            for h in article.iter(*HEADINGS) if not any(h is g for g in generated)]


def heading_structure(page: BuiltPage) -> list[Finding]:
    findings: list[Finding] = []
    headings: list[tuple[int, int, str]] = []     # (line, level, title)
    previous = 0
    for element, level, title in _headings(page.article):
        after = headings[-1][0] if headings else 0    # headings come in source order: a repeated title is found
        line = page.line_of(element) if _marked(element) else page.locate(title, heading=True, after=after)
        headings.append((line, level, title))
    for line, level, _ in headings:
        if previous and level > previous + 1:
            findings.append(Finding(page.path, line, f"heading level {level} follows level {previous}: "
                                    "a level is skipped"))
        previous = level
    if page.numbered:
        sections = [(line, title) for line, level, title in headings if level == 2]
        if not sections or sections[0][1] != OPENING:
            findings.append(Finding(page.path, sections[0][0] if sections else 1,
                                    f"a chapter opens with '## {OPENING}'"))
        if not sections or sections[-1][1] != CLOSING:
            findings.append(Finding(page.path, sections[-1][0] if sections else 1,
                                    f"a chapter ends with '## {CLOSING}' (key takeaways, what to measure, up next)"))
    return findings


def _marked(element: HtmlElement) -> bool:
    """Whether a macro call inside the element (a term() in a heading) gives its source line."""
    return any(e.get("data-line") for e in element.iter())


def placeholders(page: BuiltPage) -> list[Finding]:
    findings = []
    for text, in_code in text_pieces(page.article, CODE):
        if in_code:
            continue
        for match in PLACEHOLDER.finditer(text):
            line = page.locate(_line_around(text, match.start(), match.end()), match.group(0))
            findings.append(Finding(page.path, line, f"placeholder '{match.group(0)}' left in the text"))
    return findings


def images(page: BuiltPage) -> list[Finding]:
    """Every image is a numbered figure with a caption and alt text (figure() makes sure of both)."""
    findings: list[Finding] = []
    for image in page.article.iter("img"):
        if any("numbered-figure" in (a.get("class") or "").split() for a in image.iterancestors("figure")):
            continue
        after = findings[-1].line if findings else 0   # images come in source order: the same file twice is found
        line = page.locate(posixpath.basename(image.get("src") or ""), image.get("alt") or "", after=after)
        findings.append(Finding(page.path, line,
                                "an image without a number or caption: use {{ figure(id, src, caption, alt=...) }}"
                                + ("" if (image.get("alt") or "").strip() else "; it also has no alt text")))
    return findings


# ── rules over the whole book ────────────────────────────────────────────────
def unreferenced_numbered(pages: list[BuiltPage]) -> list[Finding]:
    referenced = {a.get("data-ref") for page in pages for a in page.article.cssselect("a.xref-figure, a.xref-table")}
    findings = []
    for page in pages:
        for element in page.article.cssselect("figure.numbered-figure[id], p.table-caption[id]"):
            if element.get("id") in referenced:
                continue
            kind, call = ("figure", "fig") if element.tag == "figure" else ("table", "table")
            item_id = element.get("id", "").split("-", 1)[1]
            findings.append(Finding(page.path, page.line_of(element, f'"{item_id}"'),
                                    f"{kind} '{item_id}' ({element.get('data-number')}) is never referred to: "
                                    f"add {{{{ {call}(\"{item_id}\") }}}} in the text"))
    return findings


# ── the index ────────────────────────────────────────────────────────────────
MANY_LOCATORS = 8   # more places than a reader will follow without a subheading to choose by


def index_entries(session: BookSession, site_dir: Path) -> list[HtmlElement]:
    """The main entries of the built Index page (none when the book has no Index)."""
    if INDEX_PAGE not in session.structure.pages:
        return []
    file = page_file(site_dir, session.structure.url(INDEX_PAGE))
    return page_article(file).cssselect("li.index-entry[id]") if file.is_file() else []


def mark_lines(pages: list[BuiltPage]) -> dict[str, tuple[str, int]]:
    """Where each index heading is first marked: {heading: (file, line)}."""
    found: dict[str, tuple[str, int]] = {}
    for page in pages:
        for mark in page.article.cssselect("span.index-mark[data-index]"):
            found.setdefault(mark.get("data-index", ""), (page.path, page.line_of(mark)))
    return found


def index_quality(session: BookSession, site_dir: Path, pages: list[BuiltPage]) -> list[Finding]:
    """Warnings a good index would not earn: two headings that differ only in case, punctuation or a plural, and an
    entry with many locators but no subheadings to tell them apart."""
    entries = index_entries(session, site_dir)
    marked = mark_lines(pages)
    glossary_text = session.glossary_file.read_text(encoding="utf-8")

    def where(heading: str) -> tuple[str, int]:
        return marked.get(heading) or (_relative(session.glossary_file), _line_of(glossary_text, f"term: {heading}"))

    findings = []
    for first, second in _near_duplicates([e.get("data-heading", "") for e in entries]):
        findings.append(Finding(*where(second), f"index heading {second!r} is nearly the same as {first!r} "
                                f"({':'.join(map(str, where(first)))}): use one heading for both", "warning"))
    for entry in entries:
        heading = entry.get("data-heading", "")
        subheadings = [s.get("data-heading", "") for s in entry.cssselect("ul.index-subentries > li")]
        for first, second in _near_duplicates(subheadings):
            findings.append(Finding(*where(heading), f"index entry {heading!r} has the near-duplicate subheadings "
                                    f"{first!r} and {second!r}: use one", "warning"))
        locators = sum(len(a.get("data-marks", "").split())
                       for a in entry.xpath("./span[@class='index-locators']/a"))
        if locators > MANY_LOCATORS and not subheadings:
            findings.append(Finding(*where(heading), f"index entry {heading!r} has {locators} locators and no "
                                    "subheadings: give the marks subheadings that say what each place is about",
                                    "warning"))
    return findings


def _near_duplicates(headings: list[str]) -> list[tuple[str, str]]:
    """Pairs of distinct headings that are one after ignoring case, punctuation, spaces and a plural 's'."""
    seen: dict[str, str] = {}
    pairs = []
    for heading in headings:
        key = re.sub(r"[^a-z0-9]", "", heading.casefold())
        key = key[:-1] if len(key) > 3 and key.endswith("s") else key
        if key in seen and seen[key] != heading:
            pairs.append((seen[key], heading))
        seen.setdefault(key, heading)
    return pairs


def used_in_site(session: BookSession, site_dir: Path) -> tuple[set[str], set[str]]:
    """The glossary terms and citation keys the built pages use (every page, the landing page included)."""
    terms: set[str] = set()
    cited: set[str] = set()
    for page in session.structure.pages.values():
        file = page_file(site_dir, session.structure.url(page.src))
        if file.is_file():
            article = page_article(file)
            terms |= {a.get("data-term", "") for a in article.cssselect("a.term[data-term]")}
            cited |= {a.get("data-key", "") for a in article.cssselect(".citation a[data-key]")}
    return terms, cited


def unused_data(session: BookSession, site_dir: Path) -> list[Finding]:
    used_terms, cited = used_in_site(session, site_dir)
    glossary_text = session.glossary_file.read_text(encoding="utf-8")
    findings = [Finding(_relative(session.glossary_file), _line_of(glossary_text, f"term: {t}"),
                        f"glossary term '{t}' is not used by any chapter yet", "warning")
                for t in session.glossary.terms if t not in used_terms]
    for key in (k for k in session.bibliography.sources if k not in cited):
        path = session.bibliography_dir / session.bibliography.sources[key].origin
        findings.append(Finding(_relative(path), _line_of(path.read_text(encoding="utf-8"), f"id: {key}"),
                                f"source '{key}' is not cited by any chapter", "warning"))
    return findings


def source_fields(session: BookSession) -> list[Finding]:
    """What the Works Cited needs beyond what the loader requires: web sources need an address and a read date."""
    findings = []
    for source in session.bibliography.sources.values():
        csl = source.csl
        if csl["type"] in ("webpage", "post-weblog") and not (csl.get("URL") and csl.get("accessed")):
            path = session.bibliography_dir / source.origin
            findings.append(Finding(_relative(path), _line_of(path.read_text(encoding="utf-8"), f"id: {source.id}"),
                                    f"web source '{source.id}' needs URL and accessed"))
    return findings


def spelling(paths: list[Path]) -> list[Finding]:
    """codespell, with the project's own words (product names, terms) allowed in scripts/authoring/wordlist.txt.
    A codespell that could not run (no word list, a bad option, a crash) is a CheckError, never '0 errors'."""
    if not WORD_LIST.is_file():
        raise CheckError(f"the spelling word list {_relative(WORD_LIST)} is missing: restore it "
                         "(git checkout -- scripts/authoring/wordlist.txt)")
    codespell = shutil.which("codespell") or str(Path(sys.executable).parent / "codespell")
    result = subprocess.run([codespell, "--ignore-words", str(WORD_LIST), *map(str, paths)],
                            capture_output=True, text=True, cwd=ROOT)
    if result.returncode not in (0, CODESPELL_FOUND_MISSPELLINGS):
        problem = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise CheckError(f"codespell failed (exit status {result.returncode}): {problem}")
    findings = []
    for line in result.stdout.splitlines():
        match = re.match(r"(.+?):(\d+): (.+)", line)
        if match:
            findings.append(Finding(_relative(Path(match.group(1))), int(match.group(2)),
                                    f"spelling: {match.group(3)} (or add the word to scripts/authoring/wordlist.txt)"))
    return findings


def _relative(path: Path) -> str:
    path = Path(path)
    return str(path.resolve().relative_to(ROOT)) if path.resolve().is_relative_to(ROOT) else str(path)


def _line_of(text: str, needle: str) -> int:
    offset = text.find(needle)
    return text.count("\n", 0, offset) + 1 if offset >= 0 else 1


def run_checks(session: BookSession, site_dir: Path) -> list[Finding]:
    """Every rule over a site built from this session's configuration (strict, into site_dir)."""
    pages = built_pages(session, site_dir)
    acronyms = {t.term for t in session.glossary.terms.values() if t.expansion}
    findings = []
    for page in pages:
        findings += bare_acronyms(page, acronyms) + heading_structure(page) + placeholders(page) + images(page)
    findings += unreferenced_numbered(pages) + source_fields(session)
    findings += spelling([session.docs_dir / p.src for p in session.structure.pages.values()
                          if (session.docs_dir / p.src).is_file()])
    findings += index_quality(session, site_dir, pages)
    findings += unused_data(session, site_dir)
    return findings
