"""Fixture books with one mistake each: the build fails, names the file and line, and suggests the fix."""
import re
import shutil

import pytest

from bookbuild import FIXTURE_DATA

GOOD_TWO = "# Two\n\nNothing here.\n"


@pytest.mark.parametrize("call, message", [
    ('{{ term("RTX") }}', "unknown glossary term 'RTX'. Did you mean: 'RTF'?"),
    ('{{ book1(15) }}', "unknown Book 1 chapter 15"),
    ('{{ book1(5, "Websocket Optimisation") }}', "has no section 'Websocket Optimisation'. Did you mean: 'WebSocket Optimization'"),
    ('{{ cite("rfc6456") }}', "unknown citation key 'rfc6456'. Did you mean: 'rfc6455'?"),
    ('{{ fig("latency-budgte") }}', "unknown figure id 'latency-budgte'. Did you mean: 'latency-budget'?"),
    ('{{ table("codecs") }}', "unknown table id 'codecs'"),
    ('{{ figure("latency-budget", "images/missing.svg", "Cap.", alt="Alt") }}', "image 'images/missing.svg' not found"),
    ('{{ figure("latency-budget", "assets/images/favicon.svg", "Cap.") }}', "needs alt text"),
])
def test_bad_reference_fails_with_file_line_and_hint(book, call, message):
    one = f"# One\n\nFine line.\n\n{call}\n"
    two = '# Two\n\n{{ figure("latency-budget", "assets/images/favicon.svg", "Cap.", alt="Alt") }}\n'
    if "figure(" in call:
        two = GOOD_TWO
    built = book({"index.md": "# Home\n", "one.md": one, "two.md": two})
    assert not built.ok
    assert f"docs/one.md:5: " in built.log
    assert message in built.log
    assert not (built.site / "one" / "index.html").exists()


def test_every_bad_reference_on_a_page_is_reported_at_once(book):
    built = book({"index.md": "# Home\n", "two.md": GOOD_TWO,
                  "one.md": '# One\n\n{{ term("RTX") }}\n\n{{ cite("nope") }}\n'})
    assert "docs/one.md:3: unknown glossary term" in built.log
    assert "docs/one.md:5: unknown citation key" in built.log


def test_undefined_macro_fails_the_build(book):
    built = book({"index.md": "# Home\n", "two.md": GOOD_TWO, "one.md": '# One\n\n{{ trem("RTF") }}\n'})
    assert not built.ok
    assert "one.md" in built.log and "trem" in built.log


def test_duplicate_figure_id_names_both_pages(book):
    figure = '{{ figure("same", "assets/images/favicon.svg", "Cap.", alt="Alt") }}\n'
    built = book({"index.md": "# Home\n", "one.md": "# One\n\n" + figure, "two.md": "# Two\n\n" + figure})
    assert not built.ok
    assert "two.md: figure id 'same' is already used in one.md" in built.log


@pytest.mark.parametrize("glossary_text, message", [
    ("- {term: RTF}\n", "glossary.yml:1: entry 1: missing definition"),
    ("- {term: RTF, definition: a}\n- {term: RTF, definition: b}\n", "duplicate term 'RTF'"),
    ("- term: RTF\n  definition: a\n  definition: b\n", "glossary.yml:3: duplicate key 'definition'"),
])
def test_malformed_data_fails_naming_file_and_key(book, tmp_path, glossary_text, message):
    data = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, data, symlinks=False)
    (data / "glossary.yml").write_text(glossary_text)
    built = book({"index.md": "# Home\n", "one.md": "# One\n", "two.md": GOOD_TWO}, data=data)
    assert not built.ok
    assert message in built.log


def test_code_with_jinja_like_text_comes_out_unchanged(book):
    built = book(scenario="jinja-in-code")   # tests/books/jinja-in-code/docs/one.md
    assert built.ok, built.log
    html = built.html("one")
    text = html.replace("&#39;", "'")
    code_text = re.sub(r"<[^>]+>", "", text[text.index('<div class="language-jinja'):])
    assert "{% if user %}Hello {{ user.name }}{% endif %}" in code_text.replace("&quot;", '"')
    assert "{# a Jinja comment #}" in code_text
    assert "<code>{{ raw }}</code>" in html
    assert 'id="custom-anchor"' in html
