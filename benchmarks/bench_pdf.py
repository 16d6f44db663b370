"""Benchmark of the PDF step. Prints figures; asserts nothing (the machines are noisy: compare ratios in one run).

    .venv/bin/python benchmarks/bench_pdf.py

Measures, on the real book: the HTML build alone; the PDF step (assembly + WeasyPrint) and its peak memory,
pages and size; the floor, a plain WeasyPrint render of the same pages' articles concatenated with the same
stylesheet; a second render with no content change (the cache); and synthetic books of 2x and 4x the chapters,
to show how the cost grows with pages. mkdocs-to-pdf is measured where it is installed.
"""
import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from macros.manifest import Manifest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
ENV = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "BOOK_EDITIONS": "false"}

# Each measurement runs in its own process so peak memory (ru_maxrss) belongs to that step alone.
RENDER = """
import resource, sys, time, json
from pathlib import Path
from scripts.pdf.render import render_pdf
from scripts.editions import book_meta, build_moment
from macros.book import BookConfig
from mkdocs.config import load_config
site, out, cache = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
meta = book_meta(BookConfig.from_mkdocs(load_config(str(Path(sys.argv[4]) / "mkdocs.yml"))), build_moment())
start = time.perf_counter()
rendered = render_pdf(site, out, meta, cache_dir=Path(cache) if cache != "-" else None)
print(json.dumps({"seconds": time.perf_counter() - start, "rendered": rendered,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""
FLOOR = """
import resource, sys, time, json
from pathlib import Path
from lxml import html
from weasyprint import HTML, CSS
from macros.manifest import Manifest
from scripts.pdf.document import print_stylesheet
from scripts.editions import book_meta, build_moment
from macros.book import BookConfig
from mkdocs.config import load_config
site, out = Path(sys.argv[1]), Path(sys.argv[2])
meta = book_meta(BookConfig.from_mkdocs(load_config(str(Path(sys.argv[3]) / "mkdocs.yml"))), build_moment())
variant = sys.argv[4] if sys.argv[4] != "-" else None
start = time.perf_counter()
articles = []
for entry in Manifest.read(site).chapters:
    if entry.in_every_edition:
        page = html.parse(str(site / entry.url / "index.html")).getroot()
        articles.append(html.tostring(page.cssselect("article")[0], encoding="unicode"))
document = '<html><head><link rel="stylesheet" href="assets/fonts/fonts.css"></head><body>' + "".join(articles) + "</body></html>"
HTML(string=document, base_url=str(site / "index.html")).write_pdf(out, stylesheets=[CSS(string=print_stylesheet(meta))],
                                                               pdf_variant=variant)
print(json.dumps({"seconds": time.perf_counter() - start,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_json(code: str, *args) -> dict:
    result = subprocess.run([PYTHON, "-c", code, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                            env=ENV, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def build_html(site: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(Path(PYTHON).parent / "mkdocs"), "build", "--strict", "-d", str(site)], cwd=ROOT,
                   env=ENV, check=True, capture_output=True)
    return time.perf_counter() - start


def pages(pdf: Path) -> int:
    from pypdf import PdfReader
    return len(PdfReader(pdf).pages)


def synthetic(site: Path, factor: int, into: Path) -> Path:
    """A copy of the site whose book repeats every chapter `factor` times (new URLs, same content)."""
    shutil.copytree(site, into)
    manifest = Manifest.read(site)
    chapters = [c for c in manifest.chapters if c.number]
    extra, number = [], max((c.number or 0 for c in chapters), default=0)
    for copy in range(2, factor + 1):
        for chapter in chapters:
            number += 1
            url = f"copy{copy}-{chapter.url}"
            shutil.copytree(site / chapter.url, into / url)
            extra.append(dataclasses.replace(chapter, url=url, number=number, sections=()))
    back = [c for c in manifest.chapters if c.url in ("glossary/", "works-cited/")]
    rest = [c for c in manifest.chapters if c not in back]
    dataclasses.replace(manifest, chapters=tuple(rest + extra + back)).write(into)
    return into


def mkdocs_to_pdf(tmp: Path):
    """The same book through the mkdocs-to-pdf plugin, in a virtual environment of its own under .cache/."""
    venv = ROOT / ".cache" / "bench-mkdocs-to-pdf"
    if not (venv / "bin" / "mkdocs").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        install = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-c", str(ROOT / "requirements.lock"),
                                  "mkdocs-to-pdf", "-e", str(ROOT)], capture_output=True)
        if install.returncode:
            return None
    config = tmp / "mkdocs-to-pdf.yml"
    config.write_text(f"INHERIT: {ROOT / 'mkdocs.yml'}\ndocs_dir: {ROOT / 'chapters'}\n"
                      f"theme: {{name: material, custom_dir: {ROOT / 'overrides'}}}\nhooks: []\n"
                      "plugins:\n  - search\n  - macros:\n      modules: [macros]\n      on_undefined: strict\n"
                      "      j2_comment_start_string: '{##'\n      j2_comment_end_string: '##}'\n"
                      "  - to-pdf:\n      output_path: downloads/mkdocs-to-pdf.pdf\n")
    site = tmp / "site-m2p"
    result = subprocess.run([str(venv / "bin" / "mkdocs"), "build", "-f", str(config), "-d", str(site)],
                            cwd=ROOT, env=ENV, capture_output=True, text=True)
    # It exits non-zero over one link it cannot follow (the landing page's link to our own PDF) but writes
    # its PDF first, and logs the time its PDF step took.
    took = re.search(r"Converting \d+ articles to PDF took ([\d.]+)s", result.stdout + result.stderr)
    pdf = site / "downloads" / "mkdocs-to-pdf.pdf"
    return (float(took.group(1)), pdf) if took and pdf.exists() else None


def row(label: str, seconds: float, peak=None, pdf: Path | None = None, base=None) -> None:
    extra = f"  {pages(pdf):4d} pages  {pdf.stat().st_size / 1e6:6.2f} MB" if pdf else ""
    ratio = f"  {seconds / base:5.2f}x floor" if base else ""
    memory = f"  peak {peak:6.0f} MiB" if peak else ""
    print(f"{label:<42}{seconds:7.2f} s{memory}{extra}{ratio}")


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        site = tmp / "site"
        row("HTML build alone (mkdocs build, no PDF)", build_html(site))
        floor = run_json(FLOOR, site, tmp / "floor.pdf", ROOT, "-")
        row("floor: plain WeasyPrint, same pages + CSS", floor["seconds"], floor["peak_mib"], tmp / "floor.pdf")
        # The book is a tagged PDF/UA; the plain floor is not. This row shows what tagging alone costs.
        tagged = run_json(FLOOR, site, tmp / "floor-ua.pdf", ROOT, "pdf/ua-1")
        row("floor, tagged PDF/UA like the book", tagged["seconds"], tagged["peak_mib"], tmp / "floor-ua.pdf",
            floor["seconds"])
        step = run_json(RENDER, site, tmp / "book.pdf", tmp / "cache", ROOT)
        row("PDF step (assemble + render)", step["seconds"], step["peak_mib"], tmp / "book.pdf", floor["seconds"])
        again = run_json(RENDER, site, tmp / "again.pdf", tmp / "cache", ROOT)
        row(f"second build, no change (rendered={again['rendered']})", again["seconds"], again["peak_mib"])
        for factor in (2, 4):
            big = synthetic(site, factor, tmp / f"site{factor}")
            result = run_json(RENDER, big, tmp / f"book{factor}.pdf", "-", ROOT)
            row(f"synthetic book, {factor}x the chapters", result["seconds"], result["peak_mib"], tmp / f"book{factor}.pdf")
        compared = mkdocs_to_pdf(tmp)
        if compared:
            seconds, pdf = compared
            row("mkdocs-to-pdf: its PDF step, same book", seconds, None, pdf, floor["seconds"])
        else:
            print("mkdocs-to-pdf: could not be installed or run here; no comparison")


if __name__ == "__main__":
    main()
