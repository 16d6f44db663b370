"""spec(), value(), chart(), calculator() and the Reference System page: fixture books built on the real reference
system (macros/data), asserting on the HTML, the editions and the build log."""
import re
import shutil
import zipfile
from pathlib import Path

import lxml.html
import pytest
import yaml
from pypdf import PdfReader

import labs
from bookbuild import ROOT, build_book, write_book
from macros.reference import CALCULATORS
from macros.reference_system import REFERENCE_FILE, ReferenceSystem, format_quantity

REAL_DATA = ROOT / "macros" / "data"
CHART = "batching-latency-vs-load"
ONE = """\
# One

Chunks are {{ spec("audio.chunk_ms") }}, {{ spec("audio.chunk_bytes_base64") }} as base64.
At the target the p99 is {{ value("batching.p99_ms_at_target") }}.

{{ figure("diagram", "images/d.svg", "A diagram.", alt="A box.") }}

{{ chart("batching-latency-vs-load", "Chunk latency against load.") }}

See {{ fig("batching-latency-vs-load") }}.
"""
PAGES = {
    "index.md": "# Home\n",
    "one.md": ONE,
    "two.md": '# Two\n\nAs {{ fig("batching-latency-vs-load") }} shows.\n',
    "images/d.svg": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10"/></svg>\n',
}


def pages_with(one: str) -> dict:
    """The fixture pages with another Chapter 1 (and a Chapter 2 that refers to nothing)."""
    return {**PAGES, "one.md": one, "two.md": "# Two\n"}


def article(html: str):
    return lxml.html.fromstring(html).cssselect("article")[0]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    root = write_book(tmp_path_factory.mktemp("spec"), PAGES, data=REAL_DATA)
    built = build_book(root)
    assert built.ok, built.log
    return built


def test_spec_prints_a_value_with_its_unit_derived_values_too(book):
    text = article(book.html("one")).text_content()
    system = ReferenceSystem.load(REFERENCE_FILE)
    chunk, base64_bytes = system.get("audio.chunk_ms").format(), system.get("audio.chunk_bytes_base64").format()
    assert f"Chunks are {chunk}, {base64_bytes} as base64." in text


def test_value_prints_the_labs_value_and_the_log_says_the_lab_ran(book):
    expected = labs.run("batching", cache_dir=book.root / ".cache" / "labs").result.value("batching.p99_ms_at_target")
    assert f"At the target the p99 is {expected.format()}." in article(book.html("one")).text_content()
    assert "labs: batching: ran in" in book.log


def test_an_unchanged_lab_comes_from_the_cache_on_the_next_build(book):
    stored = next((book.root / ".cache" / "labs" / "batching").glob("*/result.json"))
    written = stored.stat().st_mtime_ns
    again = build_book(book.root)
    assert again.ok, again.log
    assert "labs: batching: from the cache" in again.log and "batching: ran" not in again.log
    assert stored.stat().st_mtime_ns == written


def test_a_chart_is_a_numbered_figure_drawn_by_its_lab_with_its_data_beside_it(book):
    page = article(book.html("one"))
    figure, = page.cssselect("figure.chart")
    assert (figure.get("id"), figure.get("data-lab"), figure.get("data-number")) == (f"fig-{CHART}", "batching", "1.2")
    assert figure.cssselect("figcaption")[0].text_content() == "Figure 1.2 Chunk latency against load."
    drawn = labs.run("batching", cache_dir=book.root / ".cache" / "labs").result.chart(CHART)
    image = figure.cssselect("img")[0]
    assert image.get("alt") == drawn.alt   # no alt given: the lab's, which states the finding
    svg = (book.site / "one" / image.get("src")).resolve()
    assert svg == (book.site / "assets" / "charts" / f"{CHART}.svg").resolve()
    assert svg.read_text(encoding="utf-8") == drawn.svg
    link, = figure.cssselect(".web-only a[download]")
    assert (book.site / "one" / link.get("href")).read_text(encoding="utf-8") == drawn.csv
    assert not (book.root / "docs" / "assets" / "charts").exists()   # generated into the site only


def test_fig_refers_to_a_chart_from_its_page_and_another(book):
    for page, href in (("one", f"#fig-{CHART}"), ("two", f"../one/#fig-{CHART}")):
        reference, = article(book.html(page)).cssselect("a.xref-figure")
        assert (reference.text_content(), reference.get("href")) == ("Figure 1.2", href)


def test_a_chart_needs_a_numbered_chapter(tmp_path):
    root = write_book(tmp_path, {**PAGES, "index.md": '# Home\n\n{{ chart("latency-budget", "Budget.") }}\n'},
                      data=REAL_DATA)
    built = build_book(root)
    assert not built.ok
    assert "index.md: figure 'latency-budget' is in a page that is not a numbered chapter" in built.log


@pytest.mark.parametrize("call, message", [
    ('{{ spec("audio.chunk_msec") }}', "unknown reference-system key 'audio.chunk_msec'.*Did you mean: 'audio.chunk_ms'"),
    ('{{ value("batching.p99_ms_at_targ") }}',
     r"unknown lab value 'batching.p99_ms_at_targ' \(lab batching\).*Did you mean: 'batching.p99_ms_at_target'"),
    ('{{ value("batchng.p99_ms_at_target") }}',
     r"unknown lab value 'batchng.p99_ms_at_target': no lab 'batchng'.*Did you mean: 'batching.p99_ms_at_target'"),
    ('{{ chart("batching-latency", "Cap.") }}', "unknown chart 'batching-latency'.*'batching-latency-vs-load'"),
    ('{{ calculator("streams") }}', "unknown calculator 'streams'.*'streams-per-gpu'"),
])
def test_an_unknown_key_fails_the_build_at_the_line_of_the_call_with_the_closest_keys(tmp_path, call, message):
    root = write_book(tmp_path, pages_with(f"# One\n\nText.\n\n{call}\n"), data=REAL_DATA)
    built = build_book(root)
    assert not built.ok
    assert re.search(r"docs/one\.md:5: " + message, built.log), built.log


def test_a_lab_that_raises_fails_the_build_naming_the_lab_and_the_error(tmp_path):
    data = shutil.copytree(REAL_DATA, tmp_path / "data")
    reference = yaml.safe_load((data / "reference-system.yml").read_text(encoding="utf-8"))
    # Valid for the reference system (a text value), impossible for the batching lab's arithmetic.
    reference["batcher"]["max_queue_delay_us"].update(value="soon", unit="text")
    (data / "reference-system.yml").write_text(yaml.safe_dump(reference), encoding="utf-8")
    root = write_book(tmp_path / "book", pages_with('# One\n\n{{ value("batching.p50_ms_at_target") }}\n'),
                      data=data)
    built = build_book(root)
    assert not built.ok
    assert re.search(r"docs/one\.md:3: lab batching: \w+Error: .*'soon'", built.log), built.log


def test_each_calculator_is_a_labelled_form_with_a_live_output_and_a_worked_table(tmp_path):
    calls = "\n\n".join(f'{{{{ calculator("{kind}") }}}}' for kind in CALCULATORS)
    root = write_book(tmp_path, pages_with(f"# One\n\n{calls}\n"), data=REAL_DATA)
    built = build_book(root)
    assert built.ok, built.log
    page = article(built.html("one"))
    system = ReferenceSystem.load()
    for kind, calculator in CALCULATORS.items():
        form, = page.cssselect(f'form.calculator[data-calculator="{kind}"]')
        for key in calculator.inputs:
            field, = form.cssselect(f'input[data-key="{key}"]')
            assert form.cssselect(f'label[for="{field.get("id")}"]'), key
            assert float(field.get("value")) == float(system.value(key))
        output, = form.cssselect("output")
        assert output.get("aria-live") == "polite"
        table, = page.cssselect(f'table.calculator-table[data-calculator="{kind}"]')
        for key in calculator.results:
            assert system.get(key).format() in table.text_content()
    streams = page.cssselect('table[data-calculator="streams-per-gpu"]')[0].text_content()
    peak = system.number("traffic.peak_session_arrivals_per_s") * system.number("sessions.mean_s")
    gpus = -(-peak // system.number("capacity.streams_per_gpu"))   # Little's law, then whole GPUs
    assert f"{peak:,.0f} streams" in streams and f"{gpus:.0f} GPUs" in streams
    budget = page.cssselect('table[data-calculator="latency-budget"]')[0].text_content()
    stages = ("audio.chunk_ms", "budget.encode_p95_ms", "budget.uplink_p95_ms", "budget.ingress_p95_ms",
              "budget.queue_p95_ms", "inference.max_batch_ms", "budget.decode_p95_ms", "budget.downlink_p95_ms",
              "budget.render_p95_ms")
    assert format_quantity(sum(system.number(key) for key in stages), "ms") in budget


# ── The Reference System page of the real book, in all three editions ────────────────────────────────────────
def every_key() -> list[str]:
    return list(ReferenceSystem.load().entries)


def test_the_reference_system_page_lists_every_key_with_value_description_and_source(real_site):
    page = article((real_site / "reference-system" / "index.html").read_text(encoding="utf-8"))
    rows = {row.get("data-key"): row for row in page.cssselect("tr[data-key]")}
    data = yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))
    data_keys = [f"{group}.{name}" for group, entries in data.items() for name in entries]
    assert set(data_keys) <= set(rows) and set(every_key()) == set(rows)
    system = ReferenceSystem.load()
    for key, row in rows.items():
        quantity = system.get(key)
        key_cell, value_cell, description_cell, source_cell = row.cssselect("td")
        assert (value_cell.text_content(), description_cell.text_content()) == (quantity.format(), quantity.description)
        if quantity.source:
            cited = source_cell.cssselect(".citation a")[0].get("href")
            assert cited == f"#ref-{quantity.source}" and page.cssselect(f"li#ref-{quantity.source}")
        elif quantity.derived:
            assert "Derived from" in source_cell.text_content()
        else:
            assert source_cell.text_content().startswith("Assumption") and quantity.why in source_cell.text_content()
    assert len(page.cssselect("form.calculator")) == len(CALCULATORS)


def test_the_reference_system_page_is_in_the_pdf_and_the_epub(real_site):
    downloads = real_site / "downloads"
    pdf_text = " ".join(page.extract_text() for page in PdfReader(downloads / "productionizing-ml-inference-apis.pdf").pages)
    pdf_text = re.sub(r"\s+", "", pdf_text)   # table cells wrap keys across lines
    with zipfile.ZipFile(downloads / "productionizing-ml-inference-apis.epub") as epub:
        xhtml = epub.read("EPUB/reference-system.xhtml").decode()
    epub_keys = set(re.findall(r'data-key="([^"]+)"', xhtml))
    for key in every_key():
        assert key in pdf_text, key
        assert key in epub_keys, key
    assert "<form" not in xhtml and xhtml.count('class="calculator-table"') == len(CALCULATORS)


def test_charts_come_out_in_the_pdf_and_the_epub_without_their_web_only_link(tmp_path):
    root = write_book(tmp_path, PAGES, data=REAL_DATA)
    built = build_book(root, pdf=True)
    assert built.ok, built.log
    reader = PdfReader(built.pdf)
    with_chart = [page for page in reader.pages if "Figure1.2Chunklatency" in re.sub(r"\s+", "", page.extract_text())]
    # The SVG is drawn into the page as vector paths: a page with the chart carries a large content stream.
    assert with_chart and len(with_chart[0].get_contents().get_data()) > 50_000
    assert not any("Data behind" in page.extract_text() for page in reader.pages)
    with zipfile.ZipFile(built.site / "downloads" / "productionizing-ml-inference-apis.epub") as epub:
        assert epub.read(f"EPUB/assets/charts/{CHART}.svg").decode() == (built.site / "assets" / "charts" /
                                                                         f"{CHART}.svg").read_text(encoding="utf-8")
        chapter = epub.read("EPUB/one.xhtml").decode()
    assert f'src="assets/charts/{CHART}.svg"' in chapter and "web-only" not in chapter
