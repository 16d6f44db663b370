"""Unit tests for the macros' pure helpers: each renders from data, with no MkDocs build."""
import pytest

from macros import book1, citations, glossary
from macros.codeguard import protect_code, restore_code
from macros.errors import DataError, MacroError
from macros.structure import BookStructure, BookPage

from bookbuild import FIXTURE_DATA

INVENTORY = book1.Book1Inventory.load()
RTF = glossary.GlossaryTerm("RTF", "Processing time over audio time.", expansion="real-time factor")


def test_term_first_use_expands_and_later_uses_do_not():
    first = glossary.render_term(RTF, True, False, False, "../glossary/")
    later = glossary.render_term(RTF, False, False, False, "../glossary/")
    assert ">real-time factor (RTF)</a>" in first
    assert ">RTF</a>" in later
    assert 'href="../glossary/#term-rtf"' in later
    assert 'title="Processing time over audio time."' in later


def test_term_plural_and_capital_forms():
    gpu = glossary.GlossaryTerm("GPU", "d", expansion="graphics processing unit")
    buffer = glossary.GlossaryTerm("jitter buffer", "d")
    assert ">Graphics processing units (GPUs)</a>" in glossary.render_term(gpu, True, True, True, "")
    assert ">GPUs</a>" in glossary.render_term(gpu, False, True, False, "")
    assert ">Jitter buffer</a>" in glossary.render_term(buffer, True, False, True, "")
    assert glossary.parse_form("plural capital") == (True, True)
    with pytest.raises(MacroError):
        glossary.parse_form("plurals")


def test_term_anchors_are_stable_slugs():
    assert glossary.GlossaryTerm("HTTP/2", "d").anchor == "term-http-2"
    assert glossary.GlossaryTerm("Little's law", "d").anchor == "term-littles-law"


def test_book1_reference_reads_in_full_and_links_when_url_known():
    cited = book1.render_reference(INVENTORY, "", 5, "WebSocket Optimization")
    assert "<cite>Before the 3 AM Alert</cite>, Chapter 5, Network &amp; Connection Optimization" in cited
    assert "\u201cWebSocket Optimization\u201d" in cited and "<a " not in cited
    linked = book1.render_reference(INVENTORY, "https://book1.example/", 5, "WebSocket Optimization")
    assert 'href="https://book1.example/05-network-connections/#websocket-optimization"' in linked
    appendix = book1.render_reference(INVENTORY, "https://b/", "A", "WebSocket Authentication")
    assert "Appendix A, Auth Fundamentals" in appendix and "16-appendix-auth-fundamentals/#websocket-authentication" in appendix


def test_book1_section_anchor_follows_mkdocs_slugs():
    chapter = INVENTORY.chapter(1)
    assert INVENTORY.anchor(chapter, 'Principle 4: Define "Fast Enough"') == "principle-4-define-fast-enough"


def test_book1_unknown_chapter_and_section_suggest_the_closest():
    with pytest.raises(MacroError, match="unknown Book 1 chapter 15"):
        INVENTORY.chapter(15)
    with pytest.raises(MacroError, match="Did you mean: 'WebSocket Optimization'"):
        INVENTORY.anchor(INVENTORY.chapter(5), "Websocket Optimisation")


def test_recap_box_ends_with_the_reference():
    box = book1.render_recap("<span>REF</span>", "First.\n\nSecond.\n", "Auto-scaling")
    assert box.splitlines()[1] == '!!! book1-recap "From Book 1: Auto-scaling"'
    assert box.rstrip().endswith("Read more in <span>REF</span>.</span>")
    assert "    First." in box and "    Second." in box


def test_citation_numbers_link_to_the_reference_list():
    html = citations.render_citation([(1, "rfc6455"), (3, "triton")])
    assert html == ('<span class="citation">[<a href="#ref-rfc6455" data-key="rfc6455">1</a>, '
                    '<a href="#ref-triton" data-key="triton">3</a>]</span>')


def test_source_formatting():
    bib = citations.Bibliography.load(FIXTURE_DATA / "bibliography")
    text = citations.format_source(bib.get("rfc6455").csl)
    assert text.startswith("Ian Fette and Alexey Melnikov. <cite>The WebSocket Protocol</cite>. IETF, RFC 6455, December 2011.")
    web = citations.format_source(bib.get("triton-batching").csl)
    assert "NVIDIA. \u201cDynamic Batcher.\u201d Triton Inference Server documentation." in web
    assert "(accessed 26 November 2026)." in web


def test_bibliography_rejects_duplicates_across_files(tmp_path):
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text("- {id: same, type: webpage, title: T, publisher: P, accessed: {date-parts: [[2026]]}}\n")
    with pytest.raises(DataError, match="'same' is already defined in a.yaml"):
        citations.Bibliography.load(tmp_path)


def test_bibliography_requires_fields(tmp_path):
    (tmp_path / "a.yaml").write_text("- {id: k, type: webpage, title: T, accessed: {date-parts: [[2026]]}}\n")
    with pytest.raises(DataError, match="a.yaml:1: entry 1 \\(k\\): needs an author, publisher or container-title"):
        citations.Bibliography.load(tmp_path)


def test_glossary_rejects_duplicate_terms_and_unknown_related(tmp_path):
    path = tmp_path / "g.yml"
    path.write_text("- {term: A, definition: d}\n- {term: A, definition: e}\n")
    with pytest.raises(DataError, match="duplicate term 'A'"):
        glossary.Glossary.load(path)
    path.write_text("- {term: A, definition: d, related: [B]}\n")
    with pytest.raises(DataError, match="unknown term 'B'"):
        glossary.Glossary.load(path)


def test_yaml_duplicate_mapping_keys_are_errors(tmp_path):
    path = tmp_path / "g.yml"
    path.write_text("- term: A\n  definition: d\n  definition: e\n")
    with pytest.raises(DataError, match="g.yml:3: duplicate key 'definition'"):
        glossary.Glossary.load(path)


def test_code_guard_round_trips_code_exactly():
    source = "Text {{ x }}\n\n```jinja\n{% if a %}{{ b }}{% endif %}\n```\n\nInline `{{ y }}` and ``{% z %}``.\n"
    protected, saved = protect_code(source)
    assert "{% if" not in protected and "{{ y }}" not in protected and "{{ x }}" in protected
    assert restore_code(protected, saved) == source


def test_structure_numbers_chapters_from_nav_not_file_names():
    config = {"nav": [{"Home": "index.md"}, "preface.md",
                      {"Part I: A": ["z-last.md", "a-first.md"]}, {"Part II: B": ["m.md"]},
                      {"Back matter": ["glossary.md"]}],
              "docs_dir": "/nonexistent"}
    structure = BookStructure.from_config(config)
    numbers = {src: page.number for src, page in structure.pages.items()}
    assert numbers == {"index.md": None, "preface.md": None, "z-last.md": 1, "a-first.md": 2, "m.md": 3,
                       "glossary.md": None}
    assert structure.pages["m.md"].part == "Part II: B"


def test_relative_links_between_pages():
    structure = BookStructure([BookPage("index.md", None, None), BookPage("a.md", None, None),
                               BookPage("glossary.md", None, None)])
    assert structure.href("a.md", "glossary.md", "term-rtf") == "../glossary/#term-rtf"
    assert structure.href("index.md", "glossary.md") == "glossary/"
    assert structure.href("a.md", "index.md") == "../"
    assert structure.href("a.md", "a.md", "x") == "#x"
    assert structure.asset_href("a.md", "images/ch01/x.svg") == "../images/ch01/x.svg"
