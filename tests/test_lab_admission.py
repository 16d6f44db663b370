"""The admission lab: Erlang's formula, the admission rule, the batcher, and that a cap bounds the latency that no
admission control lets grow."""
import numpy as np
import pytest

from labs import run
from labs.admission import admit, batch, chunk_arrivals, erlang_b
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("admission", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def test_erlang_b_matches_known_values():
    assert erlang_b(1, 1.0) == pytest.approx(0.5)
    assert erlang_b(2, 1.0) == pytest.approx(0.2)
    assert erlang_b(10, 5.0) == pytest.approx(0.018385, abs=1e-5)


def test_the_cap_refuses_only_while_the_gpu_is_full_and_frees_slots_as_sessions_end():
    starts = np.array([0.0, 1.0, 2.0, 3.0, 10.0])
    ends = np.array([5.0, 6.0, 7.0, 8.0, 11.0])
    assert admit(starts, ends, 2).tolist() == [True, True, False, False, True]
    assert admit(starts, ends, None).all()


def test_each_stream_sends_one_chunk_per_interval_after_it_opens():
    times, stream = chunk_arrivals(np.array([0.0, 0.05]), np.array([0.25, 0.2]), 0.08)
    assert times.tolist() == pytest.approx([0.08, 0.13, 0.16, 0.24])
    assert stream.tolist() == [0, 1, 0, 0]


def test_the_batcher_waits_its_window_then_sends_what_is_queued():
    service = lambda b: 10 + 1.5 * (b - 1)  # noqa: E731
    start, took, sizes = batch([0.0, 1.0, 30.0], 16, 2.0, 1, service)
    assert sizes == [2, 1]
    assert start.tolist() == [2.0, 2.0, 32.0]
    assert took.tolist() == [11.5, 11.5, 10.0]
    start, _, sizes = batch([0.0, 0.1, 0.2], 2, 2.0, 1, service)
    assert sizes == [2, 1] and start[0] == pytest.approx(0.1)  # a full batch leaves at once


def test_a_cap_bounds_latency_that_grows_without_one(result):
    budget = result.value("admission.budget_ms").value
    assert result.value("admission.cap_p99_ms_at_44").value < budget
    assert result.value("admission.none_p99_ms_at_44").value > 10 * budget
    assert result.value("admission.mixed_batches").value == 0


def test_rejections_follow_erlangs_formula_and_the_stack_closes(result):
    system = ReferenceSystem.load()
    assert result.value("admission.cap_streams").value == system.number("capacity.streams_per_gpu")
    assert result.value("admission.erlang_b_pct_at_44").value == pytest.approx(100 * erlang_b(32, 44))
    assert abs(result.value("admission.rejected_pct_at_44").value - result.value("admission.erlang_b_pct_at_44").value) < 15
    total = result.value("admission.agent_total_ms").value
    parts = sum(result.value(f"admission.agent_{k}_ms").value
                for k in ("arrive", "flush", "llm", "tts", "downlink", "playout"))
    assert total == pytest.approx(parts + system.number("endpointing.silence_ms"))
    assert result.value("admission.fleet_rejected_pct_at_needed").value <= (100 - system.number("slo.availability")) / 10


def test_an_hour_counts_as_over_saturation_only_if_the_stream_count_passes_it_inside_that_hour():
    from labs.admission import hours_over_saturation
    # Two streams overlap from 100 s to 200 s of the second measured hour (warm-up 0); one stream alone elsewhere.
    starts = np.array([10.0, 3700.0, 3800.0])
    ends = np.array([20.0, 3900.0, 4000.0])
    assert hours_over_saturation(starts, ends, 1.5, 0.0, 3.0) == (1, 3)
    assert hours_over_saturation(starts, ends, 2.0, 0.0, 3.0) == (0, 3)
    # Streams still open when an hour begins count towards that hour too.
    assert hours_over_saturation(np.array([0.0, 3500.0]), np.array([7000.0, 3700.0]), 1.5, 0.0, 2.0) == (2, 2)
    assert hours_over_saturation(np.array([0.0, 3500.0]), np.array([7000.0, 3600.0]), 1.5, 0.0, 2.0) == (1, 2)


def test_every_reported_figure_comes_with_the_range_of_its_seeded_runs(result):
    assert result.value("admission.seeds").value >= 2
    for key in ("none_p99", "none_p95", "cap_p99"):
        low = result.value(f"admission.{key}_ms_min_at_44").value
        mid = result.value(f"admission.{key}_ms_at_44").value
        high = result.value(f"admission.{key}_ms_max_at_44").value
        assert low <= mid <= high
    assert 0 <= result.value("admission.none_hours_over_saturation_pct_at_44").value <= 100
    assert result.value("admission.cap_p99_ms_lowest").value <= result.value("admission.cap_p99_ms_highest").value
