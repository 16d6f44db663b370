"""The metering lab: rounding arithmetic that is exact, event splitting that conserves audio, retries that err in
the directions the chapter states, and results that repeat for the same seed."""
import numpy as np

from labs import run
from labs.metering import billed_ms, delivered_copies, event_sizes_ms, lognormal_ms


def test_rounding_rounds_up_to_the_increment_and_applies_the_minimum():
    exact = np.array([1, 999, 1000, 1001, 59_999, 60_001])
    assert billed_ms(exact, 1).tolist() == [1000, 1000, 1000, 2000, 60_000, 61_000]
    assert billed_ms(exact, 1, 15).tolist() == [15_000, 15_000, 15_000, 15_000, 60_000, 61_000]
    assert billed_ms(exact, 60).tolist() == [60_000, 60_000, 60_000, 60_000, 60_000, 120_000]


def test_usage_events_split_a_stream_into_whole_intervals_and_a_remainder():
    sizes, owner = event_sizes_ms(np.array([150_000, 60_000, 500]), 60)
    assert sizes.tolist() == [60_000, 60_000, 30_000, 60_000, 500]
    assert owner.tolist() == [0, 0, 0, 1, 2]


def test_lognormal_lengths_have_the_requested_mean():
    lengths = lognormal_ms(np.random.default_rng(1), 240, 1.0, 200_000)
    assert abs(lengths.mean() / 1000 - 240) < 5


def test_no_timeouts_store_every_event_once():
    stored, first = delivered_copies(np.random.default_rng(2), 1000, 0.0, 0.5, 5)
    assert (stored == 1).all() and (first == 1).all()


def test_retries_with_fresh_ids_overbill_and_no_retries_underbill(tmp_path):
    result = run("metering", quick=True, cache_dir=tmp_path).result
    assert result.value("metering.fresh_ids_pct_at_ref").value > 0
    assert result.value("metering.fire_and_forget_pct_at_ref").value < 0
    assert result.value("metering.fire_and_forget_underbill_pct_at_ref").value == -result.value("metering.fire_and_forget_pct_at_ref").value
    assert result.value("metering.dedup_pct_at_ref").value == 0
    assert result.value("metering.fresh_ids_pct_at_max").value > result.value("metering.fresh_ids_pct_at_ref").value
    # Rounding: coarser increments cost more, and short requests far more than conversations.
    per_second = result.value("metering.uplift_pct_per_second_sessions").value
    per_minute = result.value("metering.uplift_pct_per_minute_sessions").value
    assert 0 < per_second < per_minute
    assert result.value("metering.uplift_pct_per_minute_commands").value > 10 * per_minute
    assert result.value("metering.uplift_pct_per_minute_invoice_sessions").value < 0.01
    assert 0 < result.value("metering.gpu_margin_pct").value < 100
    assert {c.id for c in result.charts} == {"metering-rounding", "metering-delivery"}


def test_same_seed_same_values(tmp_path):
    one = run("metering", quick=True, cache_dir=tmp_path / "a").result
    two = run("metering", quick=True, cache_dir=tmp_path / "b").result
    assert {k: v.value for k, v in one.values.items()} == {k: v.value for k, v in two.values.items()}
    assert one.chart("metering-rounding").svg == two.chart("metering-rounding").svg
