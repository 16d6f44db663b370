"""`mkdocs serve` while writing: a page whose macros fail is shown as its errors, and the preview keeps reloading.

Before, a failed rebuild left the browser on the stale page with no message: MkDocs reloads only after a build that
succeeded. The strict build is unchanged (tests/test_author_errors.py).
"""
import html
import os
import subprocess
import time
import urllib.request

from bookbuild import clean_env, write_book
from test_pipeline_build import BOOK, PAGES, free_port, port_open, processes_mentioning, stop


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:   # loopback only: the preview this test started
        return response.read().decode("utf-8")


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_a_page_that_stops_building_shows_its_errors_in_the_preview(tmp_path):
    root = write_book(tmp_path / "book", PAGES)
    config, port = str(root / "mkdocs.yml"), free_port()
    serve = subprocess.Popen([BOOK, "-f", config, "serve", "-a", f"127.0.0.1:{port}"], env=clean_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    page = f"http://127.0.0.1:{port}/productionizing-ml-inference-apis/one/"
    try:
        assert wait_for(lambda: port_open(port), 120), "the preview never listened"
        assert "did not build" not in fetch(page)
        (root / "docs" / "one.md").write_text('# One\n\nNow a {{ term("RTX") }} typo.\n', encoding="utf-8")
        assert wait_for(lambda: "This page did not build" in fetch(page), 60), "the preview never showed the error"
        shown = fetch(page)
        assert "docs/one.md:3: unknown glossary term 'RTX'. Did you mean: 'RTF'?" in html.unescape(shown)
        (root / "docs" / "one.md").write_text("# One\n\nFixed.\n", encoding="utf-8")
        assert wait_for(lambda: "Fixed." in fetch(page), 60), "the preview did not recover once the page was fixed"
    finally:
        serve.terminate()
        output = serve.communicate(timeout=30)[0]
        stop(processes_mentioning(config))
    assert "docs/one.md:3: unknown glossary term" in output   # the terminal says it too
