"""Browser tests: the built book served from 127.0.0.1 and read in Debian's Chromium through Playwright.

The site is the session's one real build (tests/conftest.py `real_site`), served under the path of its site_url,
as GitHub Pages serves a project site, so the 404 page's absolute links are exercised as they will be published.
"""
import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from bookbuild import unavailable

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, started the way this machine allows: no sandbox as root, no background calls to Google.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ARTIFACTS = ROOT / "build" / "test-output" / "browser"  # build/ is git-ignored
# Content types the host must send; Python's own table has no entry for EPUB.
CONTENT_TYPES = {".pdf": "application/pdf", ".epub": "application/epub+zip", ".svg": "image/svg+xml",
                 ".woff2": "font/woff2", ".json": "application/json", ".xml": "application/xml"}
MISSING_PAGE = "no-such-page/"


def site_prefix() -> str:
    """The path the site is published under ('/productionizing-ml-inference-apis/'), from site_url's default."""
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_EnvTagLoader)
    return urlsplit(config["site_url"]).path or "/"


class _EnvTagLoader(yaml.SafeLoader):
    """Reads mkdocs.yml's `!ENV [NAME, default]` as its default, the value the test build uses."""


_EnvTagLoader.add_constructor("!ENV", lambda loader, node: loader.construct_sequence(node)[-1])


class StaticSite(http.server.SimpleHTTPRequestHandler):
    """Serves the built site under its prefix; anything else gets the site's 404 page, as a static host does."""
    prefix = "/"
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **CONTENT_TYPES}

    def send_head(self):
        path = urlsplit(self.path).path
        if not path.startswith(self.prefix):
            return self._not_found()
        self.path = "/" + path[len(self.prefix):]
        target = Path(self.translate_path(self.path))
        if not (target.is_file() or (target / "index.html").is_file()):
            return self._not_found()
        return super().send_head()

    def _not_found(self):
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def log_message(self, *args):  # keep pytest's output to the tests
        pass


@pytest.fixture(scope="session")
def site_url(real_site):
    """The base URL of the built book on a local server that lives as long as the test session."""
    prefix = site_prefix()
    handler = functools.partial(type("Handler", (StaticSite,), {"prefix": prefix}), directory=str(real_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}{prefix}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing: scripts/setup --test installs Debian's chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    """A fresh reader: no stored palette, a desktop-sized window, light colour-scheme preference."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="light")
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture(scope="session")
def page_paths(real_site) -> list[str]:
    """Every page of the built site as a path under the site's base URL ('' is the landing page), and a 404."""
    pages = sorted(str(path.parent.relative_to(real_site)) + "/" for path in real_site.rglob("index.html"))
    return [("" if path == "./" else path) for path in pages] + [MISSING_PAGE]


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where the tests leave screenshots for a person to look at (build/test-output/browser)."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS
