"""The author's tools: `book check` rules, `book stats`, the pseudocode lexer, and the CLI around them."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bookbuild import write_book
from scripts.authoring.checks import Page, bare_acronyms, heading_structure, images, placeholders
from macros.codeguard import mask_code

BOOK = str(Path(sys.executable).parent / "book")


def page(text: str, numbered: bool = True) -> Page:
    return Page("chapters/x.md", text, mask_code(text), numbered)


def test_bare_acronym_before_its_term_is_flagged_with_its_line():
    text = '# T\n\nThe RTF matters.\n\nLater {{ term("RTF") }} again.\n'
    [finding] = bare_acronyms(page(text), {"RTF"})
    assert str(finding).startswith("chapters/x.md:3: 'RTF' is used before the chapter introduces it")


def test_acronym_after_its_term_in_code_or_in_a_heading_is_fine():
    text = '# The RTF\n\nA {{ term("RTF") }} and then RTF.\n\n```\nRTF in code\n```\n\nInline `RTF` too.\n'
    assert bare_acronyms(page(text), {"RTF"}) == []


def test_skipped_heading_levels_and_missing_opening_and_summary():
    text = "# T\n\n## Intro\n\n#### Too deep\n\n## End\n"
    messages = [f.message for f in heading_structure(page(text))]
    assert "heading level 4 follows level 2: a level is skipped" in messages
    assert any("opens with '## What you will learn'" in m for m in messages)
    assert any("ends with '## Summary'" in m for m in messages)
    good = "# T\n\n## What you will learn\n\nx\n\n## Body\n\n### Part\n\n## Summary\n"
    assert heading_structure(page(good)) == []
    assert heading_structure(page("# Preface\n\n## Anything\n", numbered=False)) == []


def test_placeholders_in_prose_but_not_in_code():
    text = "# T\n\nTBD: write this.\n\n```\n# TODO in a code sample is fine\n```\n"
    [finding] = placeholders(page(text))
    assert (finding.line, finding.message) == (3, "placeholder 'TBD' left in the text")


def test_images_need_a_figure_caption_and_alt_text():
    text = '# T\n\n![](a.svg)\n\n<img src="b.svg">\n'
    messages = [str(f) for f in images(page(text))]
    assert messages[0].startswith("chapters/x.md:3: an image without a number or caption") and "no alt text" in messages[0]
    assert messages[1] == "chapters/x.md:5: an image without alt text"


PAGES = {
    "index.md": "# Home\n",
    "one.md": "# One\n\n## What you will learn\n\nThe {{ term(\"RTF\") }} recieved a TODO.\n\n"
              "{{ figure(\"lonely\", \"assets/images/favicon.svg\", \"Cap.\", alt=\"Icon\") }}\n\n"
              "```pseudocode\nfor each chunk in stream\n    send chunk\n```\n\n## Summary\n\nDone.\n",
    "two.md": "# Two\n\n## What you will learn\n\nFine.\n\n## Summary\n\nDone.\n",
}


@pytest.fixture(scope="module")
def fixture_book(tmp_path_factory) -> Path:
    return write_book(tmp_path_factory.mktemp("tools") / "book", PAGES)


def test_book_check_reports_file_line_messages_and_fails(fixture_book):
    result = subprocess.run([BOOK, "-f", str(fixture_book / "mkdocs.yml"), "check"], capture_output=True, text=True)
    assert result.returncode == 1
    out = result.stdout
    assert "docs/one.md:5: placeholder 'TODO' left in the text" in out
    assert "one.md:5: spelling: recieved ==> received" in out
    assert "docs/one.md:7: figure 'lonely' (1.1) is never referred to" in out
    assert "warning: glossary term 'GPU' is not used by any chapter yet" in out
    assert "error(s)" in result.stderr


def test_book_stats_json(fixture_book):
    result = subprocess.run([BOOK, "-f", str(fixture_book / "mkdocs.yml"), "stats", "--json"],
                            capture_output=True, text=True, check=True)
    data = json.loads(result.stdout)
    one = data["chapters"][0]
    assert one["title"] == "Chapter 1: One"
    assert (one["figures"], one["glossary_terms"], one["pseudocode_blocks"]) == (1, 1, 1)
    assert one["words"] == 12   # One What you will learn The RTF recieved a TODO Summary Done
    assert data["totals"]["figures"] == 1


def test_pseudocode_is_highlighted_at_build_time(book):
    built = book(PAGES)
    assert built.ok, built.log
    html = built.html("one")
    assert '<span class="k">for each</span>' in html and '<span class="k">send</span>' in html
