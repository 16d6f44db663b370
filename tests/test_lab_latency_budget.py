"""The latency_budget lab's end-to-end simulation: the knee chart, and that adding stage p95s overstates the p95 of
the sum when the stages are independent."""
import csv
import io

import pytest

from labs import run
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("latency_budget", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def rows(result):
    return list(csv.DictReader(io.StringIO(result.chart("latency-budget-vs-load").csv)))


def test_both_charts_are_drawn_and_the_sweep_includes_the_reference_stream_count(result):
    assert {chart.id for chart in result.charts} == {"latency-budget", "latency-budget-vs-load"}
    target = int(ReferenceSystem.load().number("capacity.streams_per_gpu"))
    assert target in {int(row["streams"]) for row in rows(result)}


def test_the_sum_of_stage_p95s_overstates_the_end_to_end_p95_of_independent_stages(result):
    p95 = result.value("latency_budget.e2e_p95_ms_at_target").value
    summed = result.value("latency_budget.sum_of_stage_p95s_ms_at_target").value
    assert summed > p95
    assert result.value("latency_budget.sum_overstates_p95_by_ms").value == pytest.approx(summed - p95)
    for row in rows(result):
        assert float(row["sum_of_stage_p95s_ms"]) > float(row["p95_ms"])


def test_percentiles_are_ordered_and_latency_rises_with_load(result):
    table = rows(result)
    for row in table:
        assert float(row["p50_ms"]) <= float(row["p95_ms"]) <= float(row["p99_ms"])
    assert float(table[-1]["p99_ms"]) > float(table[0]["p99_ms"])
    assert (result.value("latency_budget.e2e_p99_ms_at_heaviest").value
            > result.value("latency_budget.e2e_p99_ms_at_lightest").value)


def test_the_end_to_end_p95_at_the_reference_load_meets_the_target(result):
    target = result.value("latency_budget.word_to_text_target_ms").value
    assert result.value("latency_budget.e2e_p95_ms_at_target").value <= target
    assert (result.value("latency_budget.max_streams_within_target").value
            >= int(ReferenceSystem.load().number("capacity.streams_per_gpu")))


def test_the_simulation_is_seeded(tmp_path):
    one = run("latency_budget", quick=True, cache_dir=tmp_path / "one").result
    two = run("latency_budget", quick=True, cache_dir=tmp_path / "two").result
    assert one.chart("latency-budget-vs-load").svg == two.chart("latency-budget-vs-load").svg
    assert one.values == two.values
