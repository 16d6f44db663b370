"""The hosted book read as a reader would, in Debian's Chromium: navigation, search, glossary, palette, editions."""
import re
import zipfile
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from conftest import MISSING_PAGE

from bookbuild import REAL_BOOK

CHAPTER = "01-the-serving-problem/"


def test_landing_page_reaches_a_chapter_through_the_navigation(page, site_url, artifacts):
    page.goto(site_url)
    expect(page.locator("h1")).to_contain_text("Productionizing ML Inference APIs")
    page.screenshot(path=artifacts / "landing.png", full_page=True)
    page.get_by_role("link", name="The Serving Problem").first.click()
    expect(page).to_have_url(site_url + CHAPTER)
    expect(page.locator("article h1")).to_contain_text("The Serving Problem")


def test_chapter_shows_its_place_reading_time_and_last_update(page, site_url):
    page.goto(site_url + CHAPTER)
    eyebrow = page.locator(".chapter-eyebrow")
    expect(eyebrow).to_contain_text("Part I: Foundations")
    expect(eyebrow).to_contain_text("Chapter 1")
    expect(eyebrow.locator(".chapter-eyebrow__reading-time")).to_have_text(re.compile(r"^\d+ min read$"))
    updated = page.locator(".md-source-file time")
    # The real build runs in this git checkout; a copy without history would show no date at all.
    expect(updated).to_have_attribute("datetime", re.compile(r"^\d{4}-\d{2}-\d{2}$"))
    expect(page.locator(".md-source-file")).to_contain_text("Last updated")


@pytest.mark.parametrize("query, expected_page, expected_text", [
    ("RTF", "glossary/", "real-time factor"),                         # a glossary term
    ("hand-over", CHAPTER, "hand-over"),                              # chapter text
    ("Why inference serving is its own discipline", CHAPTER, "Why inference serving is its own discipline"),
])
def test_search_finds_a_term_text_and_section_titles(page, site_url, query, expected_page, expected_text):
    page.goto(site_url + "00-preface/")
    page.keyboard.press("/")  # Material's shortcut; the reader can also click the search box
    search = page.locator("input.md-search__input")
    expect(search).to_be_focused()
    search.press_sequentially(query)  # Material searches on keyup, which fill() does not send
    result = page.locator(f'.md-search-result__link[href*="{expected_page}"]').first
    expect(result).to_be_visible()
    result.click()
    expect(page).to_have_url(re.compile(re.escape(site_url + expected_page)))
    expect(page.locator("article")).to_contain_text(expected_text, ignore_case=True)


def test_glossary_term_shows_its_definition_on_hover_and_focus_and_links_to_the_glossary(page, site_url):
    page.goto(site_url + CHAPTER)
    term = page.locator("a.term").first
    definition = term.get_attribute("title")
    assert definition, "terms carry their definition in the title until the theme turns it into a tooltip"
    tooltip = page.locator(".md-tooltip2--active")

    term.hover()
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(definition[:40])

    page.mouse.move(0, 0)
    expect(tooltip).to_have_count(0)
    page.locator("body").focus()
    term.focus()  # the keyboard reader: the same definition, and the term is described by it
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(definition[:40])
    described_by = term.get_attribute("aria-describedby")
    assert described_by and definition[:40] in page.locator(f"#{described_by}").inner_text()

    key = term.get_attribute("href").split("#")[1]
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(site_url + "glossary/#" + key) + "$"))
    expect(page.locator(f"#{key}")).to_be_in_viewport()


def test_dark_mode_persists_across_pages(page, site_url, artifacts):
    page.goto(site_url + CHAPTER)
    page.screenshot(path=artifacts / "chapter-light.png")
    body = page.locator("body")
    expect(body).to_have_attribute("data-md-color-scheme", "default")
    # The palette cycles system -> light -> dark; the reader clicks the toggle until the page is dark.
    for _ in range(3):
        if body.get_attribute("data-md-color-scheme") == "slate":
            break
        page.locator("form[data-md-component=palette] label:visible").first.click()
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.screenshot(path=artifacts / "chapter-dark.png")

    page.locator(".md-footer__link--next").click()
    expect(page).to_have_url(site_url + "02-model-serving-frameworks/")
    expect(body).to_have_attribute("data-md-color-scheme", "slate")
    page.goto(site_url + "glossary/")
    expect(body).to_have_attribute("data-md-color-scheme", "slate")


def test_glossary_screenshot(page, site_url, artifacts):
    page.goto(site_url + "glossary/")
    expect(page.locator("dl.glossary").first).to_be_visible()
    page.screenshot(path=artifacts / "glossary.png")


def test_editions_are_offered_on_every_page_with_their_sizes(page, site_url, page_paths):
    for path in page_paths:
        page.goto(site_url + path)
        editions = page.get_by_role("navigation", name="Editions")
        pdf = editions.get_by_role("link", name=re.compile(r"^Download the PDF edition \(\d+\.\d MB\)$"))
        expect(pdf).to_be_visible()


def test_pdf_link_returns_the_pdf(page, site_url):
    page.goto(site_url)
    link = page.get_by_role("link", name=re.compile("Download the PDF edition"))
    response = page.request.get(page.url + link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")


def test_epub_link_returns_the_epub(page, site_url, real_site):
    page.goto(site_url)
    link = page.get_by_role("link", name=re.compile("Download the EPUB edition"))
    response = page.request.get(page.url + link.get_attribute("href"))
    assert response.ok
    assert response.headers["content-type"] == "application/epub+zip"
    with zipfile.ZipFile(BytesIO(response.body())) as epub:
        assert epub.read("mimetype") == b"application/epub+zip"


def test_no_page_scrolls_sideways_on_a_narrow_phone(browser, site_url, page_paths):
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page = context.new_page()
    wide = []
    for path in page_paths:
        page.goto(site_url + path)
        sizes = page.evaluate("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        if sizes[0] > sizes[1]:
            wide.append((path, sizes))
    context.close()
    assert not wide, f"pages wider than the 375 px viewport (scrollWidth, clientWidth): {wide}"


def test_no_request_leaves_the_local_host(page, site_url, page_paths):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    for path in page_paths:
        page.goto(site_url + path, wait_until="networkidle")
    elsewhere = {url for url in requested if urlsplit(url).scheme not in ("data", "blob")
                 and urlsplit(url).hostname != "127.0.0.1"}
    assert requested and not elsewhere, f"requests that left 127.0.0.1: {sorted(elsewhere)}"


def test_missing_page_helps_the_reader_find_the_way(page, site_url):
    response = page.goto(site_url + MISSING_PAGE + "deeper/still/")
    assert response.status == 404
    expect(page.locator("h1")).to_contain_text("This page is not in the book")
    expect(page.locator("body")).to_have_css("font-family", re.compile("Source Serif 4"))  # styles resolved
    page.get_by_role("link", name="The Serving Problem").first.click()
    expect(page).to_have_url(site_url + CHAPTER)


def test_printing_a_chapter_leaves_out_the_chrome_and_shows_link_addresses(page, site_url):
    page.goto(site_url + CHAPTER)
    page.emulate_media(media="print")
    for chrome in (".md-header", ".md-sidebar--primary", ".md-sidebar--secondary", ".md-footer", ".book-downloads"):
        expect(page.locator(chrome).first).to_be_hidden()
    expect(page.locator("article h1")).to_be_visible()
    # Today's chapters link out only through their reference lists, whose text is the address itself; a Book 1
    # reference becomes such a link once extra.book1.url is set. Add one as an author would write it.
    external = page.locator("article p").first.evaluate_handle(
        "p => p.appendChild(Object.assign(document.createElement('a'), "
        "{href: 'https://book1.example.org/ch05/', textContent: 'Book 1'}))")
    assert "https://book1.example.org/ch05/" in external.evaluate("a => getComputedStyle(a, '::after').content")
    reference = page.locator("article a.ref-url").first
    assert reference.evaluate("a => getComputedStyle(a, '::after').content") == "none"  # shown once, not twice
    assert page.pdf(format="A4")[:5] == b"%PDF-"  # Chromium's own print path accepts the page


def test_index_jump_bar_and_locators_take_the_keyboard_reader_to_the_spot(page, site_url, artifacts):
    page.goto(site_url + "book-index/")
    page.screenshot(path=artifacts / "index.png")
    letter = page.locator("nav.index-jump a", has_text=re.compile("^C$"))
    letter.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#index-letter-c$"))
    expect(page.locator("#index-letter-c")).to_be_in_viewport()

    locator = page.locator("a.index-locator:not(.index-locator--definition)").first
    href = locator.get_attribute("href")
    assert re.match(r"\.\./[\w-]+/#ix-", href), href   # a chapter's mark, labelled with chapter and section
    assert re.match(r"(Preface|Chapter \d+)", locator.inner_text())
    locator.focus()
    page.keyboard.press("Enter")
    anchor = href.split("#")[1]
    expect(page).to_have_url(re.compile(re.escape("#" + anchor) + "$"))
    expect(page.locator(f"[id='{anchor}']")).to_be_attached()
