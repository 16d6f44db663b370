"""The output policy (scripts/safety.py): unsafe URLs, raw HTML that runs or fetches, and scripted or external SVG
fail the build naming the chapter's file and line; the EPUB refuses the same things."""
from datetime import datetime, timezone

import pytest
from lxml import html as lxml_html

from bookbuild import build_book, write_book
from scripts.shared import safety
from scripts.epub.writer import render_epub
from scripts.pdf.document import BookMeta, PrintError

SCRIPTED_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" onload="alert(1)">'
                '<script>alert(2)</script><rect width="10" height="10"/></svg>\n')
REMOTE_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 1 1">'
              '<image xlink:href="https://example.com/x.png" width="1" height="1"/></svg>\n')
CLEAN_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" role="img"><title>Box</title>'
             '<defs><rect id="r" width="10" height="10"/></defs><use href="#r"/></svg>\n')


@pytest.mark.parametrize("url, safe", [
    ("https://example.com/", True), ("http://x", True), ("mailto:a@b.c", True), ("../one/#x", True),
    ("#fn:1", True), ("images/a.svg", True),
    ("javascript:alert(1)", False), ("JavaScript:alert(1)", False), (" java\tscript:alert(1)", False),
    ("data:text/html,<script>", False), ("vbscript:x", False), ("file:///etc/passwd", False),
])
def test_only_http_https_mailto_and_relative_urls_are_safe(url, safe):
    assert safety.is_safe_url(url) is safe


def test_css_urls_are_found_through_escapes():
    assert safety.css_urls(r"background: u\72l('https://x.test/a.png')") == ["https://x.test/a.png"]
    assert safety.css_urls("@import 'https://x.test/a.css'; color: red") == ["https://x.test/a.css"]


@pytest.mark.parametrize("markup, expected", [
    ('<p><a href="javascript:alert(1)">x</a></p>', "unsafe URL 'javascript:alert(1)' in href"),
    ('<img srcset="a.png 1x, javascript:x 2x" alt="">', "unsafe URL 'javascript:x' in srcset"),
    ('<svg><a xlink:href="javascript:x"><text>t</text></a></svg>', "xlink:href='javascript:x' in an SVG"),
    ('<form action="https://x.test/"><input></form>', "<form action=...> is not allowed"),
    ('<button formaction="javascript:x">b</button>', "unsafe URL 'javascript:x' in formaction"),
    ('<video poster="https://x.test/p.png"></video>', "remote poster 'https://x.test/p.png'"),
    ('<p style="background: url(https://x.test/t.png)">x</p>', "remote url('https://x.test/t.png')"),
    ('<p style="background: url(javascript:x)">x</p>', "unsafe URL 'javascript:x' in a style attribute"),
    ('<img src="https://x.test/a.png" alt="a">', "remote src 'https://x.test/a.png'"),
    ('<img src="//x.test/a.png" alt="a">', "remote src '//x.test/a.png'"),
    ('<script>alert(1)</script>', "<script> is not allowed"),
    ('<iframe src="page.html"></iframe>', "<iframe> is not allowed"),
    ('<object data="a.swf"></object>', "<object> is not allowed"),
    ('<embed src="a.swf">', "<embed> is not allowed"),
    ('<p onclick="alert(1)">x</p>', "event-handler attribute onclick"),
    ('<svg onload="alert(1)"></svg>', "event-handler attribute onload"),
    ('<svg><foreignObject></foreignObject></svg>', "is not allowed in an SVG"),
    ('<svg><use href="sprite.svg#a"></use></svg>', "a drawing must be self-contained"),
])
def test_html_policy_names_what_is_wrong(markup, expected):
    problems = safety.html_problems(lxml_html.fragment_fromstring(markup, create_parent="div"))
    assert any(expected in problem.message for problem in problems), [p.message for p in problems]


def test_the_book_own_markup_passes():
    markup = ('<p><a href="../two/#x" class="xref">x</a> <a href="https://example.com/">y</a></p>'
              '<figure><img src="../images/a.svg" alt="A"></figure><sup id="fnref:1"><a href="#fn:1">1</a></sup>'
              '<p style="color: red">z</p><svg viewBox="0 0 1 1"><use href="#r"/></svg>')
    assert safety.html_problems(lxml_html.fragment_fromstring(markup, create_parent="div")) == []


def test_svg_files_must_parse_run_nothing_and_refer_only_to_themselves(tmp_path):
    files = {"scripted.svg": SCRIPTED_SVG, "remote.svg": REMOTE_SVG, "clean.svg": CLEAN_SVG,
             "broken.svg": "<svg><g></svg>", "entity.svg": '<!DOCTYPE svg [<!ENTITY x "y">]><svg>&x;</svg>'}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    messages = {name: " ".join(p.message for p in safety.svg_file_problems(tmp_path / name)) for name in files}
    assert "<script> is not allowed" in messages["scripted.svg"] and "onload" in messages["scripted.svg"]
    assert "self-contained" in messages["remote.svg"]
    assert "not well-formed XML" in messages["broken.svg"]
    assert "declares XML entities" in messages["entity.svg"]
    assert messages["clean.svg"] == ""


def test_a_javascript_link_fails_the_build_naming_file_and_line(book):
    built = book({"index.md": "# Home\n", "one.md": "# One\n\nFine.\n\nClick [x](javascript:alert(1)) now.\n",
                  "two.md": "# Two\n"})
    assert not built.ok
    assert "docs/one.md:5: unsafe URL 'javascript:alert(1)'" in built.log


def test_raw_html_that_runs_or_fetches_fails_with_one_line_each(book):
    one = ("# One\n\n"
           "<script>alert(1)</script>\n\n"
           '<p onclick="steal()">Click.</p>\n\n'
           '<iframe src="https://example.com/"></iframe>\n\n'
           '<p style="background: url(https://example.com/t.png)">Tracked.</p>\n\n'
           '<img src="https://example.com/pixel.png" alt="pixel">\n\n'
           '<form action="https://example.com/collect"><input name="q"></form>\n')
    built = book({"index.md": "# Home\n", "one.md": one, "two.md": "# Two\n"})
    assert not built.ok
    for line, message in [(3, "<script> is not allowed"), (5, "event-handler attribute onclick"),
                          (7, "<iframe> is not allowed"), (9, "remote url('https://example.com/t.png')"),
                          (11, "remote src 'https://example.com/pixel.png'"), (13, "<form action=...>")]:
        assert f"docs/one.md:{line}: {message}" in built.log, built.log


def test_a_scripted_svg_figure_fails_the_build(book):
    pages = {"index.md": "# Home\n", "two.md": "# Two\n", "images/bad.svg": SCRIPTED_SVG,
             "one.md": '# One\n\nText.\n\n{{ figure("bad", "images/bad.svg", "A caption.", alt="A box") }}\n\n'
                       'See {{ fig("bad") }}.\n'}
    built = book(pages)
    assert not built.ok
    assert "docs/one.md:5: bad.svg: <script> is not allowed in an SVG" in built.log, built.log
    assert "docs/one.md:5: bad.svg: event-handler attribute onload" in built.log


def test_inline_svg_with_an_external_reference_fails_the_build(book):
    one = '# One\n\n<svg viewBox="0 0 1 1"><image href="https://example.com/x.png"/></svg>\n'
    built = book({"index.md": "# Home\n", "one.md": one, "two.md": "# Two\n"})
    assert not built.ok
    assert "docs/one.md:3: href='https://example.com/x.png' in an SVG" in built.log, built.log


def test_the_epub_refuses_a_scripted_svg_in_the_site(tmp_path):
    pages = {"index.md": "# Home\n", "two.md": "# Two\n", "images/box.svg": CLEAN_SVG,
             "one.md": '# One\n\n{{ figure("box", "images/box.svg", "A caption.", alt="A box") }}\n\n'
                       'See {{ fig("box") }}.\n'}
    built = build_book(write_book(tmp_path / "book", pages))
    assert built.ok, built.log
    (built.site / "images" / "box.svg").write_text(SCRIPTED_SVG, encoding="utf-8")  # changed after the build
    meta = BookMeta("T", "S", "A", "C", "(c)", "0", "2026-01-01", "D", "k")
    with pytest.raises(PrintError, match=r"images/box.svg: <script> is not allowed in an SVG"):
        render_epub(built.site, tmp_path / "book.epub", meta, datetime.now(timezone.utc))
    assert not (tmp_path / "book.epub").exists()
