"""Accessibility of every page, the theme's markup included: axe-core in the page, in both palettes, and the W3C
HTML validator over the built files; plus what an audit cannot judge alone (skip link, focus ring, heading order)."""
import json
import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from bookbuild import unavailable
from conftest import AXE_SCRIPT, VNU_JAR

BLOCKING = ("serious", "critical")
# axe judges colours as they are painted at that instant: a fade still running (the search dialog's) reads as low
# contrast. Stopping transitions and animations audits the colours the reader ends up seeing.
STILL = "*, *::before, *::after { transition: none !important; animation: none !important; }"
PALETTES = {"light": "default", "dark": "slate"}  # the reader's system preference -> Material's scheme


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        pytest.fail(f"{AXE_SCRIPT} is missing: run scripts/setup --test (npm ci installs axe-core)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def blocking_violations(page, axe_source) -> list[str]:
    page.add_script_tag(content=axe_source)
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in violations if v["impact"] in BLOCKING]


@pytest.mark.parametrize("preference", PALETTES)
def test_no_serious_or_critical_accessibility_problem_on_any_page(browser, site_url, page_paths, axe_source,
                                                                   preference):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=preference)
    page = context.new_page()
    found = {}
    for path in page_paths:
        page.goto(site_url + path)
        expect(page.locator("body")).to_have_attribute("data-md-color-scheme", PALETTES[preference])
        page.add_style_tag(content=STILL)
        if problems := blocking_violations(page, axe_source):
            found[path or "(landing page)"] = problems
        # The search dialog is part of every page too: open it, with results showing, and audit again.
        page.keyboard.press("/")
        page.locator("input.md-search__input").press_sequentially("latency")  # Material searches on keyup
        expect(page.locator(".md-search-result__item").first).to_be_visible()
        if problems := blocking_violations(page, axe_source):
            found[f"{path} (search open)"] = problems
    context.close()
    assert not found, json.dumps(found, indent=1)


def test_built_pages_are_valid_html(real_site):
    java = shutil.which("java")
    if not java or not VNU_JAR.exists():
        unavailable("the W3C validator needs Java and node_modules/vnu-jar (npm ci)")
    result = subprocess.run([java, "-jar", str(VNU_JAR), "--errors-only", "--skip-non-html", str(real_site)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr


def test_skip_link_is_the_first_stop_and_is_visible_when_focused(page, site_url):
    page.goto(site_url + "01-the-serving-problem/")
    page.keyboard.press("Tab")
    skip = page.locator(".md-skip")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page).to_have_url(site_url + "01-the-serving-problem/#the-serving-problem")  # the chapter's title
    expect(page.locator("article h1")).to_be_in_viewport()


def test_keyboard_focus_is_visible(page, site_url):
    page.goto(site_url + "01-the-serving-problem/")
    page.keyboard.press("Tab")
    for selector in ("a.term", ".md-nav__link[href]", ".book-downloads__link"):
        element = page.locator(selector).first
        element.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus by keyboard, so :focus-visible applies
        expect(element).to_be_focused()
        outline = element.evaluate("e => [getComputedStyle(e).outlineStyle, getComputedStyle(e).outlineWidth]")
        assert outline[0] != "none" and outline[1] != "0px", f"{selector} shows no focus ring: {outline}"


def test_every_page_has_landmarks_one_h1_and_headings_in_order(page, site_url, page_paths):
    for path in page_paths:
        page.goto(site_url + path)
        for landmark in ("banner", "main", "contentinfo"):
            expect(page.get_by_role(landmark)).to_have_count(1)
        levels = page.evaluate("() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]"
                               ".filter(h => h.offsetParent !== null || h.closest('article'))"
                               ".map(h => Number(h.tagName[1]))")
        assert levels.count(1) == 1, f"{path}: {levels}"
        skipped = [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1]
        assert not skipped, f"{path}: a heading level is skipped at {skipped}"
        missing_alt = page.locator("img:not([alt])")
        expect(missing_alt).to_have_count(0)
