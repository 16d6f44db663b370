"""The book's own rules, run by `book check` after a strict build. Each rule is a small function that returns
findings; a finding names the file and line and says what to do.

Errors fail the check. Warnings are reported without failing: a glossary term or source that no chapter uses yet
is expected while later chapters are unwritten.
"""
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from macros.codeguard import mask_code
from macros.session import BookSession
from macros.usage import unused_entries

ROOT = Path(__file__).resolve().parents[2]
WORD_LIST = Path(__file__).with_name("wordlist.txt")
MACRO = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
TERM_CALL = re.compile(r"\bterm\(\s*[\"']([^\"']+)[\"']")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*(\{.*\})?\s*$", re.M)
PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX)\b|lorem ipsum", re.I)
MARKDOWN_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)]+)\)")
HTML_IMAGE = re.compile(r"<img\b[^>]*>", re.I)
OPENING, CLOSING = "What you will learn", "Summary"


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.path}:{self.line}: {tag}{self.message}"


@dataclass
class Page:
    """A chapter's source as the rules see it: the text, and the same text with code blanked out."""
    path: str
    text: str
    prose: str
    numbered: bool

    def line(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1


def book_pages(session: BookSession) -> list[Page]:
    pages = []
    for page in session.structure.pages.values():
        file = session.docs_dir / page.src
        if file.is_file() and page.src not in ("index.md", "glossary.md", "works-cited.md"):
            text = file.read_text(encoding="utf-8")
            pages.append(Page(session.source_path(page.src), text, mask_code(text), bool(page.number)))
    return pages


# ── rules over one page ──────────────────────────────────────────────────────
def bare_acronyms(page: Page, acronyms: set) -> list[Finding]:
    """An acronym written bare before term() has introduced it in this chapter, so it is never expanded."""
    findings = []
    prose = _without_headings(MACRO.sub(_blank, page.prose))
    prose = re.sub(r"<[^>]+>|\]\([^)]*\)", _blank, prose)   # HTML tags and link targets
    first_call = {}
    for match in TERM_CALL.finditer(page.prose):
        first_call.setdefault(match.group(1), match.start())
    for acronym in sorted(acronyms):
        bare = re.search(rf"(?<![\w/-]){re.escape(acronym)}(?![\w/-])", prose)
        if bare and bare.start() < first_call.get(acronym, len(page.text) + 1):
            findings.append(Finding(page.path, page.line(bare.start()),
                                    f"'{acronym}' is used before the chapter introduces it: write "
                                    f"{{{{ term(\"{acronym}\") }}}} at its first use"))
    return findings


def heading_structure(page: Page) -> list[Finding]:
    findings, previous = [], 0
    headings = [(m.start(), len(m.group(1)), m.group(2)) for m in HEADING.finditer(page.prose)]
    for offset, level, _ in headings:
        if previous and level > previous + 1:
            findings.append(Finding(page.path, page.line(offset), f"heading level {level} follows level {previous}: "
                                    "a level is skipped"))
        previous = level
    if page.numbered:
        sections = [(offset, title) for offset, level, title in headings if level == 2]
        if not sections or sections[0][1] != OPENING:
            findings.append(Finding(page.path, page.line(sections[0][0]) if sections else 1,
                                    f"a chapter opens with '## {OPENING}'"))
        if not sections or sections[-1][1] != CLOSING:
            findings.append(Finding(page.path, page.line(sections[-1][0]) if sections else 1,
                                    f"a chapter ends with '## {CLOSING}' (key takeaways, what to measure, up next)"))
    return findings


def placeholders(page: Page) -> list[Finding]:
    return [Finding(page.path, page.line(m.start()), f"placeholder '{m.group(0)}' left in the text")
            for m in PLACEHOLDER.finditer(page.prose)]


def images(page: Page) -> list[Finding]:
    findings = []
    for match in MARKDOWN_IMAGE.finditer(page.prose):
        findings.append(Finding(page.path, page.line(match.start()),
                                "an image without a number or caption: use {{ figure(id, src, caption, alt=...) }}"
                                + ("; it also has no alt text" if not match.group(1).strip() else "")))
    for match in HTML_IMAGE.finditer(page.prose):
        if not re.search(r"\balt\s*=\s*[\"'][^\"']+", match.group(0)):
            findings.append(Finding(page.path, page.line(match.start()), "an image without alt text"))
    return findings


def _without_headings(text: str) -> str:
    return re.sub(r"^#{1,6}\s.*$", _blank, text, flags=re.M)


def _blank(match) -> str:
    return re.sub(r"[^\n]", " ", match.group(0))


# ── rules over the whole book ────────────────────────────────────────────────
def unreferenced_numbered(session: BookSession, pages: list[Page]) -> list[Finding]:
    referenced = {m.group(2) for page in pages
                  for m in re.finditer(r"\b(fig|table)\(\s*[\"']([^\"']+)[\"']", page.prose)}
    findings = []
    for item in session.structure.numbered.values():
        if item.id not in referenced:
            path = session.source_path(item.page)
            page = next(p for p in pages if p.path == path)
            offset = page.text.find(f'"{item.id}"')
            call = "fig" if item.kind == "figure" else "table"
            findings.append(Finding(path, page.line(max(offset, 0)), f"{item.kind} '{item.id}' ({item.number}) is "
                                    f"never referred to: add {{{{ {call}(\"{item.id}\") }}}} in the text"))
    return findings


def unused_data(session: BookSession) -> list[Finding]:
    terms, sources = unused_entries(session)
    glossary_file = session.glossary_file
    glossary_text = glossary_file.read_text(encoding="utf-8")
    findings = [Finding(_relative(glossary_file), _line_of(glossary_text, f"term: {t}"),
                        f"glossary term '{t}' is not used by any chapter yet", "warning") for t in terms]
    for key in sources:
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
    """codespell, with the project's own words (product names, terms) allowed in scripts/authoring/wordlist.txt."""
    codespell = shutil.which("codespell") or str(Path(__import__("sys").executable).parent / "codespell")
    result = subprocess.run([codespell, "--ignore-words", str(WORD_LIST), *map(str, paths)],
                            capture_output=True, text=True, cwd=ROOT)
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


def run_checks(session: BookSession) -> list[Finding]:
    pages = book_pages(session)
    acronyms = {t.term for t in session.glossary.terms.values() if t.expansion}
    findings = []
    for page in pages:
        findings += bare_acronyms(page, acronyms) + heading_structure(page) + placeholders(page) + images(page)
    findings += unreferenced_numbered(session, pages) + source_fields(session)
    findings += spelling([session.docs_dir / p.src for p in session.structure.pages.values()
                          if (session.docs_dir / p.src).is_file()])
    findings += unused_data(session)
    return findings
