"""`book stats`: per chapter, what it holds and how long it is against the length BOOK.md sets.

Everything is read from the built site, where the macros have marked up what they resolved (figures, tables,
citations, Book 1 references, terms). Words and reading time come from scripts/shared/reading.py, the same function
that gives the minutes the site shows above each chapter, so the two always agree.
"""
from dataclasses import asdict, dataclass
from pathlib import Path

from lxml.html import HtmlElement

from macros.session import BookSession
from scripts.shared.reading import minutes_for, prose_words

from .checks import built_pages

TARGETS = {"preface": (1300, 1800), "chapter": (5000, 8000)}   # BOOK.md: preface about 1,500; chapters 5,000-8,000
COLUMNS = ("words", "figures", "tables", "citations", "book1_references", "glossary_terms", "pseudocode_blocks",
           "reading_minutes")


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


def chapter_stats(session: BookSession, site_dir: Path) -> list[ChapterStats]:
    """One row per chapter of a site built from this session's configuration."""
    rows = []
    for page in built_pages(session, site_dir):
        article = page.article
        words = prose_words(article)
        low, high = TARGETS["chapter" if page.numbered else "preface"]
        rows.append(ChapterStats(
            path=page.path, title=_title(session, page.path, article), words=words,
            target=f"{low}-{high}" + ("" if low <= words <= high else (" (short)" if words < low else " (long)")),
            figures=len(article.cssselect("figure.numbered-figure")),
            tables=len(article.cssselect("p.table-caption")),
            citations=len({a.get("data-key") for a in article.cssselect(".citation a[data-key]")}),
            book1_references=len(article.cssselect(".xref-book1")),
            glossary_terms=len({a.get("data-term") for a in article.cssselect("a.term[data-term]")}),
            pseudocode_blocks=len(article.cssselect(".language-pseudocode")),
            reading_minutes=minutes_for(words),
        ))
    return rows


def _title(session: BookSession, path: str, article: HtmlElement) -> str:
    """'Chapter 3: GPU Optimization', the title as the built page shows it."""
    heading = next(article.iter("h1"), None)
    title = heading.text_content().rstrip("¶").strip() if heading is not None else path
    chapter = next((p for p in session.structure.pages.values() if session.source_path(p.src) == path), None)
    return f"{chapter.label}: {title}" if chapter and chapter.number else title


def totals(rows: list[ChapterStats]) -> dict[str, int]:
    return {key: sum(getattr(row, key) for row in rows) for key in COLUMNS}


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


def _row(cells: list | tuple) -> str:
    widths = (46, 6, 15, 6, 6, 6, 6, 6, 6, 6)
    return "  ".join(str(c).ljust(w) if i in (0, 2) else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
