"""The hot-swap lab: its closed form, its agreement with the simulation, and that its chart states its finding."""
import math

import numpy as np
import pytest

from labs import run
from labs.hot_swap import lognormal_mu, residual_share, simulate_swap


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("hot_swap", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def test_the_closed_form_starts_at_one_and_falls():
    assert residual_share(0, 240, 1.0) == 1.0
    shares = [residual_share(t, 240, 1.0) for t in (10, 60, 600, 3600)]
    assert shares == sorted(shares, reverse=True) and shares[-1] > 0


def test_with_sigma_near_zero_the_closed_form_is_a_straight_drain():
    # nearly fixed 240 s sessions: a stream open at the switch has a uniform 0..240 s left
    assert residual_share(120, 240, 1e-6) == pytest.approx(0.5, abs=1e-3)


def test_the_lognormal_mu_gives_the_mean():
    mu = lognormal_mu(240, 1.0)
    assert math.exp(mu + 0.5) == pytest.approx(240)


def test_a_simulated_population_is_the_size_littles_law_gives():
    remaining = simulate_swap(np.random.default_rng([1, 0]), 3.3, 240, 1.0, 14400)
    assert abs(remaining.size - 3.3 * 240) < 5 * math.sqrt(3.3 * 240)
    assert (remaining > 0).all() and (np.diff(remaining) >= 0).all()


def test_the_simulation_agrees_with_the_closed_form(result):
    assert result.value("hot_swap.pct_open_at_grace").value == pytest.approx(
        result.value("hot_swap.pct_open_at_grace_closed_form").value, abs=2.0)


def test_the_lognormal_tail_drains_slower_than_an_exponential(result):
    assert result.value("hot_swap.minutes_to_1pct").value > 2 * result.value("hot_swap.minutes_to_1pct_exponential").value
    assert result.value("hot_swap.minutes_to_10pct").value < result.value("hot_swap.minutes_to_1pct").value
    assert result.value("hot_swap.last_stream_median_min").value > 60   # waiting out a fleet takes over an hour


def test_most_streams_are_still_open_when_the_grace_expires(result):
    assert result.value("hot_swap.pct_open_at_grace").value > 70
    assert 20 < result.value("hot_swap.handovers_per_gpu").value < 32


def test_the_chart_states_its_finding(result):
    chart = result.chart("hot-swap-drain-tail")
    assert "still open" in chart.alt and "<script" not in chart.svg
    assert chart.csv.splitlines()[0] == "minutes_since_switch,lognormal_pct_open,exponential_pct_open"
