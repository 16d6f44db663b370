"""The batching lab's Chapter 3 studies: stream-shaped arrivals, the fixed tick, the window study on a shared
queue, and the roofline of the reference GPU. Run at QUICK_PARAMS size."""
import numpy as np
import pytest

from labs import run
from labs.batching import stream_arrivals, simulate_tick, tick_wait


def test_stream_arrivals_send_one_chunk_per_interval_per_stream():
    times = stream_arrivals(4, 80.0, 40, seed=1)
    assert len(times) == 40 and np.all(np.diff(times) >= 0)
    assert times[-1] - times[0] < 10 * 80  # ten intervals of four streams


def test_a_fixed_tick_makes_a_chunk_wait_for_the_next_tick():
    arrivals = np.array([1.0, 41.0, 79.0])
    latency = simulate_tick(arrivals, 80.0, 16, lambda b: 10.0, warmup_fraction=0)
    assert latency.tolist() == pytest.approx([89.0, 49.0, 11.0])  # one batch of three at t = 80 ms, done at 90


def test_the_tick_wait_alone_is_the_time_to_the_next_multiple_of_the_interval():
    assert tick_wait(np.array([1.0, 41.0, 79.0]), 80.0, warmup_fraction=0).tolist() == pytest.approx([79.0, 39.0, 1.0])


def test_the_studies_report_values_and_charts(tmp_path):
    result = run("batching", quick=True, cache_dir=tmp_path).result
    value = lambda key: result.value(key).value  # noqa: E731
    assert value("batching.ridge_flop_per_b") == pytest.approx(121e12 / 300e9)
    assert value("batching.intensity_flop_per_b_at_target") == pytest.approx(32)  # one 80 ms frame per stream, FP16
    assert value("batching.share_of_peak_at_target") < 0.1  # memory-bound at the target
    assert value("batching.attention_frames_per_step") == 71  # 70 frames of cached left context plus the new one
    assert value("batching.kv_intensity_flop_per_b_at_target") == pytest.approx(71 * 32)
    assert 5 < value("batching.kv_batch_at_ridge") < 6  # the K/V projections cross the ridge at a small batch
    assert value("batching.max_batch_share_of_interval") == pytest.approx(32.5 / 80)  # one step never overruns
    assert value("batching.first_streams_over_queue_budget") > value("batching.max_streams_within_queue_budget")
    assert value("batching.queue_p95_ms_over_budget") > 30  # past the queue allowance
    assert value("batching.tick_wait_p95_ms_at_target") < value("batching.tick_p95_ms_at_target")
    assert value("batching.streams_p99_ms_min") <= value("batching.streams_p99_ms_max")
    assert value("batching.tick_p95_ms_at_target") > value("batching.streams_p95_ms_at_target")
    assert value("batching.pool_quiet_p50_ms_window_max") > value("batching.pool_quiet_p50_ms_window_zero")
    assert value("batching.pool_gpus") == 4
    assert {c.id for c in result.charts} == {"batching-latency-vs-load", "batching-window", "gpu-roofline"}
    roof = result.chart("gpu-roofline").csv.splitlines()
    assert roof[0].startswith("batch,intensity_flop_per_b") and roof[0].endswith(",layers")
    assert {line.split(",")[-1] for line in roof[1:]} == {"feed-forward and convolution layers",
                                                          "attention key and value projections"}
    load = result.chart("batching-latency-vs-load").csv.splitlines()
    assert load[0].endswith(",steady_state")
    assert load[-1].split(",")[-1].startswith("no")  # 48 streams is past saturation: no steady state
