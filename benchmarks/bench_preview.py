"""Benchmark of the author's preview loop. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_preview.py

On a copy of the full book: the time from saving a chapter to `mkdocs serve` serving the rebuilt page, with the
macros plugin and without it (same pages, macros left unrendered); the macros plugin's own share of an in-process
rebuild; and the time of a cold `book build` (site, PDF and EPUB, no cache). Aim: an edit previews in under 2 s
and the macros add no more than 1.3x.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
COPY = ("chapters", "overrides", "scripts", "mkdocs.yml")
CHAPTER = "01-the-serving-problem"
EDITS = 6
NO_MACROS = "INHERIT: mkdocs.yml\nplugins:\n  - search\n"   # the same book and hooks, macros off


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode("utf-8", "replace")
    except OSError:
        return ""


def wait_for(url: str, text: str, limit: float = 60) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if text in fetch(url):
            return time.perf_counter() - start
        time.sleep(0.02)
    raise TimeoutError(f"{url} never showed {text!r}")


def edit_latencies(book: Path, config: str) -> list[float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/{CHAPTER}/"
    # serve mounts the site at site_url's path: make that the root of this port
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "BOOK_EDITIONS": "false", "SITE_URL": f"http://127.0.0.1:{port}/"}
    # Live reload stays on: MkDocs 1.6 stops watching files altogether without it.
    server = subprocess.Popen([str(BIN / "mkdocs"), "serve", "-f", config, "-a", f"127.0.0.1:{port}"],
                              cwd=book, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(url, "</html>", limit=120)
        source = book / "chapters" / f"{CHAPTER}.md"
        original = source.read_text(encoding="utf-8")
        times = []
        for n in range(EDITS):
            marker = f"previewmarker{n}x{time.time_ns()}"
            source.write_text(original + f"\n\n{marker}\n", encoding="utf-8")
            times.append(wait_for(url, marker))
            time.sleep(0.5)
        source.write_text(original, encoding="utf-8")
        return times
    finally:
        server.terminate()
        server.wait(timeout=30)


def macros_share(book: Path) -> tuple[float, float]:
    """In one process, as `mkdocs serve` rebuilds: (seconds per edited rebuild, seconds of it in the macros plugin).

    The no-macros server is not the same book: without macros the Glossary and Works Cited pages are empty and
    there are no figures or term links, so it builds less. Timing the plugin's own events isolates its cost."""
    code = f"""
import os, time, sys
os.chdir({str(book)!r}); os.environ["BOOK_EDITIONS"] = "false"
from pathlib import Path
from mkdocs.config import load_config
from mkdocs.commands.build import build
from mkdocs_macros.plugin import MacrosPlugin
spent = [0.0]
def timed(method):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start
    return wrapper
for name in ("on_config", "on_page_markdown", "on_post_build"):
    setattr(MacrosPlugin, name, timed(getattr(MacrosPlugin, name)))
source = Path("chapters/{CHAPTER}.md"); original = source.read_text()
def rebuild(n):
    source.write_text(original + f"\\n\\nedit{{n}}\\n")
    build(load_config("mkdocs.yml", site_dir={str(book / "site-share")!r}), serve_url="http://127.0.0.1:1/")
rebuild(0); rebuild(1)
spent[0] = 0.0; start = time.perf_counter()
for n in range(2, 2 + {EDITS}):
    rebuild(n)
total = time.perf_counter() - start
source.write_text(original)
print(total / {EDITS}, spent[0] / {EDITS})
"""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    total, macros = map(float, out.split()[-2:])
    return total, macros


def cold_build(book: Path) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    shutil.rmtree(book / ".cache", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([str(BIN / "book"), "-f", str(book / "mkdocs.yml"), "build"], cwd=book, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def copy_book(book: Path) -> Path:
    """A copy of the parts of the project a build reads (COPY), so a benchmark can edit it freely."""
    book.mkdir()
    for name in COPY:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, book / name)
    return book


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        book = copy_book(Path(tmp) / "book")
        (book / "no-macros.yml").write_text(NO_MACROS)
        with_macros = edit_latencies(book, "mkdocs.yml")
        without = edit_latencies(book, "no-macros.yml")
        median_with, median_without = statistics.median(with_macros), statistics.median(without)
        print(f"save -> served page, with macros     median {median_with:5.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in with_macros)})")
        print(f"save -> served page, without macros  median {median_without:5.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in without)})")
        print(f"ratio with/without macros            {median_with / median_without:5.2f}x  (not the same book: see below)")
        total, macros = macros_share(book)
        print(f"in-process rebuild after an edit     {total:5.2f} s, of which the macros plugin {macros:5.3f} s "
              f"({total / (total - macros):4.2f}x the rebuild without its time)")
        print(f"cold book build (site, PDF, EPUB)    {cold_build(book):5.2f} s")


if __name__ == "__main__":
    main()
