"""The Glossary, Works Cited and xref.json come out of the data, with back-links to the chapters that use them."""
import json
import re

import pytest
import yaml

from macros import glossary as glossary_module
from macros.citations import Bibliography
from bookbuild import FIXTURE_DATA

SCENARIO = "generated"   # tests/books/generated/docs: the contents, terms, citations, a figure and a table


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from bookbuild import build_book, write_book
    result = build_book(write_book(tmp_path_factory.mktemp("gen") / "book", scenario=SCENARIO))
    assert result.ok, result.log
    return result


def test_glossary_page_lists_every_term_alphabetically_with_anchor_and_back_links(built):
    html = built.html("glossary")
    data = yaml.safe_load((FIXTURE_DATA / "glossary.yml").read_text())
    terms = re.findall(r'<dt id="term-[^"]+" data-term="([^"]+)"', html)
    assert terms == sorted((e["term"] for e in data), key=str.lower)
    rtf = html[html.index('id="term-rtf"'):html.index("</dd>", html.index('id="term-rtf"'))]
    assert "real-time factor" in rtf and "Processing time divided" in rtf
    assert 'Used in: <a href="../one/">Chapter 1</a>, <a href="../two/">Chapter 2</a>' in rtf
    assert 'See also: <a href="#term-wer">WER</a>' in rtf
    gpu = html[html.index('id="term-gpu"'):]
    assert "Also in Book 1" in gpu[:gpu.index("</dd>")]


def test_works_cited_lists_every_source_once_with_the_citing_chapters(built):
    html = built.html("works-cited")
    keys = re.findall(r'<li id="cite-([^"]+)"', html)
    assert sorted(keys) == sorted(Bibliography.load(FIXTURE_DATA / "bibliography").sources)
    assert len(keys) == len(set(keys))
    assert 'Cited in <a href="../one/">Chapter 1</a>.' in html


def test_each_chapter_ends_with_its_numbered_references(built):
    html = built.html("two")
    assert '<ol class="references">' in html
    assert re.findall(r'<li id="ref-([^"]+)"', html) == ["triton-batching"]
    assert 'href="../works-cited/#cite-triton-batching"' in html


def test_figures_and_tables_are_numbered_per_chapter_and_linked_across_chapters(built):
    assert 'id="fig-pipeline" data-number="1.1"' in built.html("one")
    two = built.html("two")
    assert '<a class="xref-figure" href="../one/#fig-pipeline" data-ref="fig-pipeline" data-line="3">Figure 1.1</a>' in two
    assert 'id="table-codecs" data-number="2.1"' in two


def test_xref_inventory_describes_the_book(built):
    inventory = json.loads((built.site / "xref.json").read_text())
    chapters = {c["url"]: c for c in inventory["chapters"]}
    assert chapters["one/"]["number"] == 1 and chapters["one/"]["title"] == "First"
    assert {"title": "Section A", "anchor": "section-a", "url": "one/#section-a", "level": 2} in chapters["one/"]["sections"]
    assert inventory["figures"] == [{"kind": "figure", "id": "pipeline", "number": "1.1", "url": "one/#fig-pipeline"}]
    assert inventory["tables"][0]["number"] == "2.1"
    terms = {t["term"]: t["url"] for t in inventory["terms"]}
    assert terms["RTF"] == "glossary/#term-rtf"
    assert set(terms) == set(glossary_module.Glossary.load(FIXTURE_DATA / "glossary.yml").terms)


def test_landing_page_lists_the_chapters_by_part(built):
    html = built.html("").split('class="book-contents"')[1]
    assert "Part I: Foundations" in html
    assert '<a href="one/"><span class="book-contents__number">1</span> First</a>' in html


def test_usage_report_names_unused_terms_and_sources(built):
    from mkdocs.config import load_config
    from macros.session import BookSession
    from macros.usage import unused_entries
    terms, sources = unused_entries(BookSession(load_config(str(built.root / "mkdocs.yml"))))
    assert sorted(terms) == ["GPU", "jitter buffer"]
    assert sources == []
