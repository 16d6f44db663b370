"""The presenters' own parts: the site's one lxml pass over its pages, names that never collide, and front matter
and covers drawn from the book's configuration rather than spelled out."""
import re
import zipfile
from pathlib import Path

from lxml import html

import scripts.hooks
from scripts.web.site import finish_pages

MATERIAL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>T</title></head><body>
<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">
<div class="md-search" data-md-component="search" role="dialog"></div>
<label class="md-nav__link" for="x" tabindex="">X</label>
<a aria-label="Next: GPU Optimization &amp;amp; Cold Starts" href="#">Next</a>
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><linearGradient id="g"/><path d="M0 0"/></svg>
<ul>
  <li class="book-downloads__item" data-download="book.pdf"><a>PDF <span class="download-size" data-download="book.pdf"></span></a></li>
  <li class="book-downloads__item" data-download="book.epub"><a>EPUB <span class="download-size" data-download="book.epub"></span></a></li>
</ul>
</body></html>
"""


def test_one_pass_repairs_the_theme_and_offers_only_written_editions(tmp_path):
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / "book.pdf").write_bytes(b"x" * 1_250_000)
    (tmp_path / "page").mkdir()
    (tmp_path / "page" / "index.html").write_text(MATERIAL_PAGE, encoding="utf-8")
    finish_pages(tmp_path)
    text = (tmp_path / "page" / "index.html").read_text(encoding="utf-8")
    page = html.fromstring(text)
    assert page.cssselect("div.md-search")[0].get("aria-label") == "Search the book"
    assert 'tabindex=""' not in text and "autocomplete" not in text
    assert page.cssselect("a[href='#']")[0].get("aria-label") == "Next: GPU Optimization & Cold Starts"
    assert [li.get("data-download") for li in page.cssselect("li.book-downloads__item")] == ["book.pdf"]
    assert page.cssselect("span.download-size")[0].text == "1.2 MB"
    assert 'viewBox="0 0 24 24"' in text and "<linearGradient" in text   # SVG keeps its spelling
    assert text.lower().startswith("<!doctype html>")


def test_the_pass_is_idempotent_and_leaves_an_unchanged_page_alone(tmp_path):
    (tmp_path / "index.html").write_text(MATERIAL_PAGE, encoding="utf-8")
    finish_pages(tmp_path)
    once = (tmp_path / "index.html").read_text(encoding="utf-8")
    stamp = (tmp_path / "index.html").stat().st_mtime_ns
    finish_pages(tmp_path)
    assert (tmp_path / "index.html").read_text(encoding="utf-8") == once
    assert (tmp_path / "index.html").stat().st_mtime_ns == stamp


def test_theme_markup_is_repaired_in_one_place_not_per_page_and_per_template():
    assert not hasattr(scripts.hooks, "on_post_page") and not hasattr(scripts.hooks, "on_post_template")


def test_built_pages_are_repaired_and_offer_no_edition_that_was_not_written(book):
    built = book({"index.md": "# Home\n", "one.md": "# One\n\nText.\n", "two.md": "# Two\n\nText.\n"})
    assert built.ok, built.log
    for page in ("", "one", "404.html"):
        text = (built.site / page / "index.html").read_text() if page != "404.html" else \
            (built.site / page).read_text()
        assert 'aria-label="Search the book"' in text and 'tabindex=""' not in text, page
        assert "book-downloads__item" not in text, page


def test_pages_whose_urls_slug_alike_get_their_own_social_cards(book):
    pages = {"index.md": "# Home\n", "a-b.md": "# Dashed\n\nText.\n", "a/b.md": "# Nested\n\nText.\n"}
    nav = [{"Home": "index.md"}, {"Part I: Foundations": ["a-b.md", "a/b.md"]},
           {"Back matter": ["glossary.md", "works-cited.md"]}]
    built = book(pages, nav=nav)
    assert built.ok, built.log
    image = re.compile(r'<meta property="og:image" content="[^"]*/(assets/images/social/[^"]+\.png)"')
    cards = {image.search(built.html(page))[1] for page in ("a-b", "a/b")}
    assert len(cards) == 2 and all((built.site / card).is_file() for card in cards)


def test_covers_and_front_matter_come_from_the_configuration(book):
    pages = {"index.md": "# Home\n", "one.md": "# One\n\nText.\n", "two.md": "# Two\n\nText.\n"}
    data = str(Path(__file__).resolve().parent / "fixtures" / "data")
    built = book(pages, pdf=True, extra_config={"site_name": "Cats & Dogs <Serve> Models Well",
                                                "extra": {"book_data": data}})
    assert built.ok, built.log
    with zipfile.ZipFile(built.pdf.with_suffix(".epub")) as epub:
        cover = epub.read("EPUB/cover.svg").decode()
    assert "Cats &amp; Dogs &lt;Serve&gt;" in cover and "Productionizing" not in cover
