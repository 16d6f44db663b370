"""The slo_alerts lab: its window arithmetic, the workbook's budget shares, and what the replay must show."""
import numpy as np
import pytest

from labs import run
from labs.slo_alerts import Rules, episodes, window_fraction
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("slo_alerts", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def v(result, key):
    return result.value(key).value


def test_trailing_windows_and_episodes():
    bad, total = np.array([0, 1, 0, 3.0]), np.array([10, 10, 10, 10.0])
    assert window_fraction(bad, total, 2).tolist() == [0, 0.05, 0.05, 0.15]
    assert episodes(np.array([True, False, True, True, False, True])) == 3


def test_the_rules_spend_the_workbooks_budget_shares(result):
    rules = Rules.from_reference(ReferenceSystem.load(), 10)
    assert rules.fast == (60, 5, 14.4) and rules.slow == (360, 30, 6) and rules.ticket == (4320, 360, 1)
    assert v(result, "slo_alerts.fast_budget_pct") == pytest.approx(2)
    assert v(result, "slo_alerts.slow_budget_pct") == pytest.approx(5)
    assert v(result, "slo_alerts.ticket_budget_pct") == pytest.approx(10)
    assert v(result, "slo_alerts.outage_exhaust_min") == pytest.approx(43.2)


def test_detection_follows_long_window_times_threshold_over_burn(result):
    # one GPU in 28 (Chapter 6's fleet): burn 1000 / 28 = 35.7; the fast page fires when the 1 h window reaches 14.4,
    # after 60 x 14.4 / 35.7 = 24.2 min (less the background the window already holds, and rounded to the step)
    assert v(result, "slo_alerts.fleet_gpus") == 28
    assert 21.5 <= v(result, "slo_alerts.gpu_host.mw_page.detect_min") <= 24.5
    assert v(result, "slo_alerts.outage.mw_page.detect_min") <= 1.5
    assert v(result, "slo_alerts.curve.outage_fast_detect_s") == pytest.approx(51.84, abs=0.1)


def test_short_windows_cut_the_reset_time_and_low_burns_only_ticket(result):
    assert v(result, "slo_alerts.gpu_host.mw_page.reset_min") < 40 < v(result, "slo_alerts.gpu_host.long_only.reset_min")
    assert v(result, "slo_alerts.simmer.mw_page.detect") == "no alert"
    assert v(result, "slo_alerts.simmer.mw_ticket.detect_min") > 0
    assert v(result, "slo_alerts.restart.mw_page.detect") == "no alert"      # a quarter-percent blip pages no one
    assert v(result, "slo_alerts.restart.naive.detect_min") > 0                # ...except the naive rule


def test_only_the_naive_rule_raises_false_alarms(result):
    assert v(result, "slo_alerts.false_alarms.naive") > 10
    assert v(result, "slo_alerts.false_alarms.mw_page") == 0
    assert v(result, "slo_alerts.false_alarms.mw_ticket") == 0


def test_the_baseline_follows_the_chapters_counting_rules(result):
    # a clean host loss resumes onto Chapter 6's headroom; gaps past the deadline are charged the remaining session
    assert v(result, "slo_alerts.free_slots_after_host_loss") > v(result, "slo_alerts.host_streams_at_peak")
    assert v(result, "slo_alerts.blip_resumed_pct") > 99
    assert v(result, "slo_alerts.mean_remaining_s") == pytest.approx(240 * np.e / 2)
    # refusals on the 28-GPU fleet stay well inside the budget, each charged a whole mean session
    assert v(result, "slo_alerts.baseline_refusal_budget_pct") < 10
    assert v(result, "slo_alerts.false_alarms.mw_page_text") == "no false page"
    assert v(result, "slo_alerts.restart.duration") == "4 s"


def test_the_probe_arithmetic(result):
    assert v(result, "slo_alerts.probe.per_window") == 2880
    assert v(result, "slo_alerts.probe.max_burn_rate") == pytest.approx(100)
    assert v(result, "slo_alerts.probe.fast_page_needs_bad") == 1               # one noisy probe would page
    assert v(result, "slo_alerts.probe.threshold_wer_pct") == pytest.approx(7.7)
    assert 12000 < v(result, "slo_alerts.probe.words_for_noise") < 13500
    # one pass over the 13,000-word set is some 76 min of read speech: six parallel streams to finish in 15 min
    assert v(result, "slo_alerts.probe.parallel_streams") == 6
    assert v(result, "slo_alerts.probe.set_false_bad_pct") < 0.1 < 2 < v(result, "slo_alerts.probe.small_set_false_bad_pct")


def test_the_charts_state_their_findings(result):
    assert "keeps firing" in result.chart("slo-alert-windows").alt
    assert "slope -1" in result.chart("slo-alert-detection").alt
    assert "<script" not in result.chart("slo-alert-windows").svg
