"""The back-of-book index: index() marks, the glossary's own entries, and the Index in the site, the PDF and the EPUB.

The fixture book is tests/books/index: two chapters with marks (a range, see and see-also, sub-entries, glossary
terms) and the Index page. The print test adds a long chapter so that marks land on different pages, and reads the
pages back from the PDF: where each mark's named destination is, against what the Index prints.
"""
import html
import re
import subprocess
import zipfile
from pathlib import Path

import lxml.html
import pytest
from pypdf import PdfReader

from bookbuild import build_book, clean_env, write_book
from test_epub import epubcheck
from test_pipeline_build import BOOK, free_port, port_open, processes_mentioning, stop
from test_preview import fetch, wait_for
from mkdocs.config import load_config
from macros.indexing import letter_of, sort_key
from macros.session import BookSession
from scripts.authoring.checks import built_pages, index_quality
from scripts.pdf.index import Folio, PageSpan, _merged, roman

NAV = [{"Home": "index.md"}, {"Part I: Foundations": ["one.md", "two.md"]},
       {"Back matter": ["glossary.md", "works-cited.md", "book-index.md"]}]
FILLER = ("Streaming recognition keeps a session open while the caller talks, and each chunk of audio must be "
          "decoded, batched and answered before the next one arrives. ") * 4


def index_book(root: Path, pages: dict | None = None, nav: list | None = None, pdf: bool = False):
    return build_book(write_book(root, pages, nav=nav or NAV, scenario="index"), pdf=pdf)


@pytest.fixture(scope="module")
def web_book(tmp_path_factory):
    built = index_book(tmp_path_factory.mktemp("index") / "book")
    assert built.ok, built.log
    return built


def index_entries(built) -> dict[str, lxml.html.HtmlElement]:
    page = lxml.html.fromstring(built.html("book-index"))
    return {li.get("data-heading"): li for li in page.cssselect("li.index-entry[id]")}


def headings_in_order(built) -> list[str]:
    page = lxml.html.fromstring(built.html("book-index"))
    return [li.get("data-heading") for li in page.cssselect("li.index-entry[id]")]


# ── Sorting ───────────────────────────────────────────────────────────────────
def test_sorting_is_word_by_word_ignoring_case_with_symbols_and_numbers_first():
    headings = ["chunking", "chunk size", "Chunk", "gRPC", "GPU", "HTTP/2", "HTTP", "HTTP streaming", "3GPP",
                "µ-law", "real-time factor", "RTF", "Écoute"]
    ordered = sorted(headings, key=sort_key)
    assert ordered[:2] == ["3GPP", "µ-law"]                   # digits and symbols first
    assert ordered.index("Chunk") < ordered.index("chunk size") < ordered.index("chunking")   # word by word
    assert ordered.index("GPU") < ordered.index("gRPC")       # case ignored: "gpu" < "grpc"
    assert ordered.index("HTTP") < ordered.index("HTTP/2") < ordered.index("HTTP streaming")   # "/" parts words
    assert ordered.index("real-time factor") < ordered.index("RTF")
    assert ordered.index("Écoute") < ordered.index("GPU")      # accents ignored: under E
    assert [letter_of(h) for h in ("gRPC", "HTTP/2", "3GPP", ".NET", "Écoute")] == ["G", "H", "#", "N", "E"]


# ── The web Index ─────────────────────────────────────────────────────────────
def test_web_index_groups_by_letter_with_a_jump_bar_to_each_group(web_book):
    page = lxml.html.fromstring(web_book.html("book-index"))
    jump = page.cssselect("nav.index-jump")[0]
    targets = [a.get("href") for a in jump.cssselect("a")]
    assert targets[0] == "#index-letter-symbols" and "#index-letter-w" in targets
    assert all(page.get_element_by_id(t[1:]) is not None for t in targets)
    assert jump.get("aria-label")
    assert headings_in_order(web_book) == sorted(index_entries(web_book), key=sort_key)


def test_every_web_locator_reaches_its_mark_and_names_chapter_and_section(web_book):
    entries = index_entries(web_book)
    websocket = entries["WebSocket"]
    codes = websocket.cssselect("ul.index-subentries > li")[0]
    assert codes.get("data-heading") == "close codes"
    labels = [a.text_content() for a in codes.cssselect("a.index-locator")]
    assert labels == ["Chapter 1: What you will learn", "Chapter 2: Protocols"]
    for li in entries.values():
        for link in li.cssselect("a.index-locator"):
            path, anchor = link.get("href").split("#")
            target = lxml.html.fromstring((web_book.site / "book-index" / path / "index.html").read_text())
            assert target.get_element_by_id(anchor) is not None, link.get("href")


def test_a_range_is_one_locator_from_its_start_to_its_end(web_book):
    link = index_entries(web_book)["dynamic batching"].cssselect("a.index-locator")[0]
    assert link.get("data-marks") == "ix-2:ix-4" and link.get("href").endswith("#ix-2")


def test_see_and_see_also_link_to_entries_of_the_index(web_book):
    entries = index_entries(web_book)
    see = entries["Opus"].cssselect(".index-xref--see a")[0]
    assert see.get("href") == "#" + entries["codec"].get("id")
    assert not entries["Opus"].cssselect("a.index-locator")             # a cross-reference has no locator
    also = entries["WebSocket"].cssselect(".index-xref--see-also a")[0]
    assert also.get("href") == "#" + entries["gRPC"].get("id")


def test_glossary_terms_index_themselves_where_introduced_and_defined(web_book):
    entries = index_entries(web_book)
    rtf = entries["RTF"]
    assert "real-time factor" in rtf.cssselect(".index-gloss")[0].text_content()
    labels = [a.text_content() for a in rtf.xpath("./span[@class='index-locators']/a")]
    assert labels == ["Chapter 1: What you will learn", "Glossary"]     # first use in Chapter 1, the definition
    assert rtf.cssselect("a.index-locator--definition")[0].get("href").endswith("glossary/#term-rtf")
    # index("real-time factor", "budget") joined the term's entry; the expansion files as a cross-reference
    assert [s.get("data-heading") for s in rtf.cssselect("ul.index-subentries > li")] == ["budget"]
    assert entries["real-time factor"].cssselect(".index-xref--see a")[0].text == "RTF"
    assert "jitter buffer" in entries                                   # defined, never used: the Glossary alone


def test_marks_print_nothing_in_the_chapter(web_book):
    chapter = lxml.html.fromstring(web_book.html("one"))
    marks = chapter.cssselect("span.index-mark")
    assert marks and all(not m.text_content() and m.get("data-line") for m in marks)


# ── Bad input ─────────────────────────────────────────────────────────────────
@pytest.mark.parametrize("text, line, message", [
    ('# One\n\nText.\n\n{{ index("Opus", see="codecs") }}Opus.\n', 5, "see target 'codecs' is not a heading"),
    ('# One\n\n{{ index("batching", begin=True) }}Start.\n\nNo end.\n', 3, "index range 'batching' begins here but "
                                                                           "never ends"),
    ('# One\n\nText.\n\n{{ index("batching", end=True) }}End.\n', 5, "does not begin earlier on this page"),
    ('# One\n\n{{ index("  ") }}Text.\n', 3, "an index heading cannot be empty"),
    ('# One\n\n{{ index("a", begin=True, end=True) }}Text.\n', 3, "not both"),
    ('# One\n\n{{ index("a", see="b", begin=True) }}Text.\n', 3, "cannot begin or end a range"),
])
def test_bad_marks_fail_the_build_naming_file_and_line(tmp_path, text, line, message):
    built = index_book(tmp_path / "book", {"one.md": text})
    assert not built.ok
    assert f"docs/one.md:{line}: " in built.log and message in built.log, built.log


def test_the_index_must_close_the_printed_book(tmp_path):
    nav = [{"Home": "index.md"}, {"Part I: Foundations": ["one.md", "two.md"]},
           {"Back matter": ["book-index.md", "glossary.md", "works-cited.md"]}]
    built = index_book(tmp_path / "book", nav=nav, pdf=True)
    assert not built.ok and "the Index must be the last page" in built.log


# ── Print: the pages where the marks land ─────────────────────────────────────
LONG = "\n\n".join(
    ["# Long Chapter", "## Start"]
    + [(f'{{{{ index("queueing", "paragraph {n}") }}}}' if n in (1, 14, 30) else "")
       + ('{{ index("admission control", begin=True) }}' if n == 6 else "")
       + ('{{ index("admission control", end=True) }}' if n == 27 else "")
       + ('{{ index("backpressure") }}' if n in (8, 9, 22) else "")
       + FILLER for n in range(1, 41)]
    + ["## End", "Done."])


@pytest.fixture(scope="module")
def print_book(tmp_path_factory):
    nav = [{"Home": "index.md"}, {"Part I: Foundations": ["one.md", "two.md", "long.md"]},
           {"Back matter": ["glossary.md", "works-cited.md", "book-index.md"]}]
    built = index_book(tmp_path_factory.mktemp("index-pdf") / "book", {"long.md": LONG}, nav=nav, pdf=True)
    assert built.ok, built.log
    return built


def mark_pages(reader: PdfReader) -> dict[str, str]:
    """{anchor: the printed page label} for every named destination of the PDF."""
    labels = reader.page_labels
    return {name.lstrip("/"): labels[reader.get_destination_page_number(dest)]
            for name, dest in reader.named_destinations.items()}


def printed_index(path: Path, reader: PdfReader) -> str:
    start = next(i for i, page in enumerate(reader.pages) if "Symbols and numbers" in (page.extract_text() or "")
                 or re.search(r"^Index$", page.extract_text() or "", re.M))
    text = subprocess.run(["pdftotext", "-raw", "-f", str(start + 1), str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    return " ".join(text.split())


def long_chapter_marks(built) -> list[tuple[str, str, str, str]]:
    """(id, heading, subheading, range) of each mark of the long chapter, in source order."""
    page = lxml.html.fromstring(built.html("long"))
    return [(m.get("id"), m.get("data-index"), m.get("data-index-sub") or "", m.get("data-index-range") or "")
            for m in page.cssselect("span.index-mark")]


def expected_pages(spans: list[tuple[int, int]]) -> str:
    """The locator text a reader expects: pages in order, touching pages joined into one range."""
    joined: list[list[int]] = []
    for first, last in sorted(spans):
        if joined and first <= joined[-1][1] + 1:
            joined[-1][1] = max(joined[-1][1], last)
        else:
            joined.append([first, last])
    return ", ".join(str(a) if a == b else f"{a}\u2013{b}" for a, b in joined)


def test_the_printed_index_gives_exactly_the_pages_where_the_marks_land(print_book):
    reader = PdfReader(print_book.pdf)
    pages = mark_pages(reader)                 # where each mark's anchor is, as the PDF viewer numbers pages
    index = printed_index(print_book.pdf, reader)
    spans: dict[str, list[tuple[int, int]]] = {}
    begins: dict[str, str] = {}
    for mark_id, heading, sub, kind in long_chapter_marks(print_book):
        page = int(pages[f"long--{mark_id}"])
        label = sub or heading
        if kind == "begin":
            begins[label] = mark_id
        elif kind == "end":
            spans.setdefault(label, []).append((int(pages[f"long--{begins[label]}"]), page))
        else:
            spans.setdefault(label, []).append((page, page))
    assert len({first for first, _ in spans["backpressure"] + spans["paragraph 30"]}) > 1   # marks on several pages
    assert any(first != last for first, last in spans["admission control"])   # the range spans pages
    for label, found in spans.items():
        assert f"{label}, {expected_pages(found)}" in index, (label, found, index)
    assert "admission control, " in index and "\u2013" in index


def test_consecutive_pages_collapse_and_definitions_stay_apart():
    folios = [Folio(n, False) for n in range(1, 30)]
    spans = [PageSpan(3, 3, "#a", False), PageSpan(4, 5, "#b", False), PageSpan(9, 9, "#c", False),
             PageSpan(9, 9, "#d", True), PageSpan(10, 10, "#e", False)]
    merged = _merged(spans, folios)
    assert [(s.first, s.last, s.definition) for s in merged] == [(3, 5, False), (9, 9, True), (10, 10, False)]
    assert merged[0].href == "#a"
    front = [Folio(5, True), Folio(6, True), Folio(1, False)]
    assert len(_merged([PageSpan(1, 1, "#x", False), PageSpan(2, 2, "#y", False)], front)) == 2
    assert roman(14) == "xiv" and roman(9) == "ix"


def test_printed_locators_link_to_their_pages_and_the_index_continues_the_folios(print_book):
    reader = PdfReader(print_book.pdf)
    labels = reader.page_labels
    index_pages = [i for i, page in enumerate(reader.pages) if "admission control" in (page.extract_text() or "")
                   and "Long Chapter" not in (page.extract_text() or "")]
    assert index_pages and index_pages[-1] == len(reader.pages) - 1
    first = index_pages[0]
    assert labels[first].isdigit() and int(labels[first]) == int(labels[first - 1]) + 1   # the count goes on
    destinations = {reader.get_destination_page_number(d) for d in reader.named_destinations.values()}
    links = [a.get_object() for a in reader.pages[first].get("/Annots", [])]
    assert len(links) >= 10
    targets = set()
    for link in links:
        action = link.get("/A")
        dest = link.get("/Dest") if action is None else action.get("/D")
        assert dest is not None, link
        targets.add(reader.get_destination_page_number(reader.named_destinations[dest]) if isinstance(dest, str)
                    else reader._get_page_number_by_indirect(dest[0]))
    assert targets & destinations and max(targets - {first}) < first   # locators point back into the book


# ── EPUB ──────────────────────────────────────────────────────────────────────
def test_epub_index_uses_the_epub_indexes_vocabulary(print_book):
    with zipfile.ZipFile(print_book.epub) as epub:
        name = next(n for n in epub.namelist() if n.endswith("book-index.xhtml"))
        page = epub.read(name).decode()
        nav = epub.read(next(n for n in epub.namelist() if n.endswith("nav.xhtml"))).decode()
    assert 'epub:type="index"' in page.split("<body", 1)[1][:80]
    for term in ("index-group", "index-entry-list", "index-entry", "index-term", "index-locator",
                 "index-xref-preferred"):
        assert f'epub:type="{term}"' in page
    assert 'epub:type="index"' in nav   # a landmark
    report = epubcheck(print_book.epub)
    assert "No errors or warnings detected" in report, report


# ── book check: what a good index would not do ───────────────────────────────
def test_book_check_warns_about_near_duplicate_headings_and_unsorted_locator_piles(tmp_path):
    many = "\n\n".join(f'{{{{ index("latency") }}}}Paragraph {n}.' for n in range(9))
    pages = {"two.md": '# Second Chapter\n\n## Protocols\n\n{{ index("WebSockets") }}Plural.\n\n'
                       '{{ index("Codec") }}A capital. {{ index("codec") }}Lower.\n\n' + many + "\n"}
    root = write_book(tmp_path / "book", pages, nav=NAV, scenario="index")
    assert build_book(root).ok
    session = BookSession(load_config(str(root / "mkdocs.yml")))
    found = [str(f) for f in index_quality(session, root / "site", built_pages(session, root / "site"))]
    assert any(f.startswith("docs/two.md:5: warning: index heading 'WebSockets' is nearly the same as 'WebSocket'")
               for f in found), found
    assert any("'codec'" in f and "'Codec'" in f for f in found), found
    assert any(f.startswith("docs/two.md:9: warning: index entry 'latency' has 9 locators and no subheadings")
               for f in found), found
    assert not any("'GPU'" in f for f in found)


# ── Preview ───────────────────────────────────────────────────────────────────
def test_a_broken_cross_reference_shows_on_the_index_page_in_the_preview(tmp_path):
    root = write_book(tmp_path / "book", nav=NAV, scenario="index")
    config, port = str(root / "mkdocs.yml"), free_port()
    serve = subprocess.Popen([BOOK, "-f", config, "serve", "-a", f"127.0.0.1:{port}"], env=clean_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    page = f"http://127.0.0.1:{port}/productionizing-ml-inference-apis/book-index/"
    try:
        assert wait_for(lambda: port_open(port), 120), "the preview never listened"
        assert "index-entry" in fetch(page)
        (root / "docs" / "two.md").write_text('# Two\n\n## S\n\n{{ index("Opus", see="codecs") }}Opus.\n',
                                              encoding="utf-8")
        assert wait_for(lambda: "This page did not build" in fetch(page), 60), "the preview never showed the error"
        assert "docs/two.md:5: index see target 'codecs' is not a heading" in html.unescape(fetch(page))
    finally:
        serve.terminate()
        serve.communicate(timeout=30)
        stop(processes_mentioning(config))


# ── The real book ─────────────────────────────────────────────────────────────
PART_ONE = ("01-the-serving-problem", "02-model-serving-frameworks", "03-gpu-optimization")


def test_part_one_is_indexed_by_hand_and_the_real_index_links_every_mark(real_site):
    headings = set()
    for page in PART_ONE:
        chapter = lxml.html.fromstring((real_site / page / "index.html").read_text(encoding="utf-8"))
        headings |= {mark.get("data-index") for mark in chapter.cssselect("span.index-mark[data-index]")}
    assert len(headings) >= 60, sorted(headings)
    index = lxml.html.fromstring((real_site / "book-index" / "index.html").read_text(encoding="utf-8"))
    listed = {li.get("data-heading") for li in index.cssselect("li.index-entry[id]")}
    assert headings <= listed
    assert len(index.cssselect("ul.index-subentries")) >= 20   # concepts discussed in several places are broken down
