"""What the print and EPUB editions share (scripts/shared): one naming rule, one "inside the site?" rule, and link
resolution that checks anchors, not only pages."""
import zipfile

import pytest

from scripts.shared.addresses import UniqueNames, site_path, slug

PAGES = {
    "index.md": "# Home\n",
    "one.md": "# One\n\nSee <a href=\"../two/#{anchor}\">the second page</a>.\n",
    "two.md": "# Two\n\n## Real section\n\nText.\n",
}


def test_a_raw_link_to_a_missing_anchor_fails_the_strict_build_naming_the_page(book):
    built = book({**PAGES, "one.md": PAGES["one.md"].format(anchor="missing")}, pdf=True)
    assert not built.ok
    assert "one/: link to '../two/#missing': the page it points to has no anchor #missing" in built.log
    assert not built.pdf.exists()


def test_a_raw_link_to_an_anchor_that_exists_reaches_both_editions(book):
    built = book({**PAGES, "one.md": PAGES["one.md"].format(anchor="real-section")}, pdf=True)
    assert built.ok, built.log
    with zipfile.ZipFile(built.pdf.with_suffix(".epub")) as epub:
        assert 'href="two.xhtml#real-section"' in epub.read("EPUB/one.xhtml").decode()


def test_names_are_unique_even_when_their_slugs_are_not():
    names = UniqueNames({"nav"})
    assert [names.claim(text) for text in ("a-b/", "a/b/", "nav/", "a-b-2/", "Part I")] == \
        ["a-b", "a-b-2", "nav-2", "a-b-2-2", "part-i"]
    assert "--" not in slug("a--b//c") and slug("") == "page"


@pytest.mark.parametrize("page, address, expected", [
    ("one/", "../images/a.svg", "images/a.svg"),
    ("one/", "a.png?x=1#y", "one/a.png"),
    ("one/", "../two/", "two/"),
    ("", "two/", "two/"),
    ("one/", "../../etc/passwd", None),
    ("one/", "/etc/passwd", None),
    ("one/", "file:///etc/passwd", None),
    ("one/", "//example.org/a.png", None),
    ("one/", "https://example.org/a.png", None),
    ("one/", "data:image/png;base64,AAAA", None),
])
def test_one_rule_says_whether_an_address_is_inside_the_site(page, address, expected):
    assert site_path(page, address) == expected
