"""Lab: how long the old version of a streaming recogniser stays busy after a hot swap, if it waits for its streams.

A seeded Monte Carlo simulation of the reference fleet at its peak hour. Sessions arrive as a Poisson process at
traffic.peak_session_arrivals_per_s and last a lognormal time (sessions.mean_s, sessions.lognormal_sigma), an
M/G/infinity system. Each simulated swap lets the fleet run for `warmup_s` seconds so that the streams open at the
switch are a steady-state population (long sessions are over-represented among them: the inspection paradox), then
switches every new stream to the new version at time zero and records when each stream still on the old version
ends of its own accord. The lab repeats this `swaps` times with independent seeds.

What it finds, per swap and averaged over the swaps:
- the share of the old version's streams still open t minutes after the switch, with the same curve for
  exponential session lengths of the same mean beside it (the tail is what a lognormal adds);
- the share still open when the drain grace (protocols.drain_grace_s) expires, had the gateway only waited: the share
  it must move itself (rebind to the new version at the stream's next endpoint) rather than wait for. The chapter's
  procedure asks every stream to move at the switch and uses the grace as a deadline, so this measures the naive plan
  that the procedure replaces;
- the minutes until 10% and 1% remain, and until the last stream of the fleet ends (median and p95 over swaps):
  the time both versions would stay resident in GPU memory if the swap waited for every stream.

Session lengths only: the lab does not model utterances, so it says nothing about how soon a stream reaches an
endpoint once asked to move (the grace bounds that).

The simulation is checked against the closed form of the equilibrium residual life, R(t) = E[(L - t)+] / E[L],
which for a lognormal L is mean * Phi((mu + s^2 - ln t) / s) - t * Phi((mu - ln t) / s), divided by the mean.
"""
from __future__ import annotations

import math

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Hot swap: share of the old version's streams still open after the switch, at the peak hour"
DEPENDS = ()
PARAMS = {"seed": 2026, "swaps": 300, "warmup_s": 14400, "horizon_min": 120}
QUICK_PARAMS = {"seed": 2026, "swaps": 30, "warmup_s": 14400, "horizon_min": 120}
GRID_STEP_S = 15


def lognormal_mu(mean_s: float, sigma: float) -> float:
    """mu of the log of a lognormal with this mean and sigma (mean = exp(mu + sigma^2 / 2))."""
    return math.log(mean_s) - sigma * sigma / 2


def residual_share(t_s: float, mean_s: float, sigma: float) -> float:
    """Share of an M/G/infinity system's open sessions still open t seconds later (lognormal lengths)."""
    if t_s <= 0:
        return 1.0
    mu = lognormal_mu(mean_s, sigma)

    def phi(z: float) -> float:
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    tail = mean_s * phi((mu + sigma * sigma - math.log(t_s)) / sigma) - t_s * phi((mu - math.log(t_s)) / sigma)
    return max(tail / mean_s, 0.0)


def simulate_swap(rng: np.random.Generator, rate_per_s: float, mean_s: float, sigma: float,
                  warmup_s: float) -> np.ndarray:
    """Remaining seconds of every stream open at the switch (time 0), after warmup_s of Poisson arrivals."""
    arrivals = rng.poisson(rate_per_s * warmup_s)
    starts = -rng.uniform(0.0, warmup_s, size=arrivals)
    lengths = rng.lognormal(lognormal_mu(mean_s, sigma), sigma, size=arrivals)
    ends = starts + lengths
    return np.sort(ends[ends > 0.0])


def first_time_below(grid_s: np.ndarray, share: np.ndarray, level: float) -> float:
    """The first grid time at which the share is at or below level (seconds)."""
    below = np.nonzero(share <= level)[0]
    if below.size == 0:
        raise ValueError(f"the share never falls to {level:.3%} within the horizon; lengthen horizon_min")
    return float(grid_s[below[0]])


def run(system: ReferenceSystem, deps: dict, *, seed: int, swaps: int, warmup_s: float,
        horizon_min: float) -> LabResult:
    rate = system.number("traffic.peak_session_arrivals_per_s")
    mean_s = system.number("sessions.mean_s")
    sigma = system.number("sessions.lognormal_sigma")
    grace_s = system.number("protocols.drain_grace_s")
    per_gpu = system.number("capacity.streams_per_gpu")
    if warmup_s < 20 * mean_s:
        raise ValueError(f"warmup_s {warmup_s} is too short for sessions of mean {mean_s} s to reach steady state")

    grid_s = np.arange(0.0, horizon_min * 60 + GRID_STEP_S, GRID_STEP_S)
    shares = np.empty((swaps, grid_s.size))
    open_at_switch = np.empty(swaps)
    last_end_s = np.empty(swaps)
    for index in range(swaps):
        remaining = simulate_swap(np.random.default_rng([seed, index]), rate, mean_s, sigma, warmup_s)
        open_at_switch[index] = remaining.size
        last_end_s[index] = remaining[-1]
        still_open = remaining.size - np.searchsorted(remaining, grid_s, side="right")
        shares[index] = still_open / remaining.size

    share = shares.mean(axis=0)
    at_grace = float(np.interp(grace_s, grid_s, share))
    analytic_at_grace = residual_share(grace_s, mean_s, sigma)
    if abs(at_grace - analytic_at_grace) > 0.02:
        raise RuntimeError(f"simulation ({at_grace:.3f}) and closed form ({analytic_at_grace:.3f}) disagree at the grace")
    exponential = np.exp(-grid_s / mean_s)
    to_10 = first_time_below(grid_s, share, 0.10)
    to_1 = first_time_below(grid_s, share, 0.01)
    to_1_exp = mean_s * math.log(100)
    last_median = float(np.median(last_end_s))
    last_p95 = float(np.percentile(last_end_s, 95))
    streams = float(open_at_switch.mean())

    found = values(
        ("hot_swap.streams_at_switch", round(streams), "streams",
         "Streams open on the old version at the switch, fleet-wide at the peak hour (mean over the simulated swaps)"),
        ("hot_swap.swaps", swaps, "swaps", "Simulated swaps, each with its own seed"),
        ("hot_swap.drain_grace_s", grace_s, "s", "Drain grace the gateway gives the old version's streams"),
        ("hot_swap.pct_open_at_grace", round(100 * at_grace, 1), "%",
         "Share of the old version's streams still open when the drain grace expires (simulated)"),
        ("hot_swap.pct_open_at_grace_closed_form", round(100 * analytic_at_grace, 1), "%",
         "The same share from the closed form of the equilibrium residual life"),
        ("hot_swap.handovers_per_gpu", round(per_gpu * at_grace, 1), "streams",
         "Streams per fully loaded GPU still open at the grace had the gateway only waited (the naive plan)"),
        ("hot_swap.minutes_to_10pct", round(to_10 / 60, 1), "min",
         "Minutes after the switch until 10% of the old version's streams remain open"),
        ("hot_swap.minutes_to_1pct", round(to_1 / 60, 1), "min",
         "Minutes after the switch until 1% of the old version's streams remain open"),
        ("hot_swap.minutes_to_1pct_exponential", round(to_1_exp / 60, 1), "min",
         "The same for exponential session lengths of the same mean: the lognormal tail's extra wait"),
        ("hot_swap.last_stream_median_min", round(last_median / 60), "min",
         "Minutes until the last old-version stream of the fleet ends on its own (median over swaps)"),
        ("hot_swap.last_stream_p95_min", round(last_p95 / 60), "min",
         "The same, 95th percentile over swaps"),
    )
    return LabResult(found, (_chart(grid_s, share, exponential, grace_s, at_grace, to_1, last_median, mean_s,
                                    sigma, swaps, streams),))


def _chart(grid_s: np.ndarray, share: np.ndarray, exponential: np.ndarray, grace_s: float, at_grace: float,
           to_1_s: float, last_median_s: float, mean_s: float, sigma: float, swaps: int,
           streams: float) -> charts.Chart:
    minutes = grid_s / 60
    fig, ax = charts.figure(7.2, 3.8)
    shown = share > 0
    ax.plot(minutes[shown], 100 * share[shown], label=f"Lognormal sessions (mean {mean_s:.0f} s, sigma {sigma:g})",
            **{**charts.SERIES[2], "marker": None})
    shown_exp = exponential > 1e-4
    ax.plot(minutes[shown_exp], 100 * exponential[shown_exp], label="Exponential sessions, same mean",
            **{**charts.SERIES[1], "marker": None})
    ax.set_yscale("log")
    ax.set_ylim(0.05, 100)
    ax.set_yticks([0.1, 1, 10, 100], ["0.1%", "1%", "10%", "100%"])
    ax.set_xlim(0, minutes[-1])
    ax.axvline(grace_s / 60, color=charts.ACCENT, linewidth=1.2)
    ax.annotate(f"drain grace {grace_s:.0f} s: {100 * at_grace:.0f}% still open", (grace_s / 60, 100 * at_grace),
                xytext=(30, -22), textcoords="offset points", color=charts.ACCENT, fontsize=8,
                arrowprops={"arrowstyle": "-", "color": charts.ACCENT, "linewidth": 0.8})
    ax.axhline(1.0, color=charts.INK, linewidth=0.8, linestyle=":")
    ax.annotate(f"1% left after {to_1_s / 60:.0f} min", (to_1_s / 60, 1.0), xytext=(6, 6),
                textcoords="offset points", fontsize=8)
    ax.set_xlabel("Minutes since new streams went to the new version")
    ax.set_ylabel("Old-version streams still open (log scale)")
    ax.legend(loc="upper right", fontsize=8)
    title = "Waiting for streams to end does not drain a speech fleet"
    alt = (f"Simulated share of the old model version's streams still open after a hot swap at the peak hour, "
           f"{streams:.0f} streams fleet-wide, averaged over {swaps} seeded swaps, on a log scale. With lognormal "
           f"session lengths (mean {mean_s:.0f} s, sigma {sigma:g}) {100 * at_grace:.0f}% of the streams are still "
           f"open when a {grace_s:.0f} s drain grace expires, 1% remain after {to_1_s / 60:.0f} minutes, and the "
           f"last stream ends after about {last_median_s / 60:.0f} minutes (median). Exponential sessions of the "
           f"same mean would fall to 1% after {mean_s * math.log(100) / 60:.0f} minutes.")
    rows = [[f"{m:g}", f"{100 * s:.4f}", f"{100 * e:.4f}"] for m, s, e in zip(minutes, share, exponential)]
    csv = charts.to_csv(["minutes_since_switch", "lognormal_pct_open", "exponential_pct_open"], rows)
    return charts.Chart("hot-swap-drain-tail", title, alt, charts.to_svg(fig, "hot-swap-drain-tail", title, alt), csv)
