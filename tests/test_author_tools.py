"""The author's tools: `book check` rules and `book stats` over a built fixture book, the `data-line` the macros
leave for them, the pseudocode lexer, and the CLI around them."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jinja2 import Environment
from lxml import html as lxml_html
from mkdocs.config import load_config

from bookbuild import FIXTURE_DATA, QUIET, build_book, write_book
from macros.session import BookSession
from macros.structure import literal_calls
from scripts.authoring import checks, cli
from scripts.authoring.checks import (BuiltPage, CheckError, bare_acronyms, built_pages, heading_structure, images,
                                      placeholders, source_fields, spelling, unreferenced_numbered, unused_data)
from scripts.shared.reading import page_article, reading_minutes

BOOK = str(Path(sys.executable).parent / "book")

# One chapter per rule, each with its mistakes on known lines (the comments give the line numbers).
ACRONYMS = """\
---
description: front matter shifts every line by three
---
# The RTF chapter

## What you will learn

The RTF matters here, before its term.

Later {{ term("RTF") }} again, and RTF once more; the WER is bare too.

```text
WER in code is fine
```

A [WER link](https://example.com/) and `WER` in a code span are fine; so is a {{ term("GPU") }} before GPU.

## Summary

Done.
"""

HEADINGS = """\
# Headings

## Intro

#### Too deep

## Intro

### Fine

###### Too deep again

## End
"""

PLACEHOLDERS_AND_IMAGES = """\
# Loose ends

## What you will learn

TBD: write this.

```
# TODO in a code sample is fine
```

![](assets/images/favicon.svg)

<img src="../assets/images/favicon.svg">

## Summary

Some lorem ipsum here.
"""

NUMBERED = """\
# Figures

## What you will learn

{{ figure("lonely", "assets/images/favicon.svg", "Nobody points here.", alt="Icon") }}

{{ figure("seen", "assets/images/favicon.svg", "Someone does.", alt="Icon") }}

{{ table_caption("quiet", "A table nobody mentions.") }}

| a | b |
|---|---|
| 1 | 2 |

As {{ fig("seen") }} shows, with {{ cite("rfc6455") }} and {{ book1(5, "WebSocket Optimization") }}.

```pseudocode
for each chunk in stream
    send chunk
```

## Summary

Done.
"""

PAGES = {
    "index.md": "# Home\n",
    "preface.md": "# Preface\n\n## Anything goes here\n\nNo opening needed.\n",
    "one.md": ACRONYMS, "two.md": HEADINGS, "three.md": PLACEHOLDERS_AND_IMAGES, "four.md": NUMBERED,
}
NAV = [{"Home": "index.md"}, {"Preface": "preface.md"},
       {"Part I: Rules": ["one.md", "two.md", "three.md", "four.md"]},
       {"Back matter": ["glossary.md", "works-cited.md"]}]


@pytest.fixture(scope="module")
def fixture_book(tmp_path_factory) -> Path:
    return write_book(tmp_path_factory.mktemp("tools") / "book", PAGES, nav=NAV)


@pytest.fixture(scope="module")
def built(fixture_book) -> tuple[BookSession, Path]:
    result = build_book(fixture_book)
    assert result.ok, result.log
    return BookSession(load_config(str(fixture_book / "mkdocs.yml"))), result.site


@pytest.fixture(scope="module")
def pages(built) -> dict[str, BuiltPage]:
    session, site = built
    return {Path(page.path).name: page for page in built_pages(session, site)}


def messages(findings) -> list[str]:
    return [str(f) for f in findings]


# ── the markup carries the line of each call ─────────────────────────────────
def test_macro_markup_carries_the_source_line_of_its_call(built):
    _, site = built
    one = lxml_html.parse(str(site / "one" / "index.html")).getroot()
    assert [a.get("data-line") for a in one.cssselect("a.term")] == ["10", "16"]   # front matter counted
    four = lxml_html.parse(str(site / "four" / "index.html")).getroot()
    lines = {e.get("id") or e.get("class"): e.get("data-line")
             for e in four.cssselect("figure, p.table-caption, a.xref-figure, span.citation, .xref-book1")}
    assert lines == {"fig-lonely": "5", "fig-seen": "7", "table-quiet": "9", "xref-figure": "15", "citation": "15",
                     "xref-book1": "15"}


# ── rules over one chapter ───────────────────────────────────────────────────
def test_bare_acronym_before_its_term_is_flagged_with_its_line(pages):
    assert messages(bare_acronyms(pages["one.md"], {"RTF", "WER", "GPU"})) == [
        "docs/one.md:8: 'RTF' is used before the chapter introduces it: write {{ term(\"RTF\") }} at its first use",
        "docs/one.md:10: 'WER' is used before the chapter introduces it: write {{ term(\"WER\") }} at its first use",
    ]   # not the heading, the code, the link or the code span; GPU comes after its term


def test_skipped_heading_levels_and_missing_opening_and_summary(pages):
    assert messages(heading_structure(pages["two.md"])) == [
        "docs/two.md:5: heading level 4 follows level 2: a level is skipped",
        "docs/two.md:11: heading level 6 follows level 3: a level is skipped",
        "docs/two.md:3: a chapter opens with '## What you will learn'",
        "docs/two.md:13: a chapter ends with '## Summary' (key takeaways, what to measure, up next)",
    ]
    assert heading_structure(pages["one.md"]) == []
    assert heading_structure(pages["preface.md"]) == []     # not a numbered chapter


def test_the_generated_reference_list_does_not_end_the_chapter(pages):
    """four.md cites a source, so its page ends with the generated References heading after the Summary."""
    assert pages["four.md"].article.cssselect("h2#references")
    assert heading_structure(pages["four.md"]) == []


def test_placeholders_in_prose_but_not_in_code(pages):
    assert messages(placeholders(pages["three.md"])) == [
        "docs/three.md:5: placeholder 'TBD' left in the text",
        "docs/three.md:17: placeholder 'lorem ipsum' left in the text",
    ]


def test_images_need_a_figure_caption_and_alt_text(pages):
    assert messages(images(pages["three.md"])) == [
        "docs/three.md:11: an image without a number or caption: use {{ figure(id, src, caption, alt=...) }}; "
        "it also has no alt text",
        "docs/three.md:13: an image without a number or caption: use {{ figure(id, src, caption, alt=...) }}; "
        "it also has no alt text",
    ]
    assert images(pages["four.md"]) == []     # figure() makes a numbered, captioned image with alt text


# ── rules over the whole book ────────────────────────────────────────────────
def test_numbered_figures_and_tables_never_referred_to(pages):
    assert messages(unreferenced_numbered(list(pages.values()))) == [
        "docs/four.md:5: figure 'lonely' (4.1) is never referred to: add {{ fig(\"lonely\") }} in the text",
        "docs/four.md:9: table 'quiet' (4.1) is never referred to: add {{ table(\"quiet\") }} in the text",
    ]


def test_unused_terms_and_sources_are_warnings(built):
    session, site = built
    found = messages(unused_data(session, site))
    assert any("warning: glossary term 'jitter buffer' is not used by any chapter yet" in f for f in found)
    assert any("warning: source 'triton-batching' is not cited by any chapter" in f for f in found)
    assert any("glossary term 'WER' is not used" in f for f in found)     # written bare, never with term()
    assert not any(name in f for f in found for name in ("'RTF'", "'GPU'", "'rfc6455'"))


def test_web_sources_need_url_and_accessed(tmp_path):
    data = shutil.copytree(FIXTURE_DATA, tmp_path / "data")
    refs = data / "bibliography" / "refs.yaml"
    refs.write_text(refs.read_text(encoding="utf-8").replace("  accessed: {date-parts: [[2026, 11, 26]]}\n",
                                                             "  issued: {date-parts: [[2026]]}\n"), encoding="utf-8")
    root = write_book(tmp_path / "book", {"index.md": "# Home\n", "one.md": "# One\n", "two.md": "# Two\n"},
                      data=data)
    [finding] = source_fields(BookSession(load_config(str(root / "mkdocs.yml"))))
    assert str(finding).endswith("refs.yaml:9: web source 'triton-batching' needs URL and accessed")


def test_spelling_names_file_and_line(tmp_path):
    page = tmp_path / "x.md"
    page.write_text("# T\n\nIt was recieved.\n", encoding="utf-8")
    [finding] = spelling([page])
    assert str(finding) == f"{page}:3: spelling: recieved ==> received (or add the word to scripts/authoring/wordlist.txt)"


def test_a_missing_word_list_is_an_error_not_zero_findings(tmp_path, monkeypatch):
    monkeypatch.setattr(checks, "WORD_LIST", tmp_path / "gone.txt")
    with pytest.raises(CheckError, match="the spelling word list .*gone.txt is missing"):
        spelling([tmp_path])


def test_codespell_failing_for_another_reason_is_an_error(tmp_path, monkeypatch):
    broken = tmp_path / "codespell"
    broken.write_text("#!/bin/sh\necho 'ERROR: something broke' >&2\nexit 2\n", encoding="utf-8")
    broken.chmod(0o755)
    monkeypatch.setattr(checks.shutil, "which", lambda name: str(broken))
    with pytest.raises(CheckError, match=r"codespell failed \(exit status 2\): ERROR: something broke"):
        spelling([tmp_path])


# ── the command line ─────────────────────────────────────────────────────────
def test_book_check_reports_file_line_messages_and_fails(fixture_book):
    result = subprocess.run([BOOK, "-f", str(fixture_book / "mkdocs.yml"), "check"], capture_output=True, text=True,
                            env={**os.environ, **QUIET})
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "docs/three.md:5: placeholder 'TBD' left in the text" in out
    assert "docs/one.md:8: 'RTF' is used before the chapter introduces it" in out
    assert "docs/four.md:5: figure 'lonely' (4.1) is never referred to" in out
    assert "warning: glossary term 'jitter buffer' is not used by any chapter yet" in out
    assert "error(s)" in result.stderr


def test_book_check_fails_when_the_word_list_is_missing(fixture_book, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(checks, "WORD_LIST", tmp_path / "gone.txt")
    assert cli.main(["-f", str(fixture_book / "mkdocs.yml"), "check"]) == 1
    assert "book check: the spelling word list" in capsys.readouterr().err


def test_book_stats_json(fixture_book):
    result = subprocess.run([BOOK, "-f", str(fixture_book / "mkdocs.yml"), "stats", "--json"],
                            capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    rows = {Path(row["path"]).name: row for row in data["chapters"]}
    assert list(rows) == ["preface.md", "one.md", "two.md", "three.md", "four.md"]
    four = rows["four.md"]
    assert four["title"] == "Chapter 4: Figures"
    assert (four["figures"], four["tables"], four["citations"], four["book1_references"], four["pseudocode_blocks"]) \
        == (2, 1, 1, 1, 1)
    assert rows["one.md"]["glossary_terms"] == 2
    # What the reader reads: the title, headings, prose and the terms as shown ("real-time factor (RTF)"); not the
    # code, the code span or the permalinks.
    assert rows["preface.md"]["words"] == len("Preface Anything goes here No opening needed.".split())
    assert data["totals"]["figures"] == 2


def test_stats_reading_time_is_the_sites(built, pages):
    """The minutes come from one function, over the page's content as the site renders it or as the built page
    holds it: the same number either way."""
    _, site = built
    for name, page in pages.items():
        shown = lxml_html.parse(str(site / Path(name).stem / "index.html")).getroot().cssselect(
            ".chapter-eyebrow__reading-time")
        content = lxml_html.tostring(page_article(site / Path(name).stem / "index.html"), encoding="unicode")
        if shown:
            assert shown[0].text_content().strip() == f"{reading_minutes(content)} min read"


def test_reading_time_counts_prose_not_code_or_the_reference_list():
    prose = "<p>" + "word " * 230 + "</p>"
    assert reading_minutes(prose) == 1
    assert reading_minutes("<p>" + "word " * 231 + "</p>") == 2
    code = "<pre><code>" + "code " * 500 + "</code></pre><p><code>" + "span " * 50 + "</code></p>"
    references = '<h2 id="references">References</h2><ol class="references"><li>' + "ref " * 300 + "</li></ol>"
    assert reading_minutes(prose + code + references) == 1
    assert reading_minutes("") == 1


def test_pseudocode_is_highlighted_at_build_time(book):
    built = book({"index.md": "# Home\n", "one.md": NUMBERED, "two.md": "# Two\n"})
    assert built.ok, built.log
    html = built.html("one")
    assert '<span class="k">for each</span>' in html and '<span class="k">send</span>' in html


# ── the pre-scan reads calls as Jinja does ───────────────────────────────────
def test_pre_scan_reads_macro_calls_with_jinja_not_a_regex():
    jinja = Environment(comment_start_string="{##", comment_end_string="##}")
    text = ('# T {#t}\n\n{{ term("Little\'s law") }} and {{ cite("a", "b") }}.\n\n'
            '```\n{{ term("in-code") }}\n```\n\n`{{ figure("in-span", "x.svg", "c") }}` {## term("in-comment") ##}\n\n'
            '{% call recap(5) %}{{ figure("inside", "x.svg", "c", alt="a") }}{% endcall %}\n')
    assert list(literal_calls(jinja, text)) == [("term", ("Little's law",)), ("cite", ("a", "b")), ("recap", ()),
                                                ("figure", ("inside", "x.svg", "c"))]
    assert list(literal_calls(jinja, "{{ term(")) == []   # not Jinja: the page's render reports it


def test_a_term_with_an_apostrophe_gets_its_glossary_back_link(tmp_path):
    data = shutil.copytree(FIXTURE_DATA, tmp_path / "data")
    glossary = data / "glossary.yml"
    glossary.write_text(glossary.read_text(encoding="utf-8")
                        + "- term: Little's law\n  definition: Items in a system equal arrival rate times time.\n",
                        encoding="utf-8")
    result = build_book(write_book(tmp_path / "book", {"index.md": "# Home\n", "two.md": "# Two\n",
                                                       "one.md": "# One\n\nBy {{ term(\"Little's law\") }}.\n"},
                                   data=data))
    assert result.ok, result.log
    entry = lxml_html.fromstring(result.html("glossary")).get_element_by_id("term-littles-law").getnext()
    assert "Used in: Chapter 1" in entry.text_content()


def test_an_acronym_in_a_cited_title_is_not_a_bare_use():
    article = lxml_html.fromstring('<article><p>Text.</p><ol class="references"><li>“Streaming ASR.” A paper.</li>'
                                   '</ol></article>')
    page = BuiltPage("docs/one.md", "# One\n\nText.\n", article, True)
    assert bare_acronyms(page, {"ASR"}) == []
    article = lxml_html.fromstring('<article><p>Streaming ASR.</p></article>')
    assert bare_acronyms(BuiltPage("docs/one.md", "Streaming ASR.\n", article, True), {"ASR"})
