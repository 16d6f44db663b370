"""The async_jobs lab: its polling arithmetic, its retry policies, and that its figures close with the reference
system."""
import numpy as np
import pytest

from labs import run
from labs.async_jobs import backoff_times, poll_backoff, poll_fixed, rtf_range, submissions, webhook
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("async_jobs", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def test_fixed_polling_finds_a_job_at_the_next_tick():
    polls, delay = poll_fixed(np.array([0.5, 10.0, 10.5]), 10)
    assert polls.tolist() == [1, 1, 2]
    assert delay.tolist() == [9.5, 0.0, 9.5]


def test_backoff_doubles_to_its_cap_and_finds_the_first_poll_after_completion():
    assert backoff_times(1, 30, 100)[:7].tolist() == [1, 3, 7, 15, 31, 61, 91]
    polls, delay = poll_backoff(np.array([2.0, 31.0, 40.0]), 1, 30)
    assert polls.tolist() == [2, 5, 6]
    assert delay.tolist() == [1.0, 0.0, 21.0]


def test_a_webhook_that_always_fails_is_reported_undelivered():
    attempts, _, undelivered = webhook(np.random.default_rng(1), 10, (0, 5, 300), 1.0)
    assert undelivered == 10 and attempts.tolist() == [3] * 10
    attempts, delay, undelivered = webhook(np.random.default_rng(1), 10, (0, 5, 300), 0.0)
    assert undelivered == 0 and attempts.tolist() == [1] * 10 and delay.max() == 0


def test_a_key_removes_duplicates_and_lost_submissions_without_extra_requests():
    outcomes = submissions(np.random.default_rng(3), 20000, 0.05, 2)
    keyless, keyed, none = outcomes["retry_without_key"], outcomes["retry_with_key"], outcomes["no_retry"]
    assert keyed["duplicates"] == 0 and keyed["orphans"] == 0
    assert keyless["duplicates"] > 0 and none["orphans"] > 0 and none["lost"] > 0
    assert keyed["attempts"] == keyless["attempts"]          # the same draws, the same requests
    # about half the timed-out first attempts reached the server: duplicates near 2.5% of submissions
    assert keyless["duplicates"] / 20000 == pytest.approx(0.025, rel=0.15)


def test_the_real_time_factors_come_from_the_batch_cost_model():
    system = ReferenceSystem.load()
    low, high = rtf_range(system)
    assert low == pytest.approx(system.service_time_ms(1) / system.number("audio.chunk_ms"))
    assert high == pytest.approx(system.value("inference.max_batch_ms") / system.number("audio.chunk_ms"))


def test_the_values_close(result):
    system = ReferenceSystem.load()
    assert result.value("async_jobs.sync_audio_limit_s").value == pytest.approx(
        system.number("api.sync_max_processing_s") / result.value("async_jobs.rtf_full").value)
    assert result.value("async_jobs.retry_with_key.duplicates_per_1000").value == 0
    assert result.value("async_jobs.webhook.requests_per_job").value < result.value(
        "async_jobs.poll_30s.requests_per_job").value
    assert result.value("async_jobs.poll_2s.delay_p95_s").value <= 2


def test_the_chart_states_its_finding(result):
    chart = result.chart("async-jobs")
    assert "duplicate jobs per 1,000" in chart.alt and "<script" not in chart.svg
