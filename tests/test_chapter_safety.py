"""Chapters are untrusted input: they may call the book's macros with literal arguments, nothing else; nothing from
outside docs_dir is published; data URLs are web addresses; and every mistake is one `file:line: message`."""
import json
import os
import shutil

import pytest
from jinja2 import Environment

from macros import calls
from macros.citations import Bibliography
from macros.codeguard import protect_code, restore_code
from macros.datafiles import check_url
from macros.errors import DataError
from macros.glossary import Glossary

from bookbuild import FIXTURE_DATA, build_book, clean_env, write_book

GOOD_TWO = "# Two\n\nNothing here.\n"
JINJA = Environment(comment_start_string="{##", comment_end_string="##}")


def one_page(book, one: str, index: str = "# Home\n", **options):
    return book({"index.md": index, "one.md": one, "two.md": GOOD_TWO}, **options)


# ── item 1: only macro calls with literal arguments ─────────────────────────
@pytest.mark.parametrize("construct, shown", [
    ("{{ 7*7 }}", "49"),
    ("{{ config.config_file_path }}", "mkdocs.yml"),
    ('{{ cycler.__init__.__globals__.os.popen("echo pwned-$((6*7))").read() }}', "pwned-42"),
    ("{{ environment }}", "jinja2"),
    ('{% set x = "pwned" %}{{ term(x) }}', "pwned"),
    ("{% if true %}pwned{% endif %}", "pwned"),
    ('{{ term("RTF" ~ "") }}', "real-time factor"),
    ("{{ macros_info() }}", "Macros"),
    ('{{ term(config.site_name) }}', "Productionizing"),
])
def test_anything_but_a_macro_call_with_literals_fails_with_file_line(book, construct, shown):
    built = one_page(book, f"# One\n\nFine line.\n\n{construct}\n")
    assert not built.ok
    assert "docs/one.md:5: " in built.log, built.log
    assert "Traceback" not in built.log
    assert shown not in built.log.replace("docs/one.md", "")
    assert not (built.site / "one" / "index.html").exists()


def test_refusal_says_how_to_write_braces(book):
    built = one_page(book, "# One\n\n{{ 7*7 }}\n")
    assert "a chapter may only call the book's macros with literal arguments" in built.log
    assert "write it inside a code span" in built.log and "{{ '{{' }}" in built.log


def test_braces_escape_and_raw_blocks_print_as_written(book):
    page = "# One\n\nShow {{ '{{' }} name }} and {% raw %}{% if x %}{{ y }}{% endif %}{% endraw %}.\n"
    built = one_page(book, page)
    assert built.ok, built.log
    html = built.html("one")
    assert "Show {{ name }} and {% if x %}{{ y }}{% endif %}." in html


def test_front_matter_title_cannot_run_jinja(book):
    page = '---\ntitle: "{{ cycler.__init__.__globals__.os.popen(\'echo pwned\').read() }}"\n---\n# One\n'
    built = one_page(book, page)
    assert not built.ok
    assert "docs/one.md:2: in the page title:" in built.log
    assert "pwned\n" not in built.log


def test_landing_page_gets_the_book_identity_from_a_macro(book):
    index = '# Home\n\n<p class="sub">{{ book_info("subtitle") }}</p>\n\n*{{ book_info("book1_title") }}*\n'
    built = one_page(book, "# One\n", index=index)
    assert built.ok, built.log
    html = built.html("")
    assert '<p class="sub">A Serving Engineer\'s Guide to Real-Time Speech and Audio</p>' in html
    assert "<em>Before the 3 AM Alert</em>" in html


def test_real_landing_page_uses_no_configuration_variables():
    text = (calls.__file__ and (FIXTURE_DATA.parents[2] / "chapters" / "index.md")).read_text()
    assert "config." not in text and "extra." not in text


def test_check_template_records_each_call_with_its_line():
    source = 'A {{ term("RTF") }}\n\n{% call recap(5, "S") %}\nB {{ term("RTF", "plural") }}\n{% endcall %}\n'
    macros = {"term": lambda key, form="": "", "recap": lambda chapter, section=None, caller=None: ""}
    found, problems = calls.check_template(JINJA, source, macros)
    assert problems == []
    assert [(c.name, c.args, c.line) for c in found] == [
        ("term", ("RTF",), 1), ("recap", (5, "S"), 3), ("term", ("RTF", "plural"), 4)]


# ── item 2: nothing from outside docs_dir ───────────────────────────────────
def test_a_symlink_in_docs_fails_the_build_naming_it(book, tmp_path):
    root = write_book(tmp_path / "book", {"index.md": "# Home\n", "one.md": "# One\n", "two.md": GOOD_TWO})
    os.symlink("/proc/self/environ", root / "docs" / "env.txt")
    built = build_book(root)
    assert not built.ok
    assert "docs/env.txt: is a symbolic link (to /proc/self/environ)" in built.log
    assert not (built.site / "env.txt").exists()


def test_a_symlink_inside_a_mirrored_folder_is_refused_too(tmp_path):
    from macros.docsfiles import check_docs_files
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    os.symlink("/etc/passwd", docs / "sub" / "passwd")
    with pytest.raises(DataError, match="docs/sub/passwd: is a symbolic link"):
        check_docs_files(docs, tmp_path)


def test_figure_outside_docs_dir_fails_with_file_line(book):
    call = '{{ figure("latency-budget", "../../../../etc/passwd", "Cap.", alt="Alt") }}'
    built = one_page(book, f"# One\n\n{call}\n")
    assert not built.ok
    assert "docs/one.md:3: figure 'latency-budget': image '../../../../etc/passwd' is outside docs/" in built.log


# ── item 3: URLs in data ────────────────────────────────────────────────────
ENTRY = "- id: k\n  type: webpage\n  title: T\n  publisher: P\n  accessed: {{date-parts: [[2026]]}}\n  URL: {url}\n"


@pytest.mark.parametrize("url", ['"javascript:alert(1)"', '"file:///etc/passwd"', '"data:text/html,x"', '"//evil"'])
def test_bibliography_url_must_be_http(tmp_path, url):
    (tmp_path / "a.yaml").write_text(ENTRY.format(url=url))
    with pytest.raises(DataError, match=r"a.yaml:6: entry 1 \(k\): URL: unsafe or unsupported URL"):
        Bibliography.load(tmp_path)


def test_bibliography_http_url_loads(tmp_path):
    (tmp_path / "a.yaml").write_text(ENTRY.format(url="https://example.org/x"))
    assert Bibliography.load(tmp_path).get("k").csl["URL"] == "https://example.org/x"


def test_url_rule_allows_mailto_only_for_addresses():
    check_url("mailto:a@example.org", "here", ("http", "https", "mailto"))
    with pytest.raises(DataError):
        check_url("mailto:a@example.org", "here")


def test_unsafe_data_url_fails_the_build(book, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, data)
    (data / "bibliography" / "refs.yaml").write_text(ENTRY.format(url='"javascript:alert(1)"'))
    built = one_page(book, "# One\n", data=data)
    assert not built.ok
    assert "refs.yaml:6: entry 1 (k): URL: unsafe or unsupported URL 'javascript:alert(1)'" in built.log


# ── item 4: the line of the call itself ─────────────────────────────────────
def test_second_call_with_the_same_key_reports_its_own_line(book):
    page = '# One\n\n{{ term("RTF", "plural") }}\n\n{{ term("RTF", "plurl") }}\n'
    built = one_page(book, page)
    assert "docs/one.md:5: unknown term form 'plurl'" in built.log


def test_front_matter_does_not_shift_lines(book):
    page = '---\nhide:\n  - toc\n---\n# One\n\nText.\n\n{{ term("RTX") }}\n'
    built = one_page(book, page)
    assert "docs/one.md:9: unknown glossary term 'RTX'" in built.log


def test_syntax_error_after_a_code_block_names_its_line_without_placeholders(book):
    page = '# One\n\n```python\na = 1\nb = 2\n```\n\nInline `x`.\n\n{{ term("RTF" }}\n'
    built = one_page(book, page)
    assert not built.ok
    assert "docs/one.md:10: not valid Jinja" in built.log
    assert "\x02" not in built.log and "\x03" not in built.log


def test_calls_inside_a_recap_report_their_own_line(book):
    page = ('# One\n\nA term, named in prose.\n\n{% call recap(5, "WebSocket Optimization") %}\n'
            'See {{ term(key="RTX") }}.\n{% endcall %}\n')
    built = one_page(book, page)
    assert "docs/one.md:6: unknown glossary term 'RTX'" in built.log


def test_a_failed_recap_does_not_shift_the_lines_after_it(book):
    page = ('# One\n\n{% call recap(15) %}\n{{ term("RTF") }}\n{% endcall %}\n\n'
            '{{ term("RTF") }} {{ term("RTF", "plurl") }}\n')
    built = one_page(book, page)
    assert "docs/one.md:3: unknown Book 1 chapter 15" in built.log
    assert "docs/one.md:7: unknown term form 'plurl'" in built.log


# ── item 5: messages, not tracebacks ────────────────────────────────────────
@pytest.mark.parametrize("call, message", [
    ("{{ term() }}", "term(): missing a required argument: 'key'; write term(key: str, form: str = '')"),
    ("{{ term(3) }}", "term(): key must be a string, not 3; write term(key: str, form: str = '')"),
    ('{{ figure("x") }}', "figure(): missing a required argument: 'src'; write figure(item_id: str, src: str, "
                          "caption: str, alt: str = '')"),
    ('{{ term("RTF", plural=true) }}', "term(): got an unexpected keyword argument 'plural'"),
    ('{{ cite("a", 2) }}', "cite(): keys must be a string, not 2"),
    ('{{ recap(5) }}', "recap() is written {% call recap(...) %} ... {% endcall %}"),
    ('{% call term("RTF") %}x{% endcall %}', "term() is written {{ term(...) }}"),
])
def test_wrong_arguments_are_one_line_with_the_expected_form(book, call, message):
    built = one_page(book, f"# One\n\n{call}\n")
    assert not built.ok
    assert f"docs/one.md:3: {message}" in built.log
    assert "Traceback" not in built.log


@pytest.mark.parametrize("text, message", [
    ("- term: RTF\n  definition: d\n  related: WER\n- term: WER\n  definition: d\n",
     "g.yml:3: entry 1 (RTF): related must be a list of strings, such as [WER, RTF], not a string 'WER'"),
    ("- term: RTF\n  definition: [a, b]\n", "g.yml:2: entry 1 (RTF): definition must be a string, not a list"),
    ("- term: RTF\n  definition: d\n  book1: maybe\n", "g.yml:3: entry 1 (RTF): book1 must be true or false"),
    ("- just a string\n", "g.yml:1: entry 1: expected a mapping"),
])
def test_malformed_glossary_names_file_line_and_expected_form(tmp_path, text, message):
    (tmp_path / "g.yml").write_text(text)
    with pytest.raises(DataError) as raised:
        Glossary.load(tmp_path / "g.yml")
    assert message in str(raised.value)


@pytest.mark.parametrize("field, message", [
    ("issued: {date-parts: [[2026, 13]]}", "a.yaml:6: entry 1 (k): issued: date-parts must be [[year, month, day]]"),
    ("issued: {date-parts: [[2026, 2, 30]]}", "a.yaml:6: entry 1 (k): issued: date-parts must be"),
    ("issued: 2026", "a.yaml:6: entry 1 (k): issued must be {date-parts: [[year, month, day]]}"),
    ('author: "Ian Fette"', "a.yaml:6: entry 1 (k): author must be a list of names"),
    ("author: [{name: Ian}]", "a.yaml:6: entry 1 (k): author must be a list of names"),
])
def test_malformed_bibliography_names_file_line_and_expected_form(tmp_path, field, message):
    text = "- id: k\n  type: webpage\n  title: T\n  publisher: P\n  accessed: {date-parts: [[2026]]}\n  " + field + "\n"
    (tmp_path / "a.yaml").write_text(text)
    with pytest.raises(DataError) as raised:
        Bibliography.load(tmp_path)
    assert message in str(raised.value)


def test_malformed_data_in_a_build_is_one_line_not_a_traceback(book, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, data)
    (data / "glossary.yml").write_text("- term: RTF\n  definition: d\n  related: WER\n")
    built = one_page(book, "# One\n", data=data)
    assert not built.ok
    assert "glossary.yml:3: entry 1 (RTF): related must be a list of strings" in built.log
    assert "Traceback" not in built.log


# ── item 6: code, <pre> and comments ────────────────────────────────────────
def test_indented_code_pre_and_comments_do_not_run_macros(book):
    page = ('# One\n\nSample:\n\n    {{ term("RTF") }} stays\n\n<pre>{{ cite("rfc6455") }}</pre>\n\n'
            '<!-- {{ term("WER") }} -->\n\nFirst {{ term("WER") }}.\n\n- item\n\n    {{ term("GPU") }} in a list\n')
    built = one_page(book, page)
    assert built.ok, built.log
    html = built.html("one")
    assert '<code>{{ term("RTF") }} stays' in html
    assert '<pre>{{ cite("rfc6455") }}</pre>' in html
    assert '<!-- {{ term("WER") }} -->' in html
    assert ">word error rate (WER)</a>" in html       # the comment did not use up the first-use expansion
    assert ">graphics processing unit (GPU)</a> in a list" in html   # list content is prose, not code
    assert 'class="references"' not in html


def test_code_guard_keeps_lines_and_round_trips():
    source = "a\n\n```\nx\ny\n```\n\n    indented\n    code\n\n<!--\ncomment\n-->\n{{ z }}\n"
    protected, saved = protect_code(source)
    assert protected.count("\n") == source.count("\n")
    assert protected.splitlines()[13] == "{{ z }}"
    assert restore_code(protected, saved) == source


# ── item 7 and 8: titles and editions ───────────────────────────────────────
def test_title_with_a_macro_is_plain_text_in_xref_and_contents(book):
    built = book({"index.md": "# Home\n\n{{ contents() }}\n", "one.md": '# The {{ term("RTF") }} budget\n',
                  "two.md": GOOD_TWO})
    assert built.ok, built.log
    chapters = {c["url"]: c for c in json.loads((built.site / "xref.json").read_text())["chapters"]}
    assert chapters["one/"]["title"] == "The real-time factor (RTF) budget"
    assert "{{" not in built.html("") and "The real-time factor (RTF) budget</a>" in built.html("")


def test_term_on_the_landing_page_adds_no_back_link_the_editions_lack(book):
    built = book({"index.md": '# Home\n\nAbout {{ term("WER") }}.\n', "one.md": '# One\n\n{{ term("WER") }}\n',
                  "two.md": GOOD_TWO}, pdf=True)
    assert built.ok, built.log
    glossary = built.html("glossary")
    wer = glossary[glossary.index('id="term-wer"'):]
    wer = wer[:wer.index("</dd>")]
    assert 'Used in: <a href="../one/">Chapter 1</a></p>' in wer
    assert built.pdf.exists()


def test_a_cached_render_is_never_read_as_a_template_again(tmp_path):
    """`mkdocs serve` rebuilds in one process and reuses unchanged pages' renders: data that reached the page
    (a glossary definition with braces) must not be rendered as Jinja the second time."""
    import subprocess
    import sys
    data = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, data)
    (data / "glossary.yml").write_text("- term: RTF\n  definition: Shown as {{ 7*7 }} literally.\n")
    root = write_book(tmp_path / "book", {"index.md": "# Home\n", "one.md": '# One\n\n{{ term("RTF") }}\n',
                                          "two.md": GOOD_TWO}, data=data)
    script = ("from mkdocs.commands.build import build; from mkdocs.config import load_config\n"
              "for _ in range(3): build(load_config('mkdocs.yml'))\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True,
                            env=clean_env({"BOOK_EDITIONS": "false"}), timeout=120)
    assert result.returncode == 0, result.stderr
    html = (root / "site" / "one" / "index.html").read_text()
    assert 'title="Shown as {{ 7*7 }} literally."' in html


def test_front_matter_key_named_like_a_macro_is_refused(book):
    built = one_page(book, '---\nterm: x\n---\n# One\n\n{{ term("RTF") }}\n')
    assert not built.ok
    assert "docs/one.md:1: the front matter key 'term' has the name of a macro" in built.log
