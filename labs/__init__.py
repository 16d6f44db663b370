"""The labs: small seeded experiments on the reference system, each returning values and charts, and the runner
that caches them by content hash.

    from labs import run
    outcome = run("batching")                  # LabRun: .result, .cached, .seconds
    outcome.result.value("batching.p99_ms_at_target").format()  -> "61.9 ms"

A lab is a module named in LABS with:
    TITLE          one line
    DEPENDS        ids of labs whose results it reads (run first, cached likewise)
    PARAMS         its parameters at the book's size; QUICK_PARAMS, the same at test size
    run(system, deps, **params) -> LabResult

The cache key of a run is a hash of the runner version, the lab's source and the modules every lab shares, the
reference-system file, the parameters, and the keys of the labs it depends on: change any of them and the lab
runs again; change nothing and its stored values and charts come back from .cache/labs/ without running it.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Mapping

import matplotlib

from macros import reference_system
from macros.errors import DataError, closest
from macros.reference_system import REFERENCE_FILE, ReferenceSystem, format_quantity

from . import charts
from .charts import Chart

RUNNER_VERSION = "1"
ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".cache" / "labs"
LABS: dict[str, str] = {
    "batching": "labs.batching",
    "latency_budget": "labs.latency_budget",
    "chunk_size": "labs.chunk_size",
    "ingest_cpu": "labs.ingest_cpu",
    "framing": "labs.framing",
    "hot_swap": "labs.hot_swap",
    "build_buy": "labs.build_buy",
    "admission": "labs.admission",
    "async_jobs": "labs.async_jobs",
    "metering": "labs.metering",
    "cost_attack": "labs.cost_attack",
    "retention": "labs.retention",
    "slo_alerts": "labs.slo_alerts",
    "warm_pool": "labs.warm_pool",
    "case_study": "labs.case_study",
}
# Code every lab runs through: a change to any of these is a change to every lab.
SHARED_SOURCES = (Path(__file__), Path(charts.__file__), Path(reference_system.__file__),
                  Path(__file__).with_name("machine.py"))


class LabError(Exception):
    """A lab could not run; the message starts with the lab's id."""


@dataclass(frozen=True)
class LabValue:
    key: str
    value: float | int | str | tuple
    unit: str
    description: str

    def format(self, decimals: int | None = None) -> str:
        return format_quantity(self.value, self.unit, decimals)

    @property
    def number(self) -> float:
        """The value as a number, for a lab that computes on another value it found."""
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise TypeError(f"lab value {self.key!r} is {self.value!r}, not a number")
        return float(self.value)


@dataclass(frozen=True)
class LabResult:
    values: dict[str, LabValue]
    charts: tuple[Chart, ...] = ()

    def value(self, key: str) -> LabValue:
        if key not in self.values:
            raise KeyError(f"no lab value {key!r}." + closest(key, self.values))
        return self.values[key]

    def chart(self, chart_id: str) -> Chart:
        for chart in self.charts:
            if chart.id == chart_id:
                return chart
        raise KeyError(f"no chart {chart_id!r}." + closest(chart_id, [c.id for c in self.charts]))


@dataclass(frozen=True)
class LabRun:
    lab_id: str
    result: LabResult
    cached: bool
    seconds: float
    key: str


def values(*entries: tuple[str, float | int | str | tuple, str, str]) -> dict[str, LabValue]:
    """values(("batching.p99_ms", 61.9, "ms", "..."), ...) -> the dict a LabResult holds."""
    return {key: LabValue(key, value, unit, description) for key, value, unit, description in entries}


def run(lab_id: str, *, quick: bool = False, force: bool = False, reference: Path = REFERENCE_FILE,
        cache_dir: Path | None = None, registry: Mapping[str, str] = LABS) -> LabRun:
    """Run one lab (and first the labs it depends on), or return its stored result if nothing changed."""
    started = time.perf_counter()
    cache_dir = CACHE_DIR if cache_dir is None else cache_dir
    module = _lab_module(lab_id, registry)
    deps = {dep: run(dep, quick=quick, reference=reference, cache_dir=cache_dir, registry=registry)
            for dep in getattr(module, "DEPENDS", ())}
    params = dict(getattr(module, "QUICK_PARAMS" if quick else "PARAMS", {}))
    key = cache_key(module, Path(reference), params, {dep: outcome.key for dep, outcome in deps.items()})
    folder = Path(cache_dir) / lab_id / key[:20]
    if not force and (folder / "result.json").is_file():
        return LabRun(lab_id, read_result(folder), True, time.perf_counter() - started, key)
    try:
        system = ReferenceSystem.load(reference)
        result = module.run(system, {dep: outcome.result for dep, outcome in deps.items()}, **params)
    except DataError as error:
        raise LabError(f"{lab_id}: the reference system is not valid: {error}") from error
    except Exception as error:  # any failure of the experiment itself: name the lab, keep the cause
        raise LabError(f"{lab_id}: {type(error).__name__}: {error}") from error
    if not isinstance(result, LabResult):
        raise LabError(f"{lab_id}: run() returned {type(result).__name__}, expected a LabResult")
    write_result(folder, lab_id, key, result)
    return LabRun(lab_id, result, False, time.perf_counter() - started, key)


def run_all(*, quick: bool = False, force: bool = False, reference: Path = REFERENCE_FILE,
            cache_dir: Path | None = None, registry: Mapping[str, str] = LABS) -> list[LabRun]:
    return [run(lab_id, quick=quick, force=force, reference=reference, cache_dir=cache_dir, registry=registry)
            for lab_id in registry]


def cache_key(module: ModuleType, reference: Path, params: dict, dep_keys: dict[str, str]) -> str:
    digest = hashlib.sha256()
    parts = [
        ("runner", RUNNER_VERSION.encode()),
        ("matplotlib", matplotlib.__version__.encode()),
        ("lab", Path(str(module.__file__)).read_bytes()),
        *((f"shared:{path.name}", path.read_bytes()) for path in SHARED_SOURCES),
        ("reference", reference.read_bytes()),
        ("params", json.dumps(params, sort_keys=True).encode()),
        ("deps", json.dumps(dep_keys, sort_keys=True).encode()),
    ]
    for name, data in parts:
        digest.update(f"{name}:{len(data)}:".encode())
        digest.update(data)
    return digest.hexdigest()


def _lab_module(lab_id: str, registry: Mapping[str, str]) -> ModuleType:
    if lab_id not in registry:
        raise LabError(f"{lab_id}: no such lab." + closest(lab_id, registry))
    try:
        return importlib.import_module(registry[lab_id])
    except Exception as error:
        raise LabError(f"{lab_id}: cannot import {registry[lab_id]}: {type(error).__name__}: {error}") from error


# --- the cache on disk ----------------------------------------------------------------------------------------

def write_result(folder: Path, lab_id: str, key: str, result: LabResult) -> None:
    """Write into a temporary folder beside the target and rename it: a reader never sees half a result."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for chart in result.charts:
            (staging / f"{chart.id}.svg").write_text(chart.svg, encoding="utf-8")
            (staging / f"{chart.id}.csv").write_text(chart.csv, encoding="utf-8")
        document = {
            "lab": lab_id,
            "key": key,
            "values": {k: {"value": list(v.value) if isinstance(v.value, tuple) else v.value, "unit": v.unit,
                           "description": v.description} for k, v in result.values.items()},
            "charts": [{"id": c.id, "title": c.title, "alt": c.alt} for c in result.charts],
        }
        (staging / "result.json").write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
        for stale in folder.parent.iterdir():  # earlier results of this lab: superseded, and would pile up
            if stale.is_dir() and not stale.name.startswith("."):
                shutil.rmtree(stale)
        os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def read_result(folder: Path) -> LabResult:
    document = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    stored = {key: LabValue(key, tuple(v["value"]) if isinstance(v["value"], list) else v["value"], v["unit"],
                            v["description"]) for key, v in document["values"].items()}
    stored_charts = tuple(
        Chart(c["id"], c["title"], c["alt"], (folder / f"{c['id']}.svg").read_text(encoding="utf-8"),
              (folder / f"{c['id']}.csv").read_text(encoding="utf-8"))
        for c in document["charts"]
    )
    return LabResult(stored, stored_charts)
