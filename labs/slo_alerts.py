"""Lab: incidents replayed through SLO alert rules, to show detection time, reset time and false alarms.

A simulation on assumed traffic, not a measurement. The SLI is the reference system's availability SLI: the share
of stream-minutes served without a server-caused failure (slo.availability over service_levels.window_days). Time
runs in steps of `step_s` seconds. In each step the fleet serves traffic.peak_concurrent_streams x the hour's
traffic.daily_profile stream-minutes per minute. The fleet is Chapter 6's: the admission lab's
admission.fleet_gpus_for_tenth_of_budget GPUs at capacity.streams_per_gpu each, a new stream placed on the GPU with
the most free slots, so every GPU carries an equal share of the streams. Four things spoil some stream-minutes:

  - background failures: a Poisson number of bad stream-minutes with mean `base_bad_fraction` of the step's total
    (an assumed steady burn well under the budget);
  - refusals: sessions that find every slot of the fleet busy (Erlang's loss formula for the hour's offered load on
    a fixed fleet), each charged the mean session length, sessions.mean_s, once (Chapter 11's rule);
  - blips: a Poisson number per day of clean single-GPU losses at uniform times. Each of that GPU's streams resumes
    on the fleet's headroom after its own lognormal gap. A gap within service_levels.reconnect_deadline_s is charged
    as it lasts; a longer one is a failed reconnection and is charged max(gap, the mean remaining length of a session
    in progress), as the chapter's pseudocode does. Only the gap is charged, never the minute it interrupted;
  - incidents: a scenario's extra bad fraction over a stated span (overlap with each step counted exactly).

Alert rules are evaluated every step over trailing windows computed from cumulative sums. Four rule sets:
  - naive: the bad fraction over `naive_window_min` reaches the SLO's allowed fraction (the workbook's approach 1);
  - long windows only: 1 h burn >= 14.4 or 6 h burn >= 6, with no short windows;
  - multiwindow page: (1 h and 5 min >= 14.4) or (6 h and 30 min >= 6);
  - multiwindow ticket: 3 days and 6 h >= 1.
Window lengths and burn rates come from the reference system's service_levels group (Google's SRE workbook).

Per scenario and rule: detection time (incident start to the first step the rule fires), the share of the 30-day
error budget spent by then, and reset time (incident end to the first step the rule stops firing). Over an
incident-free baseline of `baseline_days` (after a warm-up as long as the longest window): how many separate
alert episodes each rule raises, every one of them a false alarm.

A deterministic part: detection time against a constant burn rate for the multiwindow rules (long window x
threshold / burn rate), against the time that burn rate takes to spend the whole budget; and the arithmetic of the
WER probe SLI (events per window, the highest burn rate it can show, and the probe size that keeps sampling noise
from spending the budget).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values
from .admission import erlang_b

TITLE = "SLO alerts: incidents replayed through multi-window burn-rate rules"
DEPENDS = ("admission",)
PARAMS = {"seed": 11, "step_s": 10, "baseline_days": 30, "base_bad_fraction": 0.0002, "blips_per_day": 4,
          "blip_gap_median_s": 2, "blip_gap_sigma": 0.6, "naive_window_min": 10, "incident_hour": 10,
          "noise_false_bad_pct": 0.1}
QUICK_PARAMS = {**PARAMS, "step_s": 30, "baseline_days": 6}

DAY_S = 86400
RULES = ("naive", "long_only", "mw_page", "mw_ticket")
RULE_LABELS = {"naive": "Naive: 10 min above the SLO", "long_only": "Long windows only",
               "mw_page": "Multiwindow page", "mw_ticket": "Multiwindow ticket"}


@dataclass(frozen=True)
class Scenario:
    id: str
    label: str
    bad_fraction: float
    duration_s: float


@dataclass(frozen=True)
class Rules:
    allowed: float             # 1 - objective
    window_days: float
    naive_min: float
    fast: tuple[float, float, float]    # long min, short min, burn rate
    slow: tuple[float, float, float]
    ticket: tuple[float, float, float]

    @classmethod
    def from_reference(cls, system: ReferenceSystem, naive_min: float) -> "Rules":
        n = lambda key: system.number(f"service_levels.{key}")  # noqa: E731
        return cls(1 - system.number("slo.availability") / 100, n("window_days"), naive_min,
                   (n("fast_page_long_min"), n("fast_page_short_min"), n("fast_page_burn_rate")),
                   (n("slow_page_long_min"), n("slow_page_short_min"), n("slow_page_burn_rate")),
                   (n("ticket_long_min"), n("ticket_short_min"), n("ticket_burn_rate")))

    @property
    def longest_min(self) -> float:
        return max(self.fast[0], self.slow[0], self.ticket[0], self.naive_min)


def scenarios(gpus: int) -> list[Scenario]:
    return [
        Scenario("outage", "Total outage", 1.0, 15 * 60),
        Scenario("gpu_host", "One GPU host in grey failure", 1 / gpus, 2 * 3600),
        Scenario("leak", "Slow leak", 0.008, 10 * 3600),
        Scenario("simmer", "Simmer", 0.0025, 4 * DAY_S),
        Scenario("restart", "Gateway restart, every stream reconnects", 1.0, 4),
    ]


# --- the traffic -----------------------------------------------------------------------------------------------

def traffic(system: ReferenceSystem, steps: int, step_s: float) -> np.ndarray:
    """Stream-minutes served in each step (the hour's share of the peak, streams x step length)."""
    profile = np.array(system.numbers("traffic.daily_profile"))
    hours = ((np.arange(steps) * step_s) // 3600).astype(int) % 24
    return system.number("traffic.peak_concurrent_streams") * profile[hours] * step_s / 60


def add_span(bad: np.ndarray, total: np.ndarray, step_s: float, start_s: float, duration_s: float,
             fraction: float) -> None:
    """Spoil `fraction` of every stream-minute in [start, start + duration), counting partial steps exactly."""
    end_s = start_s + duration_s
    first, last = int(start_s // step_s), int(math.ceil(end_s / step_s))
    for i in range(first, min(last, len(total))):
        overlap = min(end_s, (i + 1) * step_s) - max(start_s, i * step_s)
        if overlap > 0:
            bad[i] += fraction * total[i] * overlap / step_s


def add_stream(bad: np.ndarray, step_s: float, start_s: float, duration_s: float) -> None:
    """Charge one stream's [start, start + duration) as bad stream-minutes, counting partial steps exactly."""
    end_s = start_s + duration_s
    for i in range(int(start_s // step_s), min(int(math.ceil(end_s / step_s)), len(bad))):
        overlap = min(end_s, (i + 1) * step_s) - max(start_s, i * step_s)
        if overlap > 0:
            bad[i] += overlap / 60


def mean_remaining_s(system: ReferenceSystem) -> float:
    """Mean remaining length of a session in progress: E[S^2] / 2E[S], for lognormal lengths mean x e^(sigma^2) / 2."""
    return system.number("sessions.mean_s") * math.exp(system.number("sessions.lognormal_sigma") ** 2) / 2


def refused_fraction_by_hour(system: ReferenceSystem, gpus: int) -> np.ndarray:
    """Share of each hour's sessions that find every slot of the fleet busy (Erlang B on a fixed fleet)."""
    slots = gpus * int(system.number("capacity.streams_per_gpu"))
    peak = system.number("traffic.peak_concurrent_streams")
    return np.array([erlang_b(slots, peak * share) for share in system.numbers("traffic.daily_profile")])


def spoiled(system: ReferenceSystem, total: np.ndarray, step_s: float, rng: np.random.Generator, *, gpus: int,
            base_bad_fraction: float, blips_per_day: float, blip_gap_median_s: float,
            blip_gap_sigma: float) -> tuple[np.ndarray, dict]:
    """Bad stream-minutes per step from background failures, refusals and clean single-GPU losses, and counts."""
    bad = rng.poisson(total * base_bad_fraction).astype(float)
    mean_s = system.number("sessions.mean_s")
    hours = ((np.arange(len(total)) * step_s) // 3600).astype(int) % 24
    arrivals = total * 60 / mean_s                               # sessions per step: streams / mean length x step
    refused = rng.poisson(arrivals * refused_fraction_by_hour(system, gpus)[hours])
    refusal_bad = refused * mean_s / 60
    bad += refusal_bad
    deadline, remaining = system.number("service_levels.reconnect_deadline_s"), mean_remaining_s(system)
    span_s = len(total) * step_s
    streams_cut = resumed = 0
    for at in np.sort(rng.uniform(0, span_s, rng.poisson(blips_per_day * span_s / DAY_S))):
        i = min(int(at // step_s), len(total) - 1)
        on_gpu = max(1, round(total[i] * 60 / step_s / gpus))
        for gap in blip_gap_median_s * np.exp(blip_gap_sigma * rng.standard_normal(on_gpu)):
            streams_cut += 1
            if gap <= deadline:
                resumed += 1
                add_stream(bad, step_s, at, gap)
            else:
                add_stream(bad, step_s, at, max(gap, remaining))
    stats = {"refused_sessions": int(refused.sum()), "refusal_bad": refusal_bad,
             "streams_cut": streams_cut, "resumed": resumed}
    return np.minimum(bad, total), stats


# --- the rules -------------------------------------------------------------------------------------------------

def window_fraction(bad: np.ndarray, total: np.ndarray, steps: int) -> np.ndarray:
    """Bad fraction over the trailing `steps` steps (including the current one), from cumulative sums."""
    cb, ct = np.concatenate(([0.0], np.cumsum(bad))), np.concatenate(([0.0], np.cumsum(total)))
    idx = np.arange(1, len(bad) + 1)
    lo = np.maximum(idx - steps, 0)
    return (cb[idx] - cb[lo]) / np.maximum(ct[idx] - ct[lo], 1e-12)


def firing(rules: Rules, bad: np.ndarray, total: np.ndarray, step_s: float) -> dict[str, np.ndarray]:
    burn = {}

    def b(minutes: float) -> np.ndarray:
        if minutes not in burn:
            burn[minutes] = window_fraction(bad, total, max(1, round(minutes * 60 / step_s))) / rules.allowed
        return burn[minutes]

    both = lambda rule: (b(rule[0]) >= rule[2]) & (b(rule[1]) >= rule[2])  # noqa: E731
    return {
        "naive": b(rules.naive_min) >= 1,
        "long_only": (b(rules.fast[0]) >= rules.fast[2]) | (b(rules.slow[0]) >= rules.slow[2]),
        "mw_page": both(rules.fast) | both(rules.slow),
        "mw_ticket": both(rules.ticket),
    }, burn


def episodes(fire: np.ndarray) -> int:
    """Separate alert episodes: rising edges (a rule already firing at the first step counts once)."""
    return int(np.count_nonzero(fire[1:] & ~fire[:-1]) + (1 if len(fire) and fire[0] else 0))


# --- the replay ------------------------------------------------------------------------------------------------

def replay(system: ReferenceSystem, rules: Rules, scenario: Scenario, index: int, p: dict, gpus: int) -> dict:
    step_s = p["step_s"]
    warm_s = rules.longest_min * 60 + DAY_S                       # every window full before the incident
    start_s = math.ceil(warm_s / DAY_S) * DAY_S + p["incident_hour"] * 3600
    end_s = start_s + scenario.duration_s
    span_s = end_s + 2 * DAY_S
    steps = int(span_s // step_s)
    rng = np.random.default_rng([p["seed"], index])
    total = traffic(system, steps, step_s)
    bad, _ = spoiled(system, total, step_s, rng, gpus=gpus, base_bad_fraction=p["base_bad_fraction"],
                     blips_per_day=p["blips_per_day"], blip_gap_median_s=p["blip_gap_median_s"],
                     blip_gap_sigma=p["blip_gap_sigma"])
    extra = np.zeros(steps)
    add_span(extra, total, step_s, start_s, scenario.duration_s, scenario.bad_fraction)
    bad = np.minimum(bad + extra, total)
    fire, burn = firing(rules, bad, total, step_s)
    budget = budget_stream_minutes(system)
    first, last = int(start_s // step_s), int(math.ceil(end_s / step_s)) - 1
    out = {"start_step": first, "end_step": last, "total": total, "bad": bad, "fire": fire, "burn": burn,
           "budget_pct_total": 100 * extra.sum() / budget}
    for rule, f in fire.items():
        hits = np.nonzero(f[first:])[0]
        if len(hits) == 0:
            out[rule] = None
            continue
        detect = first + int(hits[0])
        after = np.nonzero(~f[max(detect, last + 1):])[0]
        reset_step = max(detect, last + 1) + int(after[0]) if len(after) else steps
        out[rule] = {
            "detect_min": (detect + 1 - first) * step_s / 60 if detect <= last + 1 else None,
            "late_min": (detect + 1 - first) * step_s / 60,
            "reset_min": max(0.0, (reset_step - (last + 1)) * step_s / 60),
            "budget_at_detect_pct": 100 * extra[first:detect + 1].sum() / budget,
        }
    return out


def budget_stream_minutes(system: ReferenceSystem) -> float:
    """The window's error budget in stream-minutes: mean concurrent streams x window minutes x allowed fraction."""
    minutes = system.number("service_levels.window_days") * 24 * 60
    return system.number("traffic.mean_concurrent_streams") * minutes * (1 - system.number("slo.availability") / 100)


def baseline(system: ReferenceSystem, rules: Rules, p: dict, gpus: int) -> dict:
    step_s = p["step_s"]
    warm_steps = int(math.ceil(rules.longest_min * 60 / DAY_S) * DAY_S // step_s)
    steps = warm_steps + int(p["baseline_days"] * DAY_S // step_s)
    rng = np.random.default_rng([p["seed"], 1000])
    total = traffic(system, steps, step_s)
    bad, stats = spoiled(system, total, step_s, rng, gpus=gpus, base_bad_fraction=p["base_bad_fraction"],
                         blips_per_day=p["blips_per_day"], blip_gap_median_s=p["blip_gap_median_s"],
                         blip_gap_sigma=p["blip_gap_sigma"])
    fire, _ = firing(rules, bad, total, step_s)
    counted = {rule: episodes(f[warm_steps:]) for rule, f in fire.items()}
    scale = 100 / budget_stream_minutes(system) * system.number("service_levels.window_days") / p["baseline_days"]
    counted["budget_pct"] = bad[warm_steps:].sum() * scale
    counted["refusal_budget_pct"] = stats["refusal_bad"][warm_steps:].sum() * scale
    counted["resumed_pct"] = 100 * stats["resumed"] / max(stats["streams_cut"], 1)
    naive = fire["naive"][warm_steps:]
    starts = np.nonzero(naive[1:] & ~naive[:-1])[0] + 1
    hour = ((starts + warm_steps) * step_s // 3600) % 24
    counted["naive_night_pct"] = 100 * np.count_nonzero((hour >= 22) | (hour < 7)) / max(len(starts), 1)
    return counted


def detection_curve(rules: Rules, burns: list[float]) -> list[dict]:
    """Detection time of a burn that starts from a clean history and stays constant (no noise)."""
    rows = []
    for b in burns:
        row = {"burn": b, "exhaust_h": rules.window_days * 24 / b}
        for name, rule in (("fast", rules.fast), ("slow", rules.slow), ("ticket", rules.ticket)):
            row[name] = rule[0] * rule[2] / b / 60 if b >= rule[2] else math.nan   # hours
        rows.append(row)
    return rows


# --- the quality SLI -------------------------------------------------------------------------------------------

def probe_values(system: ReferenceSystem, noise_false_bad_pct: float) -> list[tuple]:
    n = lambda key: system.number(f"service_levels.{key}")  # noqa: E731
    interval = n("wer_probe_interval_min")
    per_hour = 60 / interval
    window = n("window_days") * 24 * per_hour
    allowed = 1 - n("wer_probe_objective_pct") / 100
    baseline = system.number("chunking.wer_test_other_lookahead_0_pct") / 100
    tolerance = n("wer_tolerance_relative_pct") / 100
    z = _normal_quantile(1 - noise_false_bad_pct / 100)
    words = (z / tolerance) ** 2 * (1 - baseline) / baseline
    set_words = n("probe_set_words")
    set_min = set_words / n("probe_words_per_min")
    streams = math.ceil(set_min / interval)
    false_bad = lambda w: 50 * math.erfc(tolerance * math.sqrt(w * baseline / (1 - baseline)) / math.sqrt(2))  # noqa: E731
    peak = system.number("traffic.peak_concurrent_streams")
    quietest = peak * min(system.numbers("traffic.daily_profile"))
    fast_long, _, fast_burn = (n("fast_page_long_min"), n("fast_page_short_min"), n("fast_page_burn_rate"))
    probes_fast_long = fast_long / interval
    return [
        ("slo_alerts.probe.per_day", 24 * per_hour, "probes", "WER probes a day at the probe interval"),
        ("slo_alerts.probe.per_window", window, "probes", "WER probes in one SLO window"),
        ("slo_alerts.probe.bad_allowed", window * allowed, "probes", "Bad probes the quality budget allows per window"),
        ("slo_alerts.probe.budget_hours_at_full_failure", window * allowed / per_hour, "h",
         "Hours of a regression that fails every probe before the quality budget is spent"),
        ("slo_alerts.probe.max_burn_rate", 1 / allowed, "1", "Highest burn rate the probe SLI can show (every probe bad)"),
        ("slo_alerts.probe.in_fast_long_window", probes_fast_long, "probes", "Probes in the fast page rule's long window"),
        ("slo_alerts.probe.one_bad_burn_in_fast_window", 1 / probes_fast_long / allowed, "1",
         "Burn rate over the fast rule's long window from one bad probe"),
        ("slo_alerts.probe.fast_page_needs_bad", math.ceil(fast_burn * allowed * probes_fast_long - 1e-9), "probes",
         "Bad probes in the fast rule's long window that reach its burn rate"),
        ("slo_alerts.probe.threshold_wer_pct", 100 * baseline * (1 + tolerance), "%",
         "Probe WER above which a probe counts as bad (baseline x (1 + tolerance))"),
        ("slo_alerts.probe.words_for_noise", round(words, -2), "words",
         f"Words per probe so that binomial noise alone fails at most {noise_false_bad_pct}% of probes (a lower bound)"),
        ("slo_alerts.probe.noise_false_bad_pct", noise_false_bad_pct, "%", "Share of probes noise alone may fail"),
        ("slo_alerts.probe.set_minutes", set_min, "min", "Speech in one pass over the probe set, at read-speech pace"),
        ("slo_alerts.probe.parallel_streams", streams, "streams",
         "Probe streams run in parallel so that one pass over the set finishes within the probe interval"),
        ("slo_alerts.probe.share_of_peak_pct", 100 * streams / peak, "%", "Probe streams as a share of peak streams"),
        ("slo_alerts.probe.share_of_quietest_pct", 100 * streams / quietest, "%",
         "Probe streams as a share of the quietest hour's streams"),
        ("slo_alerts.probe.set_false_bad_pct", false_bad(set_words), "%",
         "Share of probes binomial noise alone fails on the probe set (a lower bound)"),
        ("slo_alerts.probe.small_set_words", 5000, "words", "A probe of a few hundred read utterances, for contrast"),
        ("slo_alerts.probe.small_set_false_bad_pct", false_bad(5000), "%",
         "Share of probes binomial noise alone fails on 5,000 words"),
    ]


def _normal_quantile(p: float) -> float:
    """Inverse of the standard normal CDF by bisection (no SciPy needed)."""
    lo, hi = -10.0, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


# --- the run ---------------------------------------------------------------------------------------------------

def run(system: ReferenceSystem, deps: dict, *, seed: int, step_s: float, baseline_days: float,
        base_bad_fraction: float, blips_per_day: float, blip_gap_median_s: float, blip_gap_sigma: float,
        naive_window_min: float, incident_hour: int, noise_false_bad_pct: float) -> LabResult:
    p = dict(seed=seed, step_s=step_s, baseline_days=baseline_days, base_bad_fraction=base_bad_fraction,
             blips_per_day=blips_per_day, blip_gap_median_s=blip_gap_median_s, blip_gap_sigma=blip_gap_sigma,
             incident_hour=incident_hour)
    rules = Rules.from_reference(system, naive_window_min)
    gpus = int(deps["admission"].value("admission.fleet_gpus_for_tenth_of_budget").value)
    found: list[tuple] = []
    replays = {}
    for index, scenario in enumerate(scenarios(gpus)):
        r = replay(system, rules, scenario, index, p, gpus)
        replays[scenario.id] = r
        key = f"slo_alerts.{scenario.id}"
        found += [
            (f"{key}.burn_rate", scenario.bad_fraction / rules.allowed, "1", f"{scenario.label}: burn rate while it lasts"),
            (f"{key}.duration_min", scenario.duration_s / 60, "min", f"{scenario.label}: duration"),
            (f"{key}.duration", _duration_text(scenario.duration_s / 60), "text", f"{scenario.label}: duration"),
            (f"{key}.bad_pct", 100 * scenario.bad_fraction, "%", f"{scenario.label}: share of stream-minutes failed"),
            (f"{key}.budget_spent_pct", round(r["budget_pct_total"], 2), "%",
             f"{scenario.label}: share of the 30-day error budget the incident spends"),
        ]
        for rule in RULES:
            hit = r[rule]
            what = f"{scenario.label}, {RULE_LABELS[rule]}"
            if hit is None or hit["detect_min"] is None:
                found += [(f"{key}.{rule}.detect", "no alert", "text", f"{what}: detection"),
                          (f"{key}.{rule}.detect_min", -1, "min", f"{what}: no alert (-1)")]
                continue
            found += [
                (f"{key}.{rule}.detect", _minutes_text(hit["detect_min"]), "text", f"{what}: detection time"),
                (f"{key}.{rule}.detect_min", round(hit["detect_min"], 2), "min", f"{what}: detection time"),
                (f"{key}.{rule}.reset", _minutes_text(hit["reset_min"]), "text",
                 f"{what}: time the alert keeps firing after the incident ends"),
                (f"{key}.{rule}.reset_min", round(hit["reset_min"], 2), "min", f"{what}: reset time"),
                (f"{key}.{rule}.budget_at_detect_pct", round(hit["budget_at_detect_pct"], 2), "%",
                 f"{what}: share of the 30-day budget the incident had spent at detection"),
            ]
    quiet = baseline(system, rules, p, gpus)
    for rule in RULES:
        found.append((f"slo_alerts.false_alarms.{rule}", quiet[rule], "alerts",
                      f"{RULE_LABELS[rule]}: alert episodes in {baseline_days:g} incident-free days"))
        noun = "ticket" if rule == "mw_ticket" else "page"
        found.append((f"slo_alerts.false_alarms.{rule}_text",
                      f"no false {noun}" if quiet[rule] == 0 else f"{quiet[rule]} false {noun}s", "text",
                      f"{RULE_LABELS[rule]}: false alarms in {baseline_days:g} incident-free days, in words"))
    slots = gpus * int(system.number("capacity.streams_per_gpu"))
    peak = system.number("traffic.peak_concurrent_streams")
    mean = system.number("traffic.mean_concurrent_streams")
    quietest = peak * min(system.numbers("traffic.daily_profile"))
    fast_pct = rules.fast[0] * rules.fast[2] / (rules.window_days * 1440) * 100
    found += [
        ("slo_alerts.fleet_gpus", gpus, "GPUs", "The fleet replayed: Chapter 6's admission.fleet_gpus_for_tenth_of_budget"),
        ("slo_alerts.fleet_one_in", gpus, "1", "Each GPU carries one stream in this many (equal shares by placement)"),
        ("slo_alerts.fleet_slots", slots, "slots", "Stream slots in the fleet (GPUs x capacity.streams_per_gpu)"),
        ("slo_alerts.host_streams_at_peak", peak / gpus, "streams", "Streams on one GPU at the peak hour"),
        ("slo_alerts.free_slots_after_host_loss",
         math.floor(slots - system.number("capacity.streams_per_gpu") - peak * (gpus - 1) / gpus), "slots",
         "Free slots on the other GPUs at the peak hour for the streams of one GPU that dies cleanly"),
        ("slo_alerts.baseline_refusal_budget_pct", round(quiet["refusal_budget_pct"], 2), "%",
         "Share of a 30-day budget spent on refusals (Erlang B, each charged the mean session), incident-free replay"),
        ("slo_alerts.blip_resumed_pct", round(quiet["resumed_pct"], 1), "%",
         "Streams cut by a clean single-GPU loss that resume within the reconnection deadline"),
        ("slo_alerts.mean_remaining_s", mean_remaining_s(system), "s",
         "Mean remaining length of a session in progress, charged to a stream that never resumes"),
        ("slo_alerts.naive_night_pct", round(quiet["naive_night_pct"]), "%",
         "Share of the naive rule's false alarms that start between 22:00 and 07:00"),
        ("slo_alerts.naive_per_day", quiet["naive"] / baseline_days, "1", "Naive-rule false alarms a day"),
        ("slo_alerts.budget_stream_minutes_approx", round(budget_stream_minutes(system), -2), "stream-minutes",
         "The 30-day error budget in stream-minutes, to the nearest hundred"),
        ("slo_alerts.fast_budget_at_peak_pct", fast_pct * peak / mean, "%",
         "Share of the budget a burn at the fast threshold spends in the fast rule's long window in the busy hour"),
        ("slo_alerts.fast_budget_at_quietest_pct", fast_pct * quietest / mean, "%",
         "The same at the quietest hour"),
        ("slo_alerts.ticket_days", rules.ticket[0] / 1440, "days", "Long window of the ticket rule, in days"),
        *((f"slo_alerts.window.{name}", _window_text(minutes), "text", f"The {name.replace('_', ' ')} window, in words")
          for name, minutes in (("fast_long", rules.fast[0]), ("fast_short", rules.fast[1]), ("slow_long", rules.slow[0]),
                                ("slow_short", rules.slow[1]), ("ticket_long", rules.ticket[0]),
                                ("ticket_short", rules.ticket[1]))),
        ("slo_alerts.headroom_gpus", gpus - system.number("fleet.gpus_at_peak"), "GPUs",
         "GPUs in Chapter 6's fleet beyond the Little's-law figure (fleet.gpus_at_peak)"),
        ("slo_alerts.headroom_usd_per_month", (gpus - system.number("fleet.gpus_at_peak"))
         * system.number("prices.gpu_instance_usd_per_hour") * 24 * rules.window_days, "USD",
         "Those GPUs held for a whole window at the assumed instance price"),
        ("slo_alerts.availability_budget_pct", 100 * rules.allowed, "%", "The availability SLO's budget"),
        ("slo_alerts.latency_budget_pct", 100 - system.number("service_levels.latency_objective_pct"), "%",
         "A latency SLO's budget at the 95% event objective"),
        ("slo_alerts.baseline_days", baseline_days, "days", "Length of the incident-free replay"),
        ("slo_alerts.baseline_budget_pct", round(quiet["budget_pct"], 1), "%",
         "Share of a 30-day budget that background failures and blips spend (incident-free replay, scaled to 30 days)"),
        ("slo_alerts.blips_per_day", blips_per_day, "1", "Single-GPU losses per day in the replay"),
        ("slo_alerts.blip_gap_median_s", blip_gap_median_s, "s", "Median reconnection gap of a blip"),
        ("slo_alerts.base_bad_pct", 100 * base_bad_fraction, "%", "Background share of stream-minutes failed"),
        ("slo_alerts.step_s", step_s, "s", "Evaluation step of the rules"),
        ("slo_alerts.naive_window_min", naive_window_min, "min", "Window of the naive rule"),
        ("slo_alerts.budget_stream_minutes", round(budget_stream_minutes(system)), "stream-minutes",
         "The 30-day error budget in stream-minutes at the daily mean load"),
        ("slo_alerts.fast_budget_pct", rules.fast[0] * rules.fast[2] / (rules.window_days * 1440) * 100, "%",
         "Share of the budget a burn at the fast threshold spends in the fast rule's long window"),
        ("slo_alerts.slow_budget_pct", rules.slow[0] * rules.slow[2] / (rules.window_days * 1440) * 100, "%",
         "Share of the budget a burn at the slow threshold spends in the slow rule's long window"),
        ("slo_alerts.ticket_budget_pct", rules.ticket[0] * rules.ticket[2] / (rules.window_days * 1440) * 100, "%",
         "Share of the budget a burn at the ticket threshold spends in the ticket rule's long window"),
        ("slo_alerts.max_burn_availability", 1 / rules.allowed, "1", "Burn rate of a total outage on the availability SLO"),
        ("slo_alerts.max_burn_latency", 1 / (1 - system.number("service_levels.latency_objective_pct") / 100), "1",
         "Burn rate when every result misses the latency target (95% objective)"),
        ("slo_alerts.latency_fast_bad_pct", rules.fast[2] * (1 - system.number("service_levels.latency_objective_pct") / 100) * 100,
         "%", "Share of results that must be late for the fast rule to fire on the latency SLI"),
        ("slo_alerts.latency_slow_bad_pct", rules.slow[2] * (1 - system.number("service_levels.latency_objective_pct") / 100) * 100,
         "%", "Share of results that must be late for the slow rule to fire on the latency SLI"),
        ("slo_alerts.quietest_hour_streams", round(system.number("traffic.peak_concurrent_streams")
                                                   * min(system.numbers("traffic.daily_profile"))), "streams",
         "Concurrent streams at the quietest hour of the day"),
        ("slo_alerts.outage_exhaust_min", rules.window_days * 1440 * rules.allowed, "min",
         "Minutes of total outage that spend the whole 30-day budget"),
    ]
    found += probe_values(system, noise_false_bad_pct)
    burns = [1, 1.5, 2, 3, 4, 6, 8, 10, 14.4, 20, 30, 50, 100, 200, 500, 1000]
    curve = detection_curve(rules, burns)
    fast_detect_outage = rules.fast[0] * rules.fast[2] / (1 / rules.allowed)
    found.append(("slo_alerts.curve.outage_fast_detect_s", round(fast_detect_outage * 60, 1), "s",
                  "Fast page detection time of a total outage from a clean history (long window x threshold / burn)"))
    chart_windows = _chart_windows(replays["gpu_host"], rules, step_s, found)
    chart_detection = _chart_detection(curve, rules, found)
    return LabResult(values(*found), (chart_windows, chart_detection))


def _window_text(minutes: float) -> str:
    """A rule's window in its natural unit: "5 min", "1 h", "3 days"."""
    if minutes >= 1440 and minutes % 1440 == 0:
        return f"{minutes / 1440:g} days" if minutes > 1440 else "1 day"
    if minutes >= 60 and minutes % 60 == 0:
        return f"{minutes / 60:g} h"
    return f"{minutes:g} min"


def _duration_text(minutes: float) -> str:
    """A scenario's length in its natural unit: "4 s", "15 min", "2 h", "4 days"."""
    if minutes < 1:
        return f"{round(minutes * 60):g} s"
    if minutes < 120:
        return f"{minutes:g} min"
    if minutes < 48 * 60:
        return f"{round(minutes / 60, 1):g} h"
    return f"{round(minutes / 1440, 1):g} days"


def _minutes_text(minutes: float) -> str:
    if minutes < 1:
        return f"{minutes * 60:.0f} s"
    if minutes < 120:
        return f"{minutes:.0f} min" if minutes >= 10 else f"{minutes:.1f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


# --- the charts ------------------------------------------------------------------------------------------------

def _chart_windows(r: dict, rules: Rules, step_s: float, found: list[tuple]) -> charts.Chart:
    first, last = r["start_step"], r["end_step"]
    lo, hi = first - int(3600 // step_s), last + int(6 * 3600 // step_s)
    hours = (np.arange(lo, hi) - first) * step_s / 3600
    end_h = (last + 1 - first) * step_s / 3600
    fig, ax = charts.figure(7.2, 4.2)
    ax.axvspan(0, end_h, color="#eeeeee", linewidth=0, zorder=0)
    ax.annotate("incident", (0.05, 400), fontsize=8)
    styles = ({"color": charts.SERIES[0]["color"], "linestyle": ":"},
              {"color": charts.SERIES[1]["color"], "linestyle": "-."},
              {"color": charts.SERIES[1]["color"], "linestyle": "--"},
              {"color": charts.SERIES[2]["color"], "linestyle": "-"})
    series = ((rules.fast[1], "5 min"), (rules.slow[1], "30 min"), (rules.fast[0], "1 h"), (rules.slow[0], "6 h"))
    for style, (minutes, label) in zip(styles, series):
        ax.plot(hours, np.maximum(r["burn"][minutes][lo:hi], 0.02), label=f"{label} window", linewidth=1.5, **style)
    ax.axhline(rules.fast[2], color=charts.ACCENT, linewidth=1.2)
    ax.annotate(f"fast page threshold {rules.fast[2]:g}", (hours[-1], rules.fast[2]), xytext=(0, 4),
                textcoords="offset points", ha="right", color=charts.ACCENT, fontsize=8)
    ax.axhline(rules.slow[2], color=charts.ACCENT, linewidth=1.0, linestyle="--")
    ax.annotate(f"slow page threshold {rules.slow[2]:g}", (hours[-1], rules.slow[2]), xytext=(0, -11),
                textcoords="offset points", ha="right", color=charts.ACCENT, fontsize=8)
    for row, (rule, label, shade, hatch) in enumerate((("mw_page", "multiwindow page firing", charts.FILLS[1], None),
                                                       ("long_only", "long-window rule firing", charts.FILLS[3], "//"))):
        fire = r["fire"][rule][lo:hi]
        y0, y1 = 0.025 * 3.2 ** row, 0.025 * 3.2 ** row * 1.8
        ax.fill_between(hours, y0, y1, where=fire, color=shade, step="post", linewidth=0, hatch=hatch,
                        edgecolor=charts.FILLS[1])
        on = np.nonzero(fire)[0]
        if len(on):
            ax.annotate(label, (hours[on[0]], y1), xytext=(0, 1.5), textcoords="offset points",
                        va="bottom", fontsize=7.5)
    ax.set_yscale("log")
    ax.set_ylim(0.02, 1000)
    ax.set_xlim(hours[0], hours[-1])
    ax.set_xlabel("Hours from the start of the incident")
    ax.set_ylabel("Burn rate (log scale)")
    ax.set_title("One GPU host in grey failure for two hours: burn rate by window", loc="left")
    ax.legend(fontsize=7.5, loc="upper right", ncols=4)
    g = dict((k, v) for k, v, *_ in found)

    def crossed(minutes: float) -> str:
        above = np.nonzero(r["burn"][minutes][first:] >= rules.fast[2])[0]
        return _minutes_text((above[0] + 1) * step_s / 60) if len(above) else "never"

    title = "Burn rate over four windows during a replayed incident, and when each rule fires"
    alt = (f"Burn rate on a log scale from one hour before to six hours after the end of an incident in which "
           f"one GPU host in grey failure fails its streams for two hours, a burn rate of "
           f"{g['slo_alerts.gpu_host.burn_rate']:.0f}. The 5-minute window rises above the fast threshold of "
           f"{rules.fast[2]:g} within {crossed(rules.fast[1])}, the 30-minute window after {crossed(rules.slow[1])} "
           f"and the 1-hour window after {crossed(rules.fast[0])}, so the multiwindow page fires after "
           f"{g['slo_alerts.gpu_host.mw_page.detect']} and stops "
           f"{g['slo_alerts.gpu_host.mw_page.reset']} after the incident ends. The rule with long windows only "
           f"fires at the same moment but keeps firing for {g['slo_alerts.gpu_host.long_only.reset']} after the "
           f"end, because the 6-hour window stays above its threshold. The multiwindow page also stops late, "
           f"{g['slo_alerts.gpu_host.mw_page.reset']} rather than 5 minutes, because the 30-minute window keeps "
           f"the slow pair firing until it drains.")
    header = ["hours_from_start", "burn_5m", "burn_1h", "burn_30m", "burn_6h", "mw_page", "long_only"]
    rows = [[f"{h:.4f}", f"{r['burn'][rules.fast[1]][i]:.3f}", f"{r['burn'][rules.fast[0]][i]:.3f}",
             f"{r['burn'][rules.slow[1]][i]:.3f}", f"{r['burn'][rules.slow[0]][i]:.3f}",
             int(r["fire"]["mw_page"][i]), int(r["fire"]["long_only"][i])]
            for h, i in zip(hours, range(lo, hi))][:: max(1, int(60 // step_s))]
    return charts.Chart("slo-alert-windows", title, alt, charts.to_svg(fig, "slo-alert-windows", title, alt),
                        charts.to_csv(header, rows))


def _chart_detection(curve: list[dict], rules: Rules, found: list[tuple]) -> charts.Chart:
    fig, ax = charts.figure(7.2, 4.0)
    burns = [row["burn"] for row in curve]
    for style, (key, label) in zip(charts.SERIES, (
            ("ticket", f"Ticket: {rules.ticket[0] / 1440:g} days and {rules.ticket[1] / 60:g} h at {rules.ticket[2]:g}"),
            ("slow", f"Slow page: {rules.slow[0] / 60:g} h and {rules.slow[1]:g} min at {rules.slow[2]:g}"),
            ("fast", f"Fast page: {rules.fast[0] / 60:g} h and {rules.fast[1]:g} min at {rules.fast[2]:g}"))):
        ax.plot(burns, [row[key] for row in curve], label=label, **style)
    ax.plot(burns, [row["exhaust_h"] for row in curve], color=charts.ACCENT, linewidth=1.4,
            label="Whole 30-day budget spent")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("Burn rate, held constant from a clean history (log scale)")
    ax.set_ylabel("Hours (log scale)")
    ax.set_title("Detection time against burn rate, and time to spend the budget", loc="left")
    ax.legend(fontsize=7.5, loc="upper right")
    g = dict((k, v) for k, v, *_ in found)
    title = "Detection time of the multiwindow rules against burn rate"
    alt = (f"Detection time in hours against a constant burn rate, both on log scales. Each rule's detection time "
           f"is its long window times its threshold divided by the burn rate, so every line falls with slope -1 "
           f"and stays below the line of the time the burn takes to spend the whole budget. A total outage (burn "
           f"rate {g['slo_alerts.max_burn_availability']:.0f}) is caught by the fast page in "
           f"{g['slo_alerts.curve.outage_fast_detect_s']:.0f} s; burn rates below {rules.fast[2]:g} are left to the "
           f"slow page, below {rules.slow[2]:g} to the ticket, and below {rules.ticket[2]:g} to nothing, since the "
           f"budget then lasts the whole window.")
    header = ["burn_rate", "fast_page_h", "slow_page_h", "ticket_h", "budget_exhausted_h"]
    rows = [[row["burn"], *(f"{row[k]:.4f}" if not math.isnan(row[k]) else "" for k in ("fast", "slow", "ticket")),
             f"{row['exhaust_h']:.2f}"] for row in curve]
    return charts.Chart("slo-alert-detection", title, alt, charts.to_svg(fig, "slo-alert-detection", title, alt),
                        charts.to_csv(header, rows))
