"""Lab: a morning traffic ramp against an autoscaled GPU fleet with realistic cold starts, to size a warm pool; and
the fleet's daily cost per audio hour per region, on demand, committed and on Spot.

The ramp (a seeded discrete-event simulation, repeated over `mornings` independent seeds):
  - Sessions arrive as a Poisson process whose rate follows traffic.daily_profile x
    traffic.peak_session_arrivals_per_s, interpolated linearly between the middles of the hours, from `start_hour`
    to `end_hour`. At each hour in scaling.surge_hours (shift starts), the rate is raised by
    scaling.surge_extra_fraction for scaling.surge_minutes. Sessions last a lognormal time (sessions.mean_s,
    sessions.lognormal_sigma). The fleet starts in steady state: the sessions open at the start are drawn from
    arrivals over the hour before.
  - Each ready GPU carries capacity.streams_per_gpu streams. A least-connections balancer spreads streams, so the
    fleet admits a new session while the open streams are fewer than ready GPUs x streams per GPU; otherwise the
    session is refused at the door (Chapter 6's admission control: close 1013, try again later) and counted.
  - The autoscaler runs every scaling.sync_period_s (the HPA's loop). It reads the concurrent-streams signal as it
    was `lag` seconds earlier (scrape, rule evaluation and adapter delay) and wants
    ceil(signal / (streams_per_gpu x scaling.target_slot_utilisation)) GPUs. It scales up at once and scales down
    to the largest wish of the last scaling.scale_down_window_s (the HPA's default stabilisation). A GPU removed
    by scale-down stops taking new streams at once and is billed for protocols.drain_grace_s more (Chapter 5's
    drain: after the grace its streams are handed over).
  - A new GPU comes from the warm pool if the pool has one, otherwise cold. A cold start takes a node-provisioning
    time (lognormal, median scaling.node_provision_median_s) plus a model-ready time (image pull, weight load,
    warm-up; lognormal, median scaling.model_ready_median_s), both with sigma scaling.cold_start_sigma. A
    running warm GPU is ready after scaling.warm_activation_s; a stopped one (an instance kept stopped, disk
    prepared, model cached) after scaling.stopped_activation_s. Every GPU taken from the pool is replaced by a cold
    start into the pool.
  - Billing: a GPU is billed from the moment it is requested until it stops taking streams and its last stream
    ends; running warm GPUs are billed all the time, stopped ones not at all (their disks are left out).
Results per pool kind and size: the share of sessions refused over the ramp (mean over mornings), the worst
minute, and GPU-hours. The smallest pool whose refused share is within scaling.refusal_target_pct is the answer.
The sweep runs at `sweep_target` (a high slot target, where pools matter most) for both pool kinds and both signal
ages, and once more for stopped pools at the reference target (scaling.target_slot_utilisation): the smallest
stopped pool within target there is the default the chapter recommends, and its no-pool point is the control.

The daily cost model (deterministic arithmetic on the reference system, AWS g6.xlarge list prices of November 2026):
hour by hour, the mean concurrent streams (Little's law on the hour's arrival rate) need
ceil(streams / (streams_per_gpu x target utilisation)) GPUs. The default's stopped pool bills only disks, which are
left out (daily_cost can add a running pool in the hours the profile rises into and the surge hours). The committed
layer is the day's minimum; the rest is on demand or on Spot. The Spot layer is spread over
scaling.spot_capacity_pools pools, and on-demand fallback GPUs as many as the largest pool's share
(ceil(spot GPUs / pools)) run idle in every hour Spot runs, so one pool's loss has somewhere to go. Spot GPUs are
interrupted at scaling.spot_interruptions_per_gpu_day; each interruption bills a replacement's cold start twice
over. Network: egress of results to the internet, plus the Global Accelerator premium on the dominant direction,
which for speech is the audio coming in (audio.bytes_per_second of binary frames), plus its fixed hourly fee.
Prices per region are the US price times the region's factor; Spot factors are per region. The hourly model is
not the simulated fleet: it knows nothing of surges and cold starts, so the lab also reports both over the
simulated window.
"""
from __future__ import annotations

import heapq
import math

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Warm pool: refused sessions during a morning ramp against pool size, and cost per audio hour by region"
DEPENDS: tuple[str, ...] = ()
PARAMS = {"seed": 20261130, "mornings": 6, "start_hour": 6, "end_hour": 11,
          "pool_sizes": [0, 2, 4, 6, 8, 10, 12, 16], "lags_s": [30, 120], "headroom_target": 0.75, "sweep_target": 0.9}
QUICK_PARAMS = {"seed": 20261130, "mornings": 2, "start_hour": 7, "end_hour": 10, "pool_sizes": [0, 4, 8],
                "lags_s": [30, 120], "headroom_target": 0.75, "sweep_target": 0.9}

KINDS = ("running", "stopped")
REGIONS = (("us", "US East"), ("eu", "EU (Frankfurt)"), ("ap", "Asia Pacific (Tokyo)"))


def lognormal_mu(median_or_mean: float, sigma: float, *, mean: bool) -> float:
    return math.log(median_or_mean) - (sigma * sigma / 2 if mean else 0.0)


def arrival_rate(t_s: float, profile: tuple, peak: float, surge_hours: tuple, surge_extra: float,
                 surge_s: float) -> float:
    """Sessions per second at time t (seconds since midnight): the hourly profile joined linearly between the
    middles of the hours, raised by surge_extra for surge_s after each surge hour begins."""
    hour = t_s / 3600 - 0.5
    low = math.floor(hour)
    weight = hour - low
    fraction = (1 - weight) * profile[low % 24] + weight * profile[(low + 1) % 24]
    rate = fraction * peak
    for surge in surge_hours:
        if surge * 3600 <= t_s < surge * 3600 + surge_s:
            rate *= 1 + surge_extra
    return rate


def poisson_times(rng: np.random.Generator, start_s: float, end_s: float, rate_at, rate_max: float) -> np.ndarray:
    """Arrival times of a non-homogeneous Poisson process by thinning."""
    count = rng.poisson(rate_max * (end_s - start_s))
    times = np.sort(rng.uniform(start_s, end_s, size=count))
    keep = rng.uniform(0.0, rate_max, size=count) < np.array([rate_at(t) for t in times])
    return times[keep]


class Morning:
    """One simulated morning for one pool kind, pool size and signal lag."""

    def __init__(self, system: ReferenceSystem, kind: str, pool: int, lag_s: float, target: float | None = None):
        n = system.number
        self.per_gpu = int(n("capacity.streams_per_gpu"))
        self.target = n("scaling.target_slot_utilisation") if target is None else target
        self.sync = n("scaling.sync_period_s")
        self.window = n("scaling.scale_down_window_s")
        self.sigma = n("scaling.cold_start_sigma")
        self.provision = n("scaling.node_provision_median_s")
        self.model_ready = n("scaling.model_ready_median_s")
        self.activation = n("scaling.warm_activation_s" if kind == "running" else "scaling.stopped_activation_s")
        self.drain_grace = n("protocols.drain_grace_s")
        self.kind, self.pool_size, self.lag = kind, pool, lag_s

    def cold_start_s(self, rng: np.random.Generator) -> float:
        return float(rng.lognormal(math.log(self.provision), self.sigma)
                     + rng.lognormal(math.log(self.model_ready), self.sigma))

    def wanted(self, streams: float) -> int:
        return max(1, math.ceil(streams / (self.per_gpu * self.target)))

    def run(self, arrivals: np.ndarray, lengths: np.ndarray, initial_ends: np.ndarray, start_s: float,
            end_s: float, rng: np.random.Generator) -> dict:
        ends: list[float] = list(initial_ends)
        heapq.heapify(ends)
        ready = self.wanted(len(ends))          # GPUs taking streams
        pending_requests: list[tuple[float, float]] = []  # (ready time, request time)
        pool_ready = self.pool_size             # warm GPUs ready in the pool
        pool_refill: list[float] = []           # ready times of cold starts refilling the pool
        history: list[tuple[float, int]] = []   # (time, streams) at each tick, for the lagged signal
        wishes: list[tuple[float, int]] = []
        gpu_seconds = 0.0
        drain_gpu_seconds = 0.0
        refused = 0
        refused_by_minute = np.zeros(int((end_s - start_s) // 60) + 1)
        arrivals_by_minute = np.zeros_like(refused_by_minute)
        timeline: list[tuple[float, int, int, int]] = []
        last_t = start_s
        next_tick = start_s
        index = 0
        total = len(arrivals)

        def account(until: float) -> None:
            nonlocal gpu_seconds, last_t
            width = until - last_t
            if width > 0:
                billed_pool = pool_ready + len(pool_refill) if self.kind == "running" else len(pool_refill)
                gpu_seconds += width * (ready + len(pending_requests) + billed_pool)
                last_t = until

        while True:
            t_arrival = arrivals[index] if index < total else math.inf
            t_ready = pending_requests[0][0] if pending_requests else math.inf
            t_refill = pool_refill[0] if pool_refill else math.inf
            t = min(t_arrival, next_tick, t_ready, t_refill)
            if t >= end_s:
                account(end_s)
                break
            account(t)
            if t == t_ready:
                heapq.heappop(pending_requests)
                ready += 1
            elif t == t_refill:
                heapq.heappop(pool_refill)
                pool_ready += 1
            elif t == next_tick:
                while ends and ends[0] <= t:
                    heapq.heappop(ends)
                streams = len(ends)
                history.append((t, streams))
                seen = streams
                for when, value in reversed(history):
                    if when <= t - self.lag:
                        seen = value
                        break
                else:
                    seen = history[0][1]
                wish = self.wanted(seen)
                wishes.append((t, wish))
                wishes = [(w_t, w) for w_t, w in wishes if w_t > t - self.window]
                planned = ready + len(pending_requests)
                if wish > planned:
                    for _ in range(wish - planned):
                        if pool_ready > 0:
                            pool_ready -= 1
                            heapq.heappush(pending_requests, (t + self.activation, t))
                            heapq.heappush(pool_refill, t + self.cold_start_s(rng))
                        else:
                            heapq.heappush(pending_requests, (t + self.cold_start_s(rng), t))
                else:
                    keep = max(w for _, w in wishes)
                    if ready > keep and not pending_requests:
                        # a removed GPU takes no new streams; its streams get the drain grace, then a handover
                        drain_gpu_seconds += (ready - keep) * self.drain_grace
                        ready = keep
                timeline.append((t, streams, ready, pool_ready))
                next_tick = t + self.sync
            else:
                while ends and ends[0] <= t:
                    heapq.heappop(ends)
                minute = int((t - start_s) // 60)
                arrivals_by_minute[minute] += 1
                if len(ends) < ready * self.per_gpu:
                    heapq.heappush(ends, t + lengths[index])
                else:
                    refused += 1
                    refused_by_minute[minute] += 1
                index += 1
        worst = float(np.max(refused_by_minute / np.maximum(arrivals_by_minute, 1)))
        return {"sessions": total, "refused": refused, "worst_minute_pct": 100 * worst,
                "gpu_hours": (gpu_seconds + drain_gpu_seconds) / 3600, "timeline": timeline}


def simulate_mornings(system: ReferenceSystem, *, seed: int, mornings: int, start_hour: float, end_hour: float,
                      kind: str, pool: int, lag_s: float, target: float | None = None) -> dict:
    n = system.number
    profile = system.numbers("traffic.daily_profile")
    peak = n("traffic.peak_session_arrivals_per_s")
    surge_hours = tuple(int(h) for h in system.numbers("scaling.surge_hours"))
    surge_extra = n("scaling.surge_extra_fraction")
    surge_s = n("scaling.surge_minutes") * 60
    mu = lognormal_mu(n("sessions.mean_s"), n("sessions.lognormal_sigma"), mean=True)
    sigma = n("sessions.lognormal_sigma")
    start_s, end_s = start_hour * 3600, end_hour * 3600
    rate_max = peak * max(profile) * (1 + surge_extra)

    def rate_at(t: float) -> float:
        return arrival_rate(t, profile, peak, surge_hours, surge_extra, surge_s)

    results = []
    for morning in range(mornings):
        rng = np.random.default_rng([seed, morning])
        # sessions open at the start: arrivals over the three hours before, still open at start_s
        before = poisson_times(rng, start_s - 3 * 3600, start_s, rate_at, rate_max)
        before_ends = before + rng.lognormal(mu, sigma, size=before.size)
        arrivals = poisson_times(rng, start_s, end_s, rate_at, rate_max)
        lengths = rng.lognormal(mu, sigma, size=arrivals.size)
        scaler_rng = np.random.default_rng([seed, morning, 1])  # the same cold starts whatever the pool
        results.append(Morning(system, kind, pool, lag_s, target).run(arrivals, lengths, before_ends[before_ends > start_s],
                                                              start_s, end_s, scaler_rng))
    sessions = sum(r["sessions"] for r in results)
    return {
        "refused_pct": 100 * sum(r["refused"] for r in results) / sessions,
        "worst_minute_pct": float(np.mean([r["worst_minute_pct"] for r in results])),
        "gpu_hours": float(np.mean([r["gpu_hours"] for r in results])),
        "sessions": sessions / mornings,
        "timeline": results[0]["timeline"],
    }


def residual_open_share(t_s: float, mean_s: float, sigma: float) -> float:
    """Share of the streams open at a moment that are still open t seconds later, for lognormal session lengths
    (the equilibrium residual life, E[(L - t)+] / E[L])."""
    if t_s <= 0:
        return 1.0
    mu = lognormal_mu(mean_s, sigma, mean=True)

    def phi(z: float) -> float:
        return 0.5 * (1 + math.erf(z / math.sqrt(2)))

    tail = mean_s * phi((mu + sigma * sigma - math.log(t_s)) / sigma) - t_s * phi((mu - math.log(t_s)) / sigma)
    return max(tail / mean_s, 0.0)


def node_drain_s(quantile: float, streams: int, mean_s: float, sigma: float) -> float:
    """Time by which all `streams` independent streams of a full GPU have ended on their own with probability
    `quantile`: the t at which (1 - R(t)) ** streams = quantile, by bisection."""
    low, high = 1.0, 1e6
    for _ in range(200):
        mid = (low + high) / 2
        if (1 - residual_open_share(mid, mean_s, sigma)) ** streams < quantile:
            low = mid
        else:
            high = mid
    return high


def daily_cost(system: ReferenceSystem, pool: int = 0) -> dict:
    """Hour-by-hour fleet for one region and its cost per audio hour under three purchase mixes."""
    n = system.number
    profile = system.numbers("traffic.daily_profile")
    peak = n("traffic.peak_session_arrivals_per_s")
    mean_s = n("sessions.mean_s")
    per_gpu = n("capacity.streams_per_gpu")
    target = n("scaling.target_slot_utilisation")
    # the running pool is scheduled: kept in the hours the profile rises into and the surge hours, released after
    rising = {h for h in range(24) if profile[(h + 1) % 24] > profile[h]}
    rising |= {int(h) for h in system.numbers("scaling.surge_hours")}
    fleet = [math.ceil(f * peak * mean_s / (per_gpu * target)) + (pool if h in rising else 0)
             for h, f in enumerate(profile)]
    audio_hours = sum(f * peak * mean_s for f in profile)  # stream-hours per day: streams x 1 h each hour
    base = min(fleet)
    gpu_hours = sum(fleet)
    upper = gpu_hours - base * 24
    cold_h = (n("scaling.node_provision_median_s") + n("scaling.model_ready_median_s")) / 3600
    interruptions = n("scaling.spot_interruptions_per_gpu_day") * upper / 24
    egress_gb = n("scaling.result_bytes_per_s") * audio_hours * 3600 / 1e9
    audio_gb_per_audio_hour = n("audio.bytes_per_second") * 3600 / 1e9   # binary frames (decisions #9)
    audio_in_gb = audio_gb_per_audio_hour * audio_hours
    pools = int(n("scaling.spot_capacity_pools"))
    fallback = [math.ceil((f - base) / pools) for f in fleet]   # idle on-demand GPUs for the largest Spot pool
    fallback_hours = sum(fallback)
    out = {"fleet": fleet, "pool_hours": len(rising), "audio_hours": audio_hours, "gpu_hours": gpu_hours, "base": base,
           "upper": upper, "fallback": fallback, "fallback_hours": fallback_hours, "interruptions": interruptions,
           "egress_gb": egress_gb, "audio_in_gb": audio_in_gb, "regions": {}}
    us_price = n("regional_costs.us_on_demand_usd_per_hour")
    for region, _ in REGIONS:
        price = us_price * (1.0 if region == "us" else n(f"regional_costs.{region}_price_factor"))
        committed = price * n("regional_costs.committed_price_factor")
        spot = price * n(f"regional_costs.{region}_spot_factor")
        egress = egress_gb * n("regional_costs.internet_egress_usd_per_gb")
        # Global Accelerator: premium on the dominant direction (audio in beats results out) plus the fixed fee
        accelerator = (max(audio_in_gb, egress_gb) * n(f"regional_costs.{region}_accelerator_usd_per_gb")
                       + 24 * n("regional_costs.accelerator_usd_per_hour"))
        network = egress + accelerator
        on_demand = gpu_hours * price + network
        mixed = base * 24 * committed + upper * price + network
        spot_gpu = base * 24 * committed + upper * spot + interruptions * cold_h * (price + spot)
        spot_mix = spot_gpu + fallback_hours * price + network
        out["regions"][region] = {
            "price": price,
            "spot_factor": n(f"regional_costs.{region}_spot_factor"),
            "gpu_on_demand": gpu_hours * price / audio_hours,
            "on_demand": on_demand / audio_hours,
            "committed": mixed / audio_hours,
            "spot": spot_mix / audio_hours,
            "spot_no_fallback": (spot_gpu + network) / audio_hours,
            "egress": egress / audio_hours,
            "accelerator": accelerator / audio_hours,
            "network": network / audio_hours,
            "backhaul": audio_gb_per_audio_hour * n("regional_costs.inter_region_usd_per_gb"),
        }
    return out


def run(system: ReferenceSystem, deps: dict, *, seed: int, mornings: int, start_hour: float, end_hour: float,
        pool_sizes: list[int], lags_s: list[float], headroom_target: float, sweep_target: float) -> LabResult:
    target_pct = system.number("scaling.refusal_target_pct")
    fast, slow = min(lags_s), max(lags_s)
    grid: dict[tuple[str, float, int], dict] = {}
    for kind in KINDS:
        for pool in pool_sizes:
            grid[(kind, fast, pool)] = simulate_mornings(system, seed=seed, mornings=mornings, start_hour=start_hour,
                                                         end_hour=end_hour, kind=kind, pool=pool, lag_s=fast,
                                                         target=sweep_target)
    for pool in pool_sizes:
        grid[("running", slow, pool)] = simulate_mornings(system, seed=seed, mornings=mornings, start_hour=start_hour,
                                                          end_hour=end_hour, kind="running", pool=pool, lag_s=slow,
                                                          target=sweep_target)

    headroom = simulate_mornings(system, seed=seed, mornings=mornings, start_hour=start_hour, end_hour=end_hour,
                                 kind="running", pool=0, lag_s=fast, target=headroom_target)

    # stopped pools at the reference slot target: the default's sweep, with its no-pool point as the control
    reference = {pool: simulate_mornings(system, seed=seed, mornings=mornings, start_hour=start_hour, end_hour=end_hour,
                                         kind="stopped", pool=pool, lag_s=fast)
                 for pool in pool_sizes}
    within_reference = [p for p in pool_sizes if reference[p]["refused_pct"] <= target_pct]
    chosen_stopped_default = min(within_reference) if within_reference else -1
    default_pool = int(system.number("scaling.stopped_pool_gpus"))
    default = reference[default_pool] if default_pool in reference else simulate_mornings(
        system, seed=seed, mornings=mornings, start_hour=start_hour, end_hour=end_hour, kind="stopped",
        pool=default_pool, lag_s=fast)
    control = reference[none_key(pool_sizes)]

    def smallest(kind: str, lag: float) -> int:
        within = [p for p in pool_sizes if grid[(kind, lag, p)]["refused_pct"] <= target_pct]
        return min(within) if within else -1

    chosen = smallest("running", fast)
    chosen_stopped = smallest("stopped", fast)
    chosen_slow = smallest("running", slow)
    shown = chosen if chosen >= 0 else max(pool_sizes)
    none = grid[("running", fast, 0)] if 0 in pool_sizes else grid[("running", fast, min(pool_sizes))]
    with_pool = grid[("running", fast, shown)]
    stopped_pool = grid[("stopped", fast, chosen_stopped if chosen_stopped >= 0 else max(pool_sizes))]
    cost = daily_cost(system, 0)  # the default's stopped pool bills disks only, left out
    n = system.number
    profile = system.numbers("traffic.daily_profile")
    sessions_per_day = sum(profile) * 3600 * n("traffic.peak_session_arrivals_per_s")
    model_window = sum(cost["fleet"][int(start_hour):int(end_hour)])
    cold_median_s = n("scaling.node_provision_median_s") + n("scaling.model_ready_median_s")

    found = [
        ("warm_pool.mornings", mornings, "mornings", "Simulated mornings per configuration, each with its own seed"),
        ("warm_pool.window", f"{int(start_hour):02d}:00 to {int(end_hour):02d}:00", "text",
         "Part of the day simulated (region time)"),
        ("warm_pool.sessions_per_morning", round(none["sessions"]), "sessions",
         "Sessions arriving in the simulated window (mean over mornings)"),
        ("warm_pool.sessions_per_day", round(sessions_per_day), "sessions",
         "Sessions arriving over the whole day (the daily profile at the reference arrival rate)"),
        ("warm_pool.morning_share_pct", round(100 * none["sessions"] / sessions_per_day, 1), "%",
         "The simulated window's share of the day's sessions, and so of the day's error budget"),
        ("warm_pool.fast_lag_s", fast, "s", "Age of the concurrent-streams signal the fast autoscaler reads"),
        ("warm_pool.slow_lag_s", slow, "s", "Age of the signal a slow autoscaler reads (a smoothed or derived metric)"),
        ("warm_pool.stopped_activation_s", n("scaling.stopped_activation_s"), "s",
         "Time a stopped warm instance needs to take streams"),
        ("warm_pool.cold_start_median_s", cold_median_s, "s",
         "Sum of the median node-provisioning and model-ready times of a cold GPU"),
        ("warm_pool.refused_pct_no_pool", round(none["refused_pct"], 3), "%",
         "Sessions refused over the window with no warm pool, fast signal"),
        ("warm_pool.refused_pct_no_pool_slow", round(grid[("running", slow, none_key(pool_sizes))]["refused_pct"], 3),
         "%", "Sessions refused over the window with no warm pool, slow signal"),
        ("warm_pool.worst_minute_pct_no_pool", round(none["worst_minute_pct"], 1), "%",
         "Refused share in the worst minute of the window with no warm pool (mean over mornings)"),
        ("warm_pool.chosen_running", chosen, "GPUs",
         "Smallest running warm pool whose refused share is within the target, fast signal (-1: none in the sweep)"),
        ("warm_pool.chosen_stopped", chosen_stopped, "GPUs",
         "Smallest stopped warm pool within the target, fast signal (-1: none in the sweep)"),
        ("warm_pool.chosen_running_slow", chosen_slow, "GPUs",
         "Smallest running warm pool within the target with the slow signal (-1: none in the sweep)"),
        ("warm_pool.refused_pct_chosen", round(with_pool["refused_pct"], 3), "%",
         "Sessions refused with the chosen running warm pool, fast signal"),
        ("warm_pool.refused_pct_chosen_stopped", round(stopped_pool["refused_pct"], 3), "%",
         "Sessions refused with the chosen stopped warm pool, fast signal"),
        ("warm_pool.refused_pct_floor_stopped", round(grid[("stopped", fast, max(pool_sizes))]["refused_pct"], 3), "%",
         "Sessions refused with the largest stopped pool in the sweep: the floor its activation time sets"),
        ("warm_pool.refused_pct_floor_slow", round(grid[("running", slow, max(pool_sizes))]["refused_pct"], 3), "%",
         "Sessions refused with the largest running pool and the slow signal: the floor the signal's age sets"),
        ("warm_pool.refused_pct_floor_running", round(grid[("running", fast, max(pool_sizes))]["refused_pct"], 3),
         "%", "Sessions refused with the largest running pool and the fast signal"),
        ("warm_pool.max_pool", max(pool_sizes), "GPUs", "Largest pool in the sweep"),
        ("warm_pool.headroom_target_pct", round(100 * headroom_target), "%",
         "Slot target of the headroom alternative: no pool, a lower target per GPU"),
        ("warm_pool.refused_pct_headroom", round(headroom["refused_pct"], 3), "%",
         "Sessions refused with no pool and the lower slot target, fast signal"),
        ("warm_pool.gpu_hours_headroom", round(headroom["gpu_hours"], 1), "GPU-h",
         "GPU-hours billed over the window with no pool and the lower slot target"),
        ("warm_pool.sweep_target_pct", round(100 * sweep_target), "%", "Slot target of the autoscaler in the pool sweep"),
        ("warm_pool.default_target_pct", round(100 * system.number("scaling.target_slot_utilisation")), "%",
         "Slot target of the default strategy (the reference system's)"),
        ("warm_pool.default_pool", default_pool, "GPUs",
         "Stopped warm instances of the default strategy (the reference system's scaling.stopped_pool_gpus)"),
        ("warm_pool.chosen_stopped_default", chosen_stopped_default, "GPUs",
         "Smallest stopped pool within the refusal target at the reference slot target, fast signal (-1: none)"),
        ("warm_pool.refused_pct_control", round(control["refused_pct"], 3), "%",
         "Sessions refused with no pool at the reference slot target, fast signal: the default's control"),
        ("warm_pool.gpu_hours_control", round(control["gpu_hours"], 1), "GPU-h",
         "GPU-hours billed over the window with no pool at the reference slot target"),
        ("warm_pool.refused_pct_default", round(default["refused_pct"], 3), "%",
         "Sessions refused with the default: a stopped pool and the reference slot target, fast signal"),
        ("warm_pool.gpu_hours_default", round(default["gpu_hours"], 1), "GPU-h",
         "GPU-hours billed over the window with the default strategy"),
        ("warm_pool.refusal_target_pct", target_pct, "%", "Target share of refused sessions"),
        ("warm_pool.gpu_hours_no_pool", round(none["gpu_hours"], 1), "GPU-h",
         "GPU-hours billed over the window with no warm pool (mean over mornings)"),
        ("warm_pool.gpu_hours_chosen", round(with_pool["gpu_hours"], 1), "GPU-h",
         "GPU-hours billed over the window with the chosen running warm pool"),
        ("warm_pool.gpu_hours_chosen_stopped", round(stopped_pool["gpu_hours"], 1), "GPU-h",
         "GPU-hours billed over the window with the chosen stopped warm pool"),
        ("warm_pool.extra_pct_chosen", round(100 * (with_pool["gpu_hours"] / none["gpu_hours"] - 1), 1), "%",
         "Extra GPU-hours the chosen running pool costs over the window"),
        # the daily cost model
        ("warm_pool.peak_fleet", max(cost["fleet"]), "GPUs", "GPUs at the peak hour at the reference slot target"),
        ("warm_pool.trough_fleet", cost["base"], "GPUs", "GPUs at the quietest hour: the committed layer"),
        ("warm_pool.gpu_hours_per_day", cost["gpu_hours"], "GPU-h", "GPU-hours a day at the reference slot target"),
        ("warm_pool.audio_hours_per_day", round(cost["audio_hours"]), "h", "Hours of audio served a day"),
        ("warm_pool.mean_slot_utilisation_pct",
         round(100 * cost["audio_hours"] / (cost["gpu_hours"] * n("capacity.streams_per_gpu")), 1), "%",
         "Audio hours over stream-slot hours paid for, over the day"),
        ("warm_pool.spot_interruptions_per_day", round(cost["interruptions"], 1), "interruptions",
         "Spot interruptions a day on the GPUs above the committed layer"),
        ("warm_pool.egress_gb_per_day", round(cost["egress_gb"], 1), "GB", "Result bytes sent to clients a day"),
        ("warm_pool.audio_in_gb_per_day", round(cost["audio_in_gb"], 1), "GB",
         "Audio bytes (binary frames) received a day: the dominant direction for the accelerator premium"),
        ("warm_pool.spot_gpu_hours_per_day", cost["upper"], "GPU-h", "GPU-hours a day above the committed layer, on Spot"),
        ("warm_pool.fallback_gpu_hours_per_day", cost["fallback_hours"], "GPU-h",
         "Idle on-demand fallback GPU-hours a day: the largest Spot pool's share in every hour Spot runs"),
        ("warm_pool.fallback_peak_gpus", max(cost["fallback"]), "GPUs", "Fallback GPUs at the peak hour"),
        ("warm_pool.spot_pools", int(n("scaling.spot_capacity_pools")), "pools", "Spot capacity pools in the cost model"),
        ("warm_pool.model_gpu_hours_window", model_window, "GPU-h",
         "GPU-hours the hourly cost model gives for the simulated window (no surges, no cold starts)"),
        # the composite failure story: Tokyo at 09:00 loses a third of its GPUs while US East is at 19:00
        ("warm_pool.story_cut_streams", round(profile[9] * n("traffic.peak_concurrent_streams") / 3), "streams",
         "Streams on a third of the fleet at 09:00 (region time), cut without a drain in the failure story"),
        ("warm_pool.story_neighbour_gpus", cost["fleet"][19], "GPUs",
         "GPUs of the neighbour region at 19:00, its hour when the other region is at 09:00 (Tokyo and US East)"),
        ("warm_pool.story_neighbour_free_slots",
         round(cost["fleet"][19] * n("capacity.streams_per_gpu") - profile[19] * n("traffic.peak_concurrent_streams")),
         "streams", "Free stream slots of the neighbour region at 19:00"),
        ("warm_pool.model_optimism_pct", round(100 * (1 - model_window / default["gpu_hours"]), 1), "%",
         "How far the hourly model's GPU-hours fall below the simulated default fleet over the window"),
    ]
    for region, label in REGIONS:
        r = cost["regions"][region]
        found += [
            (f"warm_pool.{region}.price_usd_per_hour", round(r["price"], 3), "USD/h", f"{label}: on-demand L4 price"),
            (f"warm_pool.{region}.on_demand_usd_per_audio_hour", round(r["on_demand"], 4), "USD/h",
             f"{label}: cost per audio hour, all on demand"),
            (f"warm_pool.{region}.committed_usd_per_audio_hour", round(r["committed"], 4), "USD/h",
             f"{label}: cost per audio hour, committed trough plus on demand"),
            (f"warm_pool.{region}.spot_usd_per_audio_hour", round(r["spot"], 4), "USD/h",
             f"{label}: cost per audio hour, committed trough plus Spot, interruptions included"),
            (f"warm_pool.{region}.egress_usd_per_audio_hour", round(r["egress"], 5), "USD/h",
             f"{label}: internet egress of results per audio hour"),
            (f"warm_pool.{region}.accelerator_usd_per_audio_hour", round(r["accelerator"], 5), "USD/h",
             f"{label}: Global Accelerator premium on the audio plus its fixed fee, per audio hour"),
            (f"warm_pool.{region}.spot_factor", r["spot_factor"], "1", f"{label}: Spot price over on demand"),
        ]
    us = cost["regions"]["us"]
    found.append(("warm_pool.backhaul_usd_per_audio_hour", round(us["backhaul"], 4), "USD/h",
                  "Inter-region transfer of one audio hour carried to another region as binary frames"))
    found.append(("warm_pool.backhaul_share_pct", round(100 * us["backhaul"] / us["on_demand"], 1), "%",
                  "That transfer as a share of the all-on-demand cost per audio hour in US East"))
    mean_s, sigma = n("sessions.mean_s"), n("sessions.lognormal_sigma")
    per_gpu = int(n("capacity.streams_per_gpu"))
    for label, notice in (("aws", 120), ("gcp", 30)):
        found.append((f"warm_pool.open_after_{label}_notice_pct", round(100 * residual_open_share(notice, mean_s, sigma)),
                      "%", f"Streams of a GPU still open when a {notice} s interruption notice runs out"))
    for q in (50, 95):
        found.append((f"warm_pool.node_drain_p{q}_min", round(node_drain_s(q / 100, per_gpu, mean_s, sigma) / 60),
                      "min", f"Minutes until a full GPU's streams have all ended on their own, {q}th percentile"))
    found.append(("warm_pool.egress_share_pct", round(100 * us["egress"] / us["on_demand"], 1), "%",
                  "Egress as a share of the all-on-demand cost per audio hour"))
    found.append(("warm_pool.accelerator_share_pct", round(100 * us["accelerator"] / us["on_demand"], 1), "%",
                  "The Global Accelerator charges as a share of the all-on-demand cost per audio hour (US East)"))
    found.append(("warm_pool.us.gpu_usd_per_audio_hour", round(us["gpu_on_demand"], 4), "USD/h",
                  "US East: GPU cost per audio hour, all on demand (Chapter 1's measure)"))
    found.append(("warm_pool.gpu_share_vs_part1_pct",
                  round(100 * us["gpu_on_demand"] / system.number("costs.usd_per_audio_hour")), "%",
                  "US East GPU cost per audio hour, all on demand, as a share of Part I's GPU cost per audio hour"))
    found.append(("warm_pool.spot_saving_pct", round(100 * (1 - us["spot"] / us["on_demand"]), 1), "%",
                  "Saving of committed trough plus Spot, with on-demand fallback for the largest pool, against all on demand"))
    found.append(("warm_pool.spot_saving_no_fallback_pct", round(100 * (1 - us["spot_no_fallback"] / us["on_demand"]), 1),
                  "%", "The same saving if no on-demand fallback were kept"))
    found.append(("warm_pool.committed_saving_pct", round(100 * (1 - us["committed"] / us["on_demand"]), 1), "%",
                  "Saving of committed trough plus on demand against all on demand"))

    table = dict((k, v) for k, v, *_ in found)
    sizing = _sizing_chart(grid, pool_sizes, fast, slow, target_pct, table)
    ramp = _ramp_chart(none["timeline"], with_pool["timeline"], shown, n("capacity.streams_per_gpu"), table)
    costs = _cost_chart(cost, table)
    return LabResult(values(*found), (sizing, ramp, costs))


def none_key(pool_sizes: list[int]) -> int:
    return 0 if 0 in pool_sizes else min(pool_sizes)


def _sizing_chart(grid: dict, pool_sizes: list[int], fast: float, slow: float, target_pct: float,
                  table: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.8)
    series = (("running", slow, f"Running pool, signal {slow:.0f} s old"),
              ("stopped", fast, f"Stopped pool, signal {fast:.0f} s old"),
              ("running", fast, f"Running pool, signal {fast:.0f} s old"))
    floor = 0.001
    rows = []
    for style, (kind, lag, label) in zip(charts.SERIES, series):
        ys = [max(grid[(kind, lag, p)]["refused_pct"], floor) for p in pool_sizes]
        ax.plot(pool_sizes, ys, label=label, **style)
    for p in pool_sizes:
        rows.append([p] + [f"{grid[(k, l, p)]['refused_pct']:.4f}" for k, l, _ in series]
                    + [f"{grid[(k, l, p)]['gpu_hours']:.2f}" for k, l, _ in series])
    ax.set_yscale("log")
    ax.set_ylim(floor * 0.8, 20)
    ax.set_yticks([0.001, 0.01, 0.1, 1, 10], ["0.001%", "0.01%", "0.1%", "1%", "10%"])
    ax.axhline(target_pct, color=charts.ACCENT, linewidth=1.2)
    ax.annotate(f"target {target_pct:g}% refused", (pool_sizes[-1], target_pct), xytext=(0, 5),
                textcoords="offset points", ha="right", color=charts.ACCENT, fontsize=8)
    ax.set_xticks(pool_sizes)
    ax.set_xlabel("Warm GPUs kept in the pool")
    ax.set_ylabel("Sessions refused, morning ramp (log scale)")
    ax.legend(loc="lower left", fontsize=8)
    title = "A small warm pool absorbs the morning ramp that cold starts cannot follow"
    g = table.get
    alt = (f"Simulated share of sessions refused between {g('warm_pool.window')} against the number of warm GPUs, "
           f"{g('warm_pool.mornings')} seeded mornings per point, on a log scale. With no pool and a "
           f"{fast:.0f} s signal, {g('warm_pool.refused_pct_no_pool'):.2f}% of sessions are refused, "
           f"{g('warm_pool.worst_minute_pct_no_pool'):.0f}% in the worst minute. A running pool of "
           f"{g('warm_pool.chosen_running')} GPUs brings it to {g('warm_pool.refused_pct_chosen'):.3f}%, within the "
           f"{target_pct:g}% target. Beyond that a larger pool buys nothing: a stopped pool levels off at "
           f"{g('warm_pool.refused_pct_floor_stopped'):.2f}% because each instance still needs about "
           f"{g('warm_pool.stopped_activation_s'):.0f} s to take streams, and with a signal {slow:.0f} s old even a "
           f"running pool levels off at {g('warm_pool.refused_pct_floor_slow'):.2f}%.")
    header = ["pool_gpus"] + [f"refused_pct_{k}_{l:.0f}s" for k, l, _ in series] + \
             [f"gpu_hours_{k}_{l:.0f}s" for k, l, _ in series]
    return charts.Chart("warm-pool-sizing", title, alt, charts.to_svg(fig, "warm-pool-sizing", title, alt),
                        charts.to_csv(header, rows))


def _ramp_chart(without: list, with_pool: list, pool: int, per_gpu: float, table: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.6)
    hours = [t / 3600 for t, *_ in without]
    ax.plot(hours, [s for _, s, _, _ in without], label="Open streams (no pool)",
            **{**charts.SERIES[0], "marker": None})
    ax.plot(hours, [r * per_gpu for _, _, r, _ in without], label="Stream slots, no pool",
            **{**charts.SERIES[1], "marker": None})
    hours_p = [t / 3600 for t, *_ in with_pool]
    ax.plot(hours_p, [r * per_gpu for _, _, r, _ in with_pool], label=f"Stream slots, {pool} warm GPUs",
            **{**charts.SERIES[2], "marker": None})
    ax.set_xlabel("Hour of the day (region time)")
    ax.set_ylabel("Streams")
    ax.legend(loc="upper left", fontsize=8)
    title = "One simulated morning: slots chase open streams"
    alt = (f"Open streams and stream slots (ready GPUs times streams per GPU) between {table['warm_pool.window']} "
           f"in one seeded morning. Without a pool, slots lag the streams after each shift-start surge because a cold "
           f"GPU takes about {table['warm_pool.cold_start_median_s']:.0f} s; with {pool} warm GPUs the slots step up "
           f"within seconds of the autoscaler's decision.")
    rows = [[f"{t / 3600:.4f}", s, r, w] for t, s, r, w in without]
    rows_p = {f"{t / 3600:.4f}": (r, w) for t, _, r, w in with_pool}
    csv_rows = [row + list(rows_p.get(row[0], ("", ""))) for row in rows]
    return charts.Chart("warm-pool-ramp", title, alt, charts.to_svg(fig, "warm-pool-ramp", title, alt),
                        charts.to_csv(["hour", "open_streams", "ready_gpus_no_pool", "pool_no_pool",
                                       "ready_gpus_with_pool", "pool_ready_with_pool"], csv_rows))


def _cost_chart(cost: dict, table: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.4)
    mixes = (("on_demand", "All on demand"), ("committed", "Committed trough + on demand"),
             ("spot", "Committed trough + Spot + fallback"))
    width = 0.26
    rows = []
    for i, (region, label) in enumerate(REGIONS):
        r = cost["regions"][region]
        for j, (key, mix_label) in enumerate(mixes):
            ax.bar(i + (j - 1) * width, r[key] * 1000, width, color=charts.FILLS[j * 2],
                   hatch=charts.HATCHES[j * 2 + 1], edgecolor="white", label=mix_label if i == 0 else None)
            ax.annotate(f"{r[key] * 100:.2f}", (i + (j - 1) * width, r[key] * 1000), xytext=(0, 2),
                        textcoords="offset points", ha="center", fontsize=7)
        rows.append([label, f"{r['price']:.4f}", f"{r['on_demand']:.5f}", f"{r['committed']:.5f}",
                     f"{r['spot']:.5f}", f"{r['egress']:.6f}"])
    ax.set_xticks(range(len(REGIONS)), [label for _, label in REGIONS])
    ax.set_ylabel("US dollars per 1,000 audio hours")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_ylim(0, max(cost["regions"][r]["on_demand"] for r, _ in REGIONS) * 1000 * 1.25)
    title = "GPU and network cost per audio hour by region and purchase mix (labels in US cents)"
    g = table.get
    alt = (f"Bars of GPU and network cost per audio hour for three regions under three purchase mixes, computed from "
           f"the reference traffic over a day and AWS g6.xlarge list prices of November 2026. US East: "
           f"{100 * g('warm_pool.us.on_demand_usd_per_audio_hour'):.2f} cents all on demand, "
           f"{100 * g('warm_pool.us.committed_usd_per_audio_hour'):.2f} with the trough committed and "
           f"{100 * g('warm_pool.us.spot_usd_per_audio_hour'):.2f} with the rest on Spot and an on-demand fallback "
           f"for the largest Spot pool. Tokyo costs most: "
           f"{100 * g('warm_pool.ap.on_demand_usd_per_audio_hour'):.2f} cents all on demand. Network charges (the "
           f"accelerator premium on the audio and egress of results) are "
           f"{g('warm_pool.accelerator_share_pct') + g('warm_pool.egress_share_pct'):.1f}% of the US cost.")
    return charts.Chart("cost-per-audio-hour-by-region", title, alt,
                        charts.to_svg(fig, "cost-per-audio-hour-by-region", title, alt),
                        charts.to_csv(["region", "on_demand_usd_per_h", "on_demand_usd_per_audio_h",
                                       "committed_usd_per_audio_h", "spot_usd_per_audio_h", "egress_usd_per_audio_h"],
                                      rows))
