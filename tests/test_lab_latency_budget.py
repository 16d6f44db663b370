"""The latency_budget lab: the knee chart and its rule, that adding stage p95s overstates the p95 of the sum when the
stages are smooth and independent, the flush path on the client's clock, and the failure story's arithmetic."""
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


def test_the_knee_follows_its_rule_and_the_plan_sits_below_it(result):
    table = rows(result)
    rule = result.value("latency_budget.knee_rule_ms_per_stream").value
    knee = result.value("latency_budget.knee_streams").value
    slopes = [(int(b["streams"]), (float(b["p95_ms"]) - float(a["p95_ms"])) / (int(b["streams"]) - int(a["streams"])))
              for a, b in zip(table, table[1:])]
    assert knee == next(streams for streams, slope in slopes if slope > rule)
    assert knee > int(ReferenceSystem.load().number("capacity.streams_per_gpu"))


def test_the_flush_path_is_the_word_to_text_path_with_a_final_decode_and_no_capture_wait(result):
    system = ReferenceSystem.load()
    stage = lambda key: result.value(f"latency_budget.stage.{key}_ms").value  # noqa: E731
    flush = (stage("encode") + stage("uplink") + stage("ingress") + stage("queue") + stage("inference")
             + system.number("budget.final_decode_p95_ms") + stage("downlink") + stage("render"))
    assert result.value("latency_budget.finalisation_total_ms").value == pytest.approx(flush)
    assert result.value("latency_budget.finalisation_total_ms").value <= system.number("slo.finalisation_p95_ms")
    silence, chunk = system.number("endpointing.silence_ms"), system.number("audio.chunk_ms")
    assert result.value("latency_budget.end_of_speech_to_final_min_ms").value == pytest.approx(silence + flush)
    assert result.value("latency_budget.end_of_speech_to_final_ms").value == pytest.approx(silence + chunk + flush)


def test_the_failure_story_overloads_the_remaining_gpus_and_its_queue_grows_linearly(result):
    system = ReferenceSystem.load()
    value = lambda key: result.value(f"latency_budget.{key}").value  # noqa: E731
    assert value("story_streams_per_gpu") > system.number("capacity.streams_at_saturation")
    assert value("story_excess_chunks_per_s") > 0
    assert value("story_wait_s_at_7_min") == pytest.approx(value("story_wait_growth_ms_per_s") * 420 / 1000)
    assert value("story_backlog_work_s") == pytest.approx(value("story_wait_s_at_9_min"))
    assert value("story_drain_after_shedding_min") < value("story_drain_at_tested_min")
