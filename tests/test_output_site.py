"""What the site's pages carry beyond the chapter: the page description in <meta> tags, escaped once, the reading
time (the same number `book stats` gives) and the code palette."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import html as lxml_html

from bookbuild import ROOT, build_book, write_book
from scripts.shared import highlight

BOOK = str(Path(sys.executable).parent / "book")
HOSTILE = 'a "quoted" <script>x</script> & more'
CODE_HEAVY = ("# One\n\n## What you will learn\n\n" + "Prose word " * 150 + "\n\n```python\n"
              + "value = compute(value)  # a comment with words\n" * 60 + "```\n\n## Summary\n\nDone.\n")


@pytest.fixture(scope="module")
def site_book(tmp_path_factory):
    pages = {"index.md": "# Home\n",
             "one.md": f"---\ndescription: '{HOSTILE}'\n---\n\n# One\n\nA first chapter with a description.\n",
             "two.md": CODE_HEAVY}
    built = build_book(write_book(tmp_path_factory.mktemp("site") / "book", pages))
    assert built.ok, built.log
    return built


def head_meta(built, page: str) -> dict:
    head = lxml_html.fromstring(built.html(page)).find("head")
    return {m.get("name") or m.get("property"): m.get("content") for m in head.iter("meta")}, head


def test_front_matter_description_is_escaped_into_every_meta_tag(site_book):
    meta, head = head_meta(site_book, "one")
    assert meta["description"] == HOSTILE
    assert meta["og:description"] == HOSTILE
    assert [s.text for s in head.iter("script") if s.text and "x" == s.text.strip()] == []


def test_a_computed_description_is_escaped_once(site_book):
    meta, _ = head_meta(site_book, "two")
    assert meta["description"].startswith("Prose word Prose word")
    assert "&amp;" not in meta["description"]


def test_site_and_book_stats_give_the_same_reading_time(site_book):
    eyebrow = lxml_html.fromstring(site_book.html("two")).cssselect(".chapter-eyebrow__reading-time")[0]
    result = subprocess.run([BOOK, "-f", str(site_book.root / "mkdocs.yml"), "stats", "--json"],
                            capture_output=True, text=True, check=True)
    stats = {row["path"]: row for row in json.loads(result.stdout)["chapters"]}
    minutes = stats["docs/two.md"]["reading_minutes"]
    assert eyebrow.text_content().strip() == f"{minutes} min read"
    assert minutes == 2   # 300 words of prose; the code is not read as prose


def test_the_site_links_the_generated_code_palette(site_book):
    css = (site_book.site / "assets" / "stylesheets" / "highlight.css").read_text(encoding="utf-8")
    assert css == highlight.web_css()
    links = [link.get("href") for link in lxml_html.fromstring(site_book.html("two")).iter("link")]
    assert links.index("../assets/stylesheets/highlight.css") > links.index("../assets/stylesheets/book.css")


def test_the_real_book_shows_the_reading_time_book_stats_gives(real_site):
    result = subprocess.run([BOOK, "stats", "--json"], cwd=ROOT, capture_output=True, text=True, check=True)
    compared = 0
    for row in json.loads(result.stdout)["chapters"]:
        page = real_site / Path(row["path"]).stem / "index.html"
        for shown in lxml_html.parse(str(page)).getroot().cssselect(".chapter-eyebrow__reading-time"):
            assert shown.text_content().strip() == f"{row['reading_minutes']} min read", row["path"]
            compared += 1
    assert compared >= 3   # every numbered chapter shows its reading time (the preface has no eyebrow)
