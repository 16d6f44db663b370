"""The hosted site's build hooks (scripts/web/site.py): the pure helpers, and what they leave in the real build."""
import re
from datetime import date
from pathlib import Path

from lxml import html as lxml_html
from PIL import Image

from scripts.web.site import describe, drop_missing_downloads, fix_theme_markup, git_last_updated, last_updated_html


def test_description_is_the_first_real_paragraph_cut_at_a_word():
    page = '<p class="caption">Figure 1</p><p>' + "A sentence of eight words or so here. " * 10 + "</p>"
    text = describe(page, 60)
    assert text.startswith("A sentence of eight") and text.endswith("\u2026") and len(text) <= 60
    assert describe("<p>Too short</p>", 60) == ""


def test_theme_repairs():
    material = ('<input class="md-toggle" data-md-toggle="drawer" type="checkbox" id="__drawer" autocomplete="off">'
                '<div class="md-search" data-md-component="search" role="dialog">'
                '<label class="md-nav__link" for="x" tabindex="">'
                '<a aria-label="Next: GPU Optimization &amp;amp; Cold Starts">')
    fixed = fix_theme_markup(material)
    assert 'autocomplete' not in fixed and 'tabindex=""' not in fixed
    assert 'role="dialog" aria-label="Search the book"' in fixed
    assert 'aria-label="Next: GPU Optimization &amp; Cold Starts"' in fixed


def test_only_written_editions_are_offered(tmp_path):
    (tmp_path / "book.pdf").write_bytes(b"%PDF-")
    page = ('<ul>\n<li class="book-downloads__item" data-download="book.pdf"><a>PDF</a></li>\n'
            '<li class="book-downloads__item" data-download="book.epub"><a>EPUB</a></li>\n</ul>')
    offered = drop_missing_downloads(page, tmp_path)
    assert "book.pdf" in offered and "book.epub" not in offered


def test_last_updated_needs_git_history(tmp_path):
    untracked = tmp_path / "page.md"
    untracked.write_text("# Page\n")
    assert git_last_updated(untracked) is None
    assert last_updated_html(date(2026, 3, 5)) == 'Last updated <time datetime="2026-03-05">5 March 2026</time>'


def test_every_page_has_a_description_and_a_social_card(real_site):
    for page in real_site.rglob("index.html"):
        head = lxml_html.parse(str(page)).getroot().head    # a description with quotes is written in single quotes
        description = head.xpath("string(meta[@property='og:description']/@content)")
        image = re.fullmatch(r"https?://[^\s]+/(assets/images/social/[^/]+\.png)",
                             head.xpath("string(meta[@property='og:image']/@content)"))
        assert description and image, page
        with Image.open(real_site / image[1]) as card:
            assert card.size == (1200, 630)


def test_sitemap_lists_every_chapter(real_site):
    sitemap = (real_site / "sitemap.xml").read_text(encoding="utf-8")
    for page in real_site.rglob("index.html"):
        relative = "" if page.parent == real_site else page.parent.relative_to(real_site).as_posix() + "/"
        assert f"/productionizing-ml-inference-apis/{relative}</loc>" in sitemap


def test_companion_note_links_to_book1_when_its_url_is_configured(book):
    pages = {"index.md": "# Home\n", "one.md": "# One\n\nText.\n", "two.md": "# Two\n\nText.\n"}
    data = str(Path(__file__).resolve().parents[1] / "fixtures" / "data")
    with_url = book(pages, extra_config={"extra": {"book_data": data,
                                                   "book1": {"url": "https://book1.example.org/"}}})
    assert with_url.ok, with_url.log
    assert re.search(r'class="book-companion">\s*A companion to <a href="https://book1.example.org/"><cite>',
                     with_url.html("one"))


def test_download_sizes_are_written_into_the_pages(tmp_path):
    from scripts.web.site import download_sizes, fill_download_sizes
    (tmp_path / "book.pdf").write_bytes(b"x" * 1_250_000)
    page = '<a>PDF <span class="download-size" data-download="book.pdf"></span></a>'
    assert fill_download_sizes(page, download_sizes(tmp_path)) == \
        '<a>PDF <span class="download-size" data-download="book.pdf">1.2 MB</span></a>'
