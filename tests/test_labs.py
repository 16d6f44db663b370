"""The labs and their runner: deterministic values and charts, the content-hash cache, failures named by lab,
Triton's batching rules, and charts that are self-contained SVG. Labs run at their QUICK_PARAMS size here."""
from pathlib import Path

import pytest
import yaml
from lxml import etree

import labs
from labs import LabError, run
from labs.__main__ import main
from labs.batching import BatcherConfig, simulate
from macros.reference_system import REFERENCE_FILE

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def reference(tmp_path) -> Path:
    """A copy of the reference system that a test may change."""
    copy = tmp_path / "reference-system.yml"
    copy.write_text(REFERENCE_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def set_value(path: Path, group: str, key: str, value) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[group][key]["value"] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


# --- the runner -------------------------------------------------------------------------------------------------

def test_a_lab_gives_identical_values_and_charts_on_two_runs(tmp_path):
    first = run("latency_budget", quick=True, cache_dir=tmp_path / "one")
    second = run("latency_budget", quick=True, cache_dir=tmp_path / "two")
    assert not first.cached and not second.cached
    assert first.result == second.result  # values, SVG bytes and CSV alike
    batching = (tmp_path / "one" / "batching").glob("*/batching-latency-vs-load.svg")
    assert next(batching).read_bytes() == next((tmp_path / "two" / "batching").glob("*/batching-latency-vs-load.svg")).read_bytes()


def test_the_cache_skips_an_unchanged_lab_and_reruns_a_changed_one(tmp_path, reference):
    cache = tmp_path / "cache"
    fresh = run("batching", quick=True, reference=reference, cache_dir=cache)
    again = run("batching", quick=True, reference=reference, cache_dir=cache)
    assert (fresh.cached, again.cached) == (False, True)
    assert again.result == fresh.result and again.key == fresh.key

    set_value(reference, "batcher", "max_queue_delay_us", 8000)
    changed = run("batching", quick=True, reference=reference, cache_dir=cache)
    assert not changed.cached and changed.key != fresh.key
    assert changed.result.value("batching.bound_ms").value == pytest.approx(8 + 32.5)
    assert [p.name for p in (cache / "batching").iterdir()] == [changed.key[:20]]  # the stale result is gone


def test_a_dependent_lab_reruns_when_its_dependency_changes(tmp_path, reference):
    cache = tmp_path / "cache"
    before = run("latency_budget", quick=True, reference=reference, cache_dir=cache)
    set_value(reference, "inference", "batch_per_chunk_ms", 2.0)
    after = run("latency_budget", quick=True, reference=reference, cache_dir=cache)
    assert not after.cached
    assert (after.result.value("latency_budget.stage.inference_ms").value
            != before.result.value("latency_budget.stage.inference_ms").value)


def test_a_failing_lab_raises_lab_error_naming_the_lab(tmp_path, monkeypatch):
    (tmp_path / "failing_lab.py").write_text(
        "def run(system, deps):\n    raise ZeroDivisionError('no streams to divide by')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(LabError, match=r"^boom: ZeroDivisionError: no streams to divide by$"):
        run("boom", cache_dir=tmp_path / "cache", registry={"boom": "failing_lab"})
    assert not (tmp_path / "cache" / "boom").exists()  # nothing half-written


def test_an_invalid_reference_system_fails_the_lab_with_the_key(tmp_path, reference):
    set_value(reference, "audio", "chunk_ms", "a hundred")
    with pytest.raises(LabError, match=r"^batching: the reference system is not valid: .*audio.chunk_ms"):
        run("batching", quick=True, reference=reference, cache_dir=tmp_path / "cache")


def test_an_unknown_lab_names_the_close_match(tmp_path):
    with pytest.raises(LabError, match=r"batchin: no such lab. Did you mean: 'batching'"):
        run("batchin", cache_dir=tmp_path)


def test_the_command_line_says_what_ran_and_what_came_from_the_cache(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(labs, "CACHE_DIR", tmp_path)
    assert main(["--quick", "batching"]) == 0
    assert main(["--quick"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("batching: ") and out[0].endswith("ran; 82 values, 3 chart(s)")
    assert "from the cache" in out[1] and out[2].startswith("latency_budget: ") and "ran" in out[2]
    assert main(["nope"]) == 1
    assert capsys.readouterr().err == "labs: nope: no such lab.\n"


# --- the batching lab -------------------------------------------------------------------------------------------

def test_triton_batching_rules():
    config = BatcherConfig(max_batch_size=16, preferred_batch_sizes=(4, 8), max_queue_delay_ms=2.0, instances=1)
    assert config.batch_to_send(20, 0.0) == 16       # a full batch goes at once
    assert config.batch_to_send(10, 0.0) == 8        # so does the largest preferred size the queue can fill
    assert config.batch_to_send(3, 1.0) is None      # otherwise wait while the oldest is inside the window
    assert config.batch_to_send(3, 2.0) == 3         # and send what is there when it expires
    no_delay = BatcherConfig(16, (), 0.0, 1)
    assert no_delay.batch_to_send(1, 0.0) == 1       # Triton's default: never hold a request back


def test_a_lone_chunk_waits_out_the_window_then_runs_alone():
    """At very light load each chunk meets an idle instance: latency is exactly window + t(1)."""
    config = BatcherConfig(8, (8,), 10.0, 1)
    result = simulate(0.5, config, lambda b: 10 + 1.5 * (b - 1), arrivals=200, seed=1)
    assert set(result.batch_sizes) == {1}
    assert result.latency_ms.min() == pytest.approx(20) and result.latency_ms.max() == pytest.approx(20)


def test_under_heavy_load_batches_fill_and_chunks_wait_past_the_window():
    config = BatcherConfig(8, (), 10.0, 1)
    result = simulate(380, config, lambda b: 10 + 1.5 * (b - 1), arrivals=4000, seed=2)  # 97% of 390/s
    assert result.batch_sizes.mean() > 7
    assert (result.queue_ms > 10).mean() > 0.2  # waiting for a free instance, not for the window


def test_batching_reports_percentiles_at_the_target_and_the_knee(tmp_path):
    result = run("batching", quick=True, cache_dir=tmp_path).result
    p50, p95, p99 = (result.value(f"batching.{p}_ms_at_target").value for p in ("p50", "p95", "p99"))
    assert 0 < p50 <= p95 <= p99
    assert result.value("batching.p99_ms_at_target").format().endswith(" ms")
    assert result.value("batching.target_streams").value == 32  # 400 chunks/s of 80 ms chunks
    assert result.value("batching.share_over_bound_at_target").value > 0  # the back-of-envelope bound does not hold
    csv = result.chart("batching-latency-vs-load").csv.splitlines()
    assert csv[0].startswith("streams,chunks_per_s,load,p50_ms,p95_ms,p99_ms")
    assert [row.split(",")[0] for row in csv[1:]] == ["10", "30", "32", "40", "48"]  # the target joins the sweep


# --- the latency budget lab -------------------------------------------------------------------------------------

def test_latency_budget_says_what_each_stage_figure_is_and_that_percentiles_do_not_add(tmp_path):
    result = run("latency_budget", quick=True, cache_dir=tmp_path).result
    stages = ["capture", "encode", "uplink", "ingress", "queue", "inference", "decode", "downlink", "render"]
    total = sum(result.value(f"latency_budget.stage.{s}_ms").value for s in stages)
    assert result.value("latency_budget.word_to_text_total_ms").value == pytest.approx(total)
    assert result.value("latency_budget.stage.capture_ms").value == 80  # the chunk, from the reference system
    assert result.value("latency_budget.stage.capture_kind").value == "worst case"
    assert result.value("latency_budget.stage.queue_kind").value == "simulated p95"
    assert result.value("latency_budget.stage.uplink_kind").value == "stated p95 target"
    assert "Percentiles do not add" in result.value("latency_budget.percentiles_note").value
    joint = result.value("latency_budget.queue_plus_inference_p95_ms").value
    assert joint <= result.value("latency_budget.queue_p95_plus_inference_p95_ms").value


# --- charts -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lab_id", ["batching", "latency_budget"])
def test_charts_are_self_contained_accessible_svg_on_their_own_background(tmp_path, lab_id):
    charts = run(lab_id, quick=True, cache_dir=tmp_path).result.charts
    assert charts, f"{lab_id} drew no chart"
    for chart in charts:
        root = etree.fromstring(chart.svg.encode())
        assert "<!DOCTYPE" not in chart.svg      # EPUB 3 forbids the DTD's external identifier
        assert all(path.get("d") is not None for path in root.iter(f"{SVG}path"))   # SVG requires it; epubcheck too
        assert root.get("role") == "img"
        assert root.find(f"{SVG}title").text == chart.title
        assert root.find(f"{SVG}desc").text == chart.alt and len(chart.alt) > 80
        assert not root.findall(f".//{SVG}text")  # text drawn as paths: no font needed
        for forbidden in ("script", "image", "foreignObject", "style", "metadata"):
            assert not root.findall(f".//{SVG}{forbidden}"), forbidden
        links = [v for e in root.iter() for k, v in e.attrib.items() if k.endswith("href")]
        assert all(link.startswith("#") for link in links)
        background = root.find(f".//{SVG}g[@id='figure_1']/{SVG}g[@id='patch_1']/{SVG}path")
        assert "fill: #ffffff" in background.get("style")
