"""The book's identity comes from its mkdocs.yml alone: the slug names both editions and every link to them, and the
shell's settings (SITE_URL, as the README's deploy recipe exports it) do not change what a test builds."""
import os
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from bookbuild import ROOT, SMALL, BuiltBook, build_book, write_book

RENAMED = "a-renamed-book"


def download_links(built: BuiltBook) -> dict[str, list[str]]:
    """Each page (its path under the site) -> the site paths its Editions links point at."""
    found = {}
    for page in sorted(built.site.rglob("index.html")):
        folder = page.parent.relative_to(built.site).as_posix()
        address = "/" if folder == "." else f"/{folder}/"
        hrefs = lxml_html.fromstring(page.read_bytes()).xpath('//nav[@aria-label="Editions"]//a/@href')
        found[address] = [urljoin(address, href) for href in hrefs]
    return found


@pytest.fixture(scope="module")
def renamed(tmp_path_factory) -> BuiltBook:
    root = write_book(tmp_path_factory.mktemp("slug") / "book", extra_config={"extra": {"book": {"slug": RENAMED}}})
    built = build_book(root, pdf=True)
    assert built.ok, built.log
    return built


def test_a_new_slug_renames_both_editions(renamed):
    downloads = renamed.site / "downloads"
    assert sorted(path.name for path in downloads.iterdir()) == [f"{RENAMED}.epub", f"{RENAMED}.pdf"]
    assert renamed.pdf.read_bytes().startswith(b"%PDF-")


def test_every_page_links_to_the_renamed_editions(renamed):
    links = download_links(renamed)
    assert {"/", "/one/", "/two/", "/glossary/", "/works-cited/"} <= set(links)
    wrong = {page: hrefs for page, hrefs in links.items()
             if sorted(hrefs) != [f"/downloads/{RENAMED}.epub", f"/downloads/{RENAMED}.pdf"]}
    assert not wrong, wrong


@pytest.mark.parametrize("slug", ["Has Capitals", "under_score", "-leading-hyphen", ""])
def test_an_invalid_slug_fails_naming_the_setting(book, slug):
    built = book(extra_config={"extra": {"book": {"slug": slug}}})
    assert not built.ok
    assert "extra.book.slug" in built.log
    assert not (built.site / "index.html").exists()


def test_a_site_url_in_the_shell_does_not_reach_a_test_build(monkeypatch, tmp_path):
    """The README's deploy recipe exports SITE_URL; the tests build the book they describe all the same."""
    monkeypatch.setenv("SITE_URL", "https://deploy.example.net/elsewhere/")
    monkeypatch.setenv("BOOK_EDITIONS", "true")
    built = build_book(write_book(tmp_path / "book"))
    assert built.ok, built.log
    canonical = lxml_html.fromstring(built.html("one").encode()).xpath('//link[@rel="canonical"]/@href')
    assert canonical == ["https://example.org/productionizing-ml-inference-apis/one/"]
    assert not (built.site / "downloads").exists()   # BOOK_EDITIONS from the shell did not turn the editions on


def test_the_small_book_opens_from_its_folder():
    """tests/books/small is an author's book too: its links resolve from the checkout, without the test copy."""
    for link in ("docs/assets", "scripts", "overrides"):
        assert (SMALL / link).is_symlink() and not os.path.isabs(os.readlink(SMALL / link)), link
        assert (SMALL / link).resolve().is_dir(), link
    assert (SMALL / "scripts" / "hooks.py").resolve() == ROOT / "scripts" / "hooks.py"
