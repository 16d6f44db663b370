"""Benchmark of the author's preview loop. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_preview.py

On a copy of the full book: the time from saving a chapter to `mkdocs serve` serving the rebuilt page, with the
macros plugin and without it (same pages, macros left unrendered), and the time of a cold `book build` (site,
PDF and EPUB, no cache). Aim: an edit previews in under 2 s and within 1.3x of the no-macros figure.
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
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "BOOK_PDF": "0", "SITE_URL": f"http://127.0.0.1:{port}/"}
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


def cold_build(book: Path) -> float:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    shutil.rmtree(book / ".cache", ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([str(BIN / "book"), "-f", str(book / "mkdocs.yml"), "build"], cwd=book, env=env, check=True,
                   capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "book"
        book.mkdir()
        for name in COPY:
            source = ROOT / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, book / name)
        (book / "no-macros.yml").write_text(NO_MACROS)
        with_macros = edit_latencies(book, "mkdocs.yml")
        without = edit_latencies(book, "no-macros.yml")
        median_with, median_without = statistics.median(with_macros), statistics.median(without)
        print(f"save -> served page, with macros     median {median_with:5.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in with_macros)})")
        print(f"save -> served page, without macros  median {median_without:5.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in without)})")
        print(f"ratio with/without macros            {median_with / median_without:5.2f}x")
        print(f"cold book build (site, PDF, EPUB)    {cold_build(book):5.2f} s")


if __name__ == "__main__":
    main()
