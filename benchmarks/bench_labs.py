"""Benchmark of what the labs cost the build and the preview. Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_labs.py

On a copy of the current book, site only (the PDF and EPUB would dwarf the difference; bench_preview.py times them):
- the build as it is, without labs;
- the same book with lab output placed in a numbered chapter (a value() and two chart() calls), built cold (no
  .cache/labs: every lab runs) and cached (unchanged labs read back);
- `mkdocs serve`: the time from saving that chapter to the rebuilt page being served (bench_preview.py's method).
Aim: a cached build within a few tenths of a second of the build without labs, and a reload under 2 s.
"""
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_preview import BIN, CHAPTER, copy_book, edit_latencies

RUNS = 3
LAB_CHAPTER = "03-gpu-optimization"   # a numbered chapter: a chart is a figure
LAB_TEXT = """

At the stream target the batcher's p99 is {{ value("batching.p99_ms_at_target") }}.

{{ chart("batching-latency-vs-load", "Chunk latency against load (benchmark).") }}

{{ chart("latency-budget", "The latency budget (benchmark).") }}
"""


def build_seconds(book: Path, cold: bool) -> float:
    if cold:
        shutil.rmtree(book / ".cache" / "labs", ignore_errors=True)
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "BOOK_EDITIONS": "false"}
    start = time.perf_counter()
    subprocess.run([str(BIN / "mkdocs"), "build", "--strict", "-q", "-f", str(book / "mkdocs.yml")], cwd=book,
                   env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def median_build(book: Path, cold: bool) -> tuple[float, list[float]]:
    times = [build_seconds(book, cold) for _ in range(RUNS)]
    return statistics.median(times), times


def add_lab_output(book: Path) -> None:
    chapter = book / "chapters" / f"{LAB_CHAPTER}.md"
    chapter.write_text(chapter.read_text(encoding="utf-8") + LAB_TEXT, encoding="utf-8")


def report(label: str, result: tuple[float, list[float]]) -> None:
    median, times = result
    print(f"{label:<44} median {median:5.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        book = copy_book(Path(tmp) / "book")
        build_seconds(book, cold=False)   # warm-up: Python's bytecode caches, fonts, the page cache on disk
        report("build, the book as it is (no labs)", median_build(book, cold=False))
        add_lab_output(book)
        report("build with lab output, cold (labs run)", median_build(book, cold=True))
        report("build with lab output, cached", median_build(book, cold=False))
        edits = edit_latencies(book, "mkdocs.yml")
        print(f"{'serve: save ' + CHAPTER + ' -> served page':<44} median {statistics.median(edits):5.2f} s  "
              f"(runs: {', '.join(f'{t:.2f}' for t in edits)})")


if __name__ == "__main__":
    main()
