"""Numbers from one source: spec(), value(), chart(), calculator() and the generated Reference System page.

    {{ spec("audio.chunk_ms") }}                       -> 100 ms   (macros/data/reference-system.yml, or derived)
    {{ value("batching.p99_ms_at_target") }}           -> 61.9 ms  (a lab's value, labs/, cached by content hash)
    {{ chart("batching-latency-vs-load", "Caption.") }} -> a numbered figure drawn by a lab, its data as CSV
    {{ calculator("streams-per-gpu") }}                -> a form for the web, a worked table for print and EPUB
    {{ reference_system() }}                           -> every key with its value, unit, description and source

The labs run through labs.run() with its cache under <project>/.cache/labs: an unchanged lab is read back, not
run. A lab runs at most once per build (the session keeps its result), and only when a page asks for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import labs
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from labs.charts import Chart

from .citations import render_citation
from .errors import DataError, MacroError, closest
from .figures import LABELS, anchor
from .reference_system import ReferenceSystem, Quantity, format_quantity
from .structure import BookStructure, Numbered

if TYPE_CHECKING:
    from .session import BookSession, PageState

log = get_plugin_logger("labs")
REFERENCE_FILE_NAME = "reference-system.yml"
REFERENCE_PAGE = "reference-system.md"
CHART_DIR = "assets/charts"   # under the site folder: generated files, never written into chapters/
NUMBERS_ATTRIBUTE = "book_numbers"


# ── Charts in the book's figure numbering ────────────────────────────────────────────────────────────────────
def chart_pages(structure: BookStructure) -> dict[str, str]:
    """chart id -> the page that places it, from the structure's pre-scan (charts are numbered there as figures)."""
    return {chart_id: page.src for page in structure.pages.values() for chart_id in page.charts}


def render_chart(item: Numbered, lab_id: str, chart: Chart, image_href: str, data_href: str, caption: str,
                 alt: str) -> str:
    """A numbered figure like figure()'s, marked as drawn from data, with its CSV for the web edition only."""
    label = f"{LABELS['figure']} {item.number}"
    return (
        f'\n<figure class="numbered-figure chart" id="{escape(anchor(item))}" data-number="{item.number}" '
        f'data-lab="{escape(lab_id)}" data-chart="{escape(chart.id)}">\n'
        f'<img src="{escape(image_href)}" alt="{escape(alt)}">\n'
        f'<p class="chart-data web-only"><a href="{escape(data_href)}" download="{escape(chart.id)}.csv">'
        f"Data behind {label} (CSV)</a></p>\n"
        f'<figcaption><span class="caption-label">{label}</span> {escape(caption)}</figcaption>\n'
        "</figure>\n"
    )


def write_charts(site_dir: Path, charts: list[Chart]) -> None:
    """Each chart's SVG and CSV under site/assets/charts/, where the figures point."""
    folder = site_dir / CHART_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for chart in charts:
        (folder / f"{chart.id}.svg").write_text(chart.svg, encoding="utf-8")
        (folder / f"{chart.id}.csv").write_text(chart.csv, encoding="utf-8")


# ── Calculators ──────────────────────────────────────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class Calculator:
    """A web form over reference-system values; calculators.js holds the formula of each id, and the worked
    table shows the same inputs with the results the reference system derives (or `total` computes) from them."""
    id: str
    title: str
    inputs: tuple[str, ...]
    results: tuple[str, ...] = ()    # derived reference-system keys the formula reproduces
    total: Callable[[ReferenceSystem], tuple[str, str]] | None = None  # (label, formatted) for a sum


LATENCY_TARGET = "slo.first_partial_p95_ms"


def _budget_total(system: ReferenceSystem) -> tuple[str, str]:
    stages = [key for key in CALCULATORS["latency-budget"].inputs if key != LATENCY_TARGET]
    total = sum(system.number(key) for key in stages)
    return "Sum of the stages' p95 (an upper bound: percentiles do not add)", format_quantity(total, "ms")


CALCULATORS: dict[str, Calculator] = {c.id: c for c in (
    # Every stage from the word's last audio to the partial on screen: the chunk filling and a full batch on the
    # GPU are worst cases, the others stated p95 targets; the batching lab simulates the queue and the batch.
    Calculator("latency-budget", "Latency budget: word to first partial",
               ("audio.chunk_ms", "budget.encode_p95_ms", "budget.uplink_p95_ms", "budget.ingress_p95_ms",
                "budget.queue_p95_ms", "inference.max_batch_ms", "budget.decode_p95_ms", "budget.downlink_p95_ms",
                "budget.render_p95_ms", LATENCY_TARGET),
               total=_budget_total),
    Calculator("streams-per-gpu", "Streams and GPUs for a traffic level (Little's law)",
               ("traffic.peak_session_arrivals_per_s", "sessions.mean_s", "capacity.streams_per_gpu"),
               ("traffic.peak_concurrent_streams", "fleet.gpus_at_peak")),
    Calculator("cost-per-audio-hour", "GPU cost per audio hour",
               ("prices.gpu_instance_usd_per_hour", "capacity.streams_per_gpu", "traffic.mean_fraction_of_peak"),
               ("costs.usd_per_audio_hour",)),
)}


def render_calculator(calculator: Calculator, system: ReferenceSystem) -> str:
    """The form (web only: print and EPUB drop <form>) and, beside it, the worked table every edition shows."""
    fields = "\n".join(_input_field(calculator.id, system.get(key)) for key in calculator.inputs)
    output_for = " ".join(_input_id(calculator.id, key) for key in calculator.inputs)
    return (
        f'\n<div class="calculator-block" data-calculator="{calculator.id}">\n'
        f'<form class="calculator" data-calculator="{calculator.id}" aria-label="{escape(calculator.title)}">\n'
        f"<fieldset>\n<legend>{escape(calculator.title)}</legend>\n{fields}\n</fieldset>\n"
        f'<p class="calculator-result"><output id="calc-{calculator.id}-result" for="{output_for}" '
        f'aria-live="polite"></output></p>\n'
        "</form>\n"
        f"{_worked_table(calculator, system)}\n"
        "</div>\n"
    )


def _input_id(calculator_id: str, key: str) -> str:
    return f"calc-{calculator_id}-{key.replace('.', '-').replace('_', '-')}"


def _input_field(calculator_id: str, quantity: Quantity) -> str:
    field_id = _input_id(calculator_id, quantity.key)
    return (
        f'<p class="calculator-field"><label for="{field_id}">{escape(quantity.description)} '
        f'<span class="calculator-unit">({escape(quantity.unit)})</span></label>\n'
        f'<input id="{field_id}" name="{escape(quantity.key)}" data-key="{escape(quantity.key)}" type="number" '
        f'inputmode="decimal" min="0" step="any" required value="{quantity.value}"></p>'
    )


def _worked_table(calculator: Calculator, system: ReferenceSystem) -> str:
    rows = [_row(q.description, q.format(), q.key) for q in map(system.get, calculator.inputs)]
    results = [_row(q.description, q.format(), q.key, result=True) for q in map(system.get, calculator.results)]
    if calculator.total:
        label, formatted = calculator.total(system)
        results.append(_row(label, formatted, "", result=True))
    return (
        f'<table class="calculator-table" data-calculator="{calculator.id}">\n'
        f"<caption>{escape(calculator.title)}, worked with the reference system's values</caption>\n"
        '<thead><tr><th scope="col">Quantity</th><th scope="col">Value</th><th scope="col">Key</th></tr></thead>\n'
        f"<tbody>\n{''.join(rows + results)}</tbody>\n</table>"
    )


def _row(label: str, value: str, key: str, result: bool = False) -> str:
    css = ' class="calculator-total"' if result else ""
    return (f'<tr{css}><th scope="row">{escape(label)}</th><td>{escape(value)}</td>'
            f"<td>{f'<code>{escape(key)}</code>' if key else ''}</td></tr>\n")


# ── The Reference System page ────────────────────────────────────────────────────────────────────────────────
GROUP_TITLES = {"gpu": "GPU", "slo": "Service level objectives", "budget": "Latency budget", "fleet": "Fleet",
                "costs": "Costs", "sessions": "Sessions"}


def render_reference_page(system: ReferenceSystem, cite: Callable[[str], str]) -> str:
    """Every key, group by group: value with unit, description, and its source (a citation), the values it is
    derived from, or "Assumption" with its why."""
    groups: dict[str, list[Quantity]] = {}
    for quantity in system.entries.values():
        groups.setdefault(quantity.key.split(".")[0], []).append(quantity)
    out = []
    for group, quantities in groups.items():
        rows = "".join(_reference_row(q, cite) for q in sorted(quantities, key=lambda q: q.derived))
        out.append(
            f"\n## {GROUP_TITLES.get(group, group.replace('_', ' ').capitalize())} {{#spec-{group}}}\n\n"
            '<table class="reference-system">\n<thead><tr><th scope="col">Key</th><th scope="col">Value</th>'
            '<th scope="col">Description</th><th scope="col">Source</th></tr></thead>\n'
            f"<tbody>\n{rows}</tbody>\n</table>\n"
        )
    return "".join(out)


def _reference_row(quantity: Quantity, cite: Callable[[str], str]) -> str:
    return (
        f'<tr id="spec-{escape(quantity.key)}" data-key="{escape(quantity.key)}">'
        f"<td><code>{escape(quantity.key)}</code></td><td>{escape(quantity.format())}</td>"
        f"<td>{escape(quantity.description)}</td><td>{_provenance(quantity, cite)}</td></tr>\n"
    )


def _provenance(quantity: Quantity, cite: Callable[[str], str]) -> str:
    if quantity.derived:
        # A key in a link is not set as <code>: Material's code-in-link colours fail contrast in the dark palette.
        uses = ", ".join(f'<a class="spec-key" href="#spec-{escape(key)}">{escape(key)}</a>' for key in quantity.uses)
        return f'<span class="spec-derived">Derived from {uses}</span>'
    checked = f" (checked {escape(quantity.as_of)})" if quantity.as_of else ""
    if quantity.source:
        return f"{cite(quantity.source)}{checked}"
    return f'<span class="spec-assumption">Assumption</span>{checked}: {escape(quantity.why or "")}'


def write_site_charts(session: BookSession, site_dir: Path) -> None:
    """on_post_build: put the charts the pages place into the site."""
    numbers: BookNumbers | None = getattr(session, NUMBERS_ATTRIBUTE, None)
    if numbers is not None:
        numbers.write_charts(site_dir)


# ── The macros ───────────────────────────────────────────────────────────────────────────────────────────────
def lab_inputs(config: Any) -> tuple[Path, Path]:
    """(reference-system file, lab cache folder) of a book: its data folder's file, its project's .cache/labs.
    The build and `book labs` use the same, so either one fills the other's cache."""
    from .session import BookSession
    project = Path(config["config_file_path"]).parent
    return BookSession._data_dir(config) / REFERENCE_FILE_NAME, project / ".cache" / "labs"


class BookNumbers:
    """One build's reference system and lab results, loaded on first use (a book that never calls spec() needs
    no reference-system file) and kept for the rest of the build."""

    def __init__(self, session: BookSession):
        self.session = session
        self.reference_file, self.cache_dir = lab_inputs(session.config)
        self._system: ReferenceSystem | None = None
        self._runs: dict[str, labs.LabRun] = {}
        self.charts_used = chart_pages(session.structure)

    @property
    def system(self) -> ReferenceSystem:
        if self._system is None:
            if not self.reference_file.is_file():
                raise MacroError(f"this book has no reference system: {self.reference_file} is missing")
            try:
                self._system = ReferenceSystem.load(self.reference_file, self.session.bibliography.sources)
            except DataError as error:
                raise MacroError(str(error)) from error
        return self._system

    def lab(self, lab_id: str) -> labs.LabResult:
        if lab_id not in self._runs:
            try:
                outcome = labs.run(lab_id, reference=self.reference_file, cache_dir=self.cache_dir)
            except labs.LabError as error:
                raise MacroError(f"lab {error}") from error
            log.info(f"{lab_id}: {'from the cache' if outcome.cached else f'ran in {outcome.seconds:.1f} s'}")
            self._runs[lab_id] = outcome
        return self._runs[lab_id].result

    def lab_value(self, key: str) -> labs.LabValue:
        lab_id = key.split(".")[0]
        if lab_id not in labs.LABS:
            every_key = [k for other in labs.LABS for k in self.lab(other).values]
            raise MacroError(f"unknown lab value {key!r}: no lab {lab_id!r}." + closest(key, every_key))
        result = self.lab(lab_id)
        if key not in result.values:
            raise MacroError(f"unknown lab value {key!r} (lab {lab_id})." + closest(key, result.values))
        return result.values[key]

    def chart(self, chart_id: str) -> tuple[str, Chart]:
        """(lab id, chart) of the lab that draws chart_id."""
        every_chart = []
        for lab_id in labs.LABS:
            for chart in self.lab(lab_id).charts:
                if chart.id == chart_id:
                    return lab_id, chart
                every_chart.append(chart.id)
        raise MacroError(f"unknown chart {chart_id!r}: no lab draws it." + closest(chart_id, every_chart))

    def write_charts(self, site_dir: Path) -> None:
        """After the build: the files of every chart the pages place (the pre-scan's list, so a page the preview
        served from its cache still finds its chart). A chart that cannot be drawn was reported by its page."""
        found = []
        for chart_id in self.charts_used:
            try:
                found.append(self.chart(chart_id)[1])
            except MacroError:
                continue
        if found:
            write_charts(site_dir, found)


def current_page(session: BookSession) -> PageState:
    assert session.page is not None, "a macro runs while its page renders"
    return session.page


def macros(session: BookSession) -> dict[str, Callable[..., str]]:
    numbers = BookNumbers(session)
    setattr(session, NUMBERS_ATTRIBUTE, numbers)   # for write_site_charts() after the build

    def spec(key: str, decimals: int | None = None) -> str:
        return escape(numbers.system.get(key).format(decimals))

    def value(key: str, decimals: int | None = None) -> str:
        return escape(numbers.lab_value(key).format(decimals))

    def chart(chart_id: str, caption: str, alt: str = "") -> str:
        item = session.numbered("figure", chart_id)
        lab_id, drawn = numbers.chart(chart_id)
        image = f"{CHART_DIR}/{chart_id}.svg"
        page = current_page(session).src
        return render_chart(item, lab_id, drawn, session.structure.asset_href(page, image),
                            session.structure.asset_href(page, f"{CHART_DIR}/{chart_id}.csv"),
                            caption, alt or drawn.alt)

    def calculator(kind: str) -> str:
        if kind not in CALCULATORS:
            raise MacroError(f"unknown calculator {kind!r}; one of {', '.join(CALCULATORS)}."
                             + closest(kind, CALCULATORS))
        return render_calculator(CALCULATORS[kind], numbers.system)

    def cite_once(key: str) -> str:
        """A citation numbered in the page's reference list, as cite() makes it."""
        cited = current_page(session).cited
        if key not in cited:
            cited.append(key)
        return render_citation([(cited.index(key) + 1, key)])

    def reference_system() -> str:
        return render_reference_page(numbers.system, cite_once)

    return {"spec": spec, "value": value, "chart": chart, "calculator": calculator,
            "reference_system": reference_system}
