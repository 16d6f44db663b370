"""`book stats`: per chapter, what it holds and how long it is against the length BOOK.md sets.

The reading time is computed here once, from a page's Markdown source, for `book stats` and for the minutes the
site shows above each chapter (scripts/web/site.py), so the two always agree.
"""
import math
import re
from dataclasses import asdict, dataclass

from mkdocs.utils.meta import get_data

from macros.codeguard import mask_code
from macros.session import BookSession

from .checks import MACRO, book_pages

WORDS_PER_MINUTE = 230          # an estimate for reading prose; not a measurement

TARGETS = {"preface": (1300, 1800), "chapter": (5000, 8000)}   # BOOK.md: preface about 1,500; chapters 5,000-8,000
WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")


@dataclass
class ChapterStats:
    path: str
    title: str
    words: int
    target: str
    figures: int
    tables: int
    citations: int
    book1_references: int
    glossary_terms: int
    pseudocode_blocks: int
    reading_minutes: int


def prose_words(prose: str) -> int:
    """Words a reader reads: code blanked, term() kept as its key, other macro calls and markup left out."""
    text = re.sub(r"\{\{\s*term\(\s*[\"']([^\"']+)[\"'][^}]*\}\}", r" \1 ", prose)
    text = MACRO.sub(" ", text)
    text = re.sub(r"<[^>]+>|\]\([^)]*\)|[#*_|`>\[\]]", " ", text)
    return len(WORD.findall(text))


def source_words(source: str) -> int:
    """The prose words of a page's Markdown source: front matter left out, code blanked."""
    markdown, _meta = get_data(source)
    return prose_words(mask_code(markdown))


def reading_minutes(source: str) -> int:
    """Whole minutes to read a page (its Markdown source) at WORDS_PER_MINUTE, at least one."""
    return max(1, math.ceil(source_words(source) / WORDS_PER_MINUTE))


def chapter_stats(session: BookSession) -> list[ChapterStats]:
    rows = []
    for page, source in zip(book_pages(session), _sources(session)):
        words = source_words(page.text)
        low, high = TARGETS["chapter" if page.numbered else "preface"]
        rows.append(ChapterStats(
            path=page.path, title=(f"{source.label}: " if source.number else "") + source.title, words=words,
            target=f"{low}-{high}" + ("" if low <= words <= high else (" (short)" if words < low else " (long)")),
            figures=len(source.figures), tables=len(source.tables), citations=len(set(source.citations)),
            book1_references=len(re.findall(r"\b(?:book1|recap)\(", page.prose)),
            glossary_terms=len(source.terms),
            pseudocode_blocks=len(re.findall(r"^\s*(`{3,}|~{3,})\s*pseudocode\b", page.text, re.M)),
            reading_minutes=reading_minutes(page.text),
        ))
    return rows


def _sources(session: BookSession):
    return [page for page in session.structure.pages.values()
            if (session.docs_dir / page.src).is_file() and page.src not in ("index.md", "glossary.md", "works-cited.md")]


def totals(rows: list[ChapterStats]) -> dict:
    keys = ("words", "figures", "tables", "citations", "book1_references", "glossary_terms", "pseudocode_blocks",
            "reading_minutes")
    return {key: sum(getattr(row, key) for row in rows) for key in keys}


def as_table(rows: list[ChapterStats]) -> str:
    header = ("Chapter", "Words", "Target", "Fig", "Tab", "Cites", "Book 1", "Terms", "Pseudo", "Min")
    lines = [_row(header), _row(["-" * 46, "-" * 6, "-" * 15] + ["-" * 6] * 7)]
    for r in rows:
        lines.append(_row([r.title[:46], r.words, r.target, r.figures, r.tables, r.citations, r.book1_references,
                           r.glossary_terms, r.pseudocode_blocks, r.reading_minutes]))
    t = totals(rows)
    lines.append(_row(["Book", t["words"], "", t["figures"], t["tables"], t["citations"], t["book1_references"],
                       t["glossary_terms"], t["pseudocode_blocks"], t["reading_minutes"]]))
    return "\n".join(lines)


def as_json(rows: list[ChapterStats]) -> dict:
    return {"chapters": [asdict(r) for r in rows], "totals": totals(rows)}


def _row(cells) -> str:
    widths = (46, 6, 15, 6, 6, 6, 6, 6, 6, 6)
    return "  ".join(str(c).ljust(w) if i in (0, 2) else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
