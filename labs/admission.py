"""Lab: admission control. Chunk latency on one GPU against offered concurrent streams, with and without a cap on
the streams it admits; and the voice-agent latency stack from the end of speech to the first audio byte.

The simulation (seeded, discrete-event, at the level of the batcher):
  - Sessions arrive as a Poisson process at offered / sessions.mean_s per second, so the offered load is the mean
    number of concurrent streams (Little's law), and last a lognormal time with the reference mean and sigma.
  - Admission: "none" admits every session; "cap" admits a session only while fewer than capacity.streams_per_gpu
    admitted sessions are open, and rejects the rest at the door (WebSocket close 1013, try again later).
  - Every admitted stream sends one chunk every audio.chunk_ms, the first one chunk after it opens, until it ends:
    periodic per stream, with phases as random as the session start times. No network jitter is added.
  - One queue, FIFO across streams, feeds the reference batcher (Triton's dynamic batcher: max_batch_size,
    max_queue_delay, no preferred sizes) on batcher.instances instances, each batch taking t(b) from the reference
    system. With at least max_batch_size streams in the queue, a batch of its oldest chunks holds one chunk per
    stream, as Triton's Oldest sequence-batching strategy requires; the lab counts any batch that breaks this.
  - A chunk's latency is its queue wait plus its batch's execution: the same interval as the batching lab.
  - A warm-up of warmup_s runs before the measured window, so the measured window starts with a realistic
    population of streams (and, without admission control, whatever backlog the warm-up built).
  - Every point runs `seeds` times with independent seeds. Below saturation, the uncapped tail depends on whether
    a window happens to hold an excursion of the stream count past saturation, and for how long: a rare-event
    statistic that moves by orders of magnitude between seeds. The lab therefore reports the median and the range
    (lowest and highest run) of each percentile, and, as a steadier statistic, the share of simulated hours in which
    the uncapped stream count went past saturation, pooled over the seeds.

The rejection share of the capped policy is checked against Erlang's loss formula, which holds for Poisson arrivals
whatever the distribution of session lengths.

The voice-agent stack is arithmetic on the reference system and the latency_budget lab: stage figures (worst cases,
stated p95 targets, simulated p95s, a typical model-inference time and two assumptions) stacked from the end of the
user's speech to the first audio byte played, with the three models co-located (no network hop between them).
Percentiles do not add, and the synthesis figure is typical rather than p95, so the sum is a budget, not a bound.
"""
from __future__ import annotations

import heapq
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Admission control: chunk latency against offered streams per GPU, with and without a cap"
DEPENDS = ("latency_budget",)
PARAMS = {"hours": 4.0, "warmup_s": 1800, "seed": 20261130, "seeds": 5,
          "offered": [20, 24, 28, 30, 32, 34, 36, 38, 40, 44, 48]}
QUICK_PARAMS = {"hours": 0.2, "warmup_s": 600, "seed": 20261130, "seeds": 2, "offered": [24, 36, 44]}

POLICIES = ("none", "cap")
REPORTED = (28, 32, 36, 40, 44)  # offered loads whose figures the chapter may print (those in the sweep)


@dataclass(frozen=True)
class Outcome:
    offered: float
    policy: str
    latency_ms: np.ndarray     # per measured chunk: queue wait + batch execution
    sessions: int              # sessions that arrived in the measured window
    rejected: int              # of those, rejected by admission control
    mean_admitted: float       # time-averaged admitted streams over the measured window
    peak_admitted: int
    mixed_batches: int         # batches holding two chunks of one stream (should be 0)
    hours_over: int            # measured whole hours in which the admitted streams went past saturation
    hours_measured: int        # measured whole hours

    def pct(self, q: float) -> float:
        return float(np.percentile(self.latency_ms, q))


def erlang_b(servers: int, offered: float) -> float:
    """Erlang's loss formula B(c, A) by its stable recursion: the share of arrivals that find all c servers busy."""
    blocking = 1.0
    for c in range(1, servers + 1):
        blocking = offered * blocking / (c + offered * blocking)
    return blocking


def sessions(offered: float, mean_s: float, sigma: float, span_s: float, rng: np.random.Generator):
    """Poisson session arrivals over [0, span_s) with lognormal lengths of the given mean: (starts, ends)."""
    count = rng.poisson(offered / mean_s * span_s)
    starts = np.sort(rng.uniform(0.0, span_s, size=count))
    mu = np.log(mean_s) - sigma ** 2 / 2
    return starts, starts + rng.lognormal(mu, sigma, size=count)


def admit(starts: np.ndarray, ends: np.ndarray, cap: int | None) -> np.ndarray:
    """Which sessions are admitted, in arrival order, when at most `cap` may be open at once (None: no cap)."""
    admitted = np.ones(len(starts), dtype=bool)
    if cap is None:
        return admitted
    open_ends: list[float] = []
    for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
        while open_ends and open_ends[0] <= start:
            heapq.heappop(open_ends)
        if len(open_ends) >= cap:
            admitted[i] = False
        else:
            heapq.heappush(open_ends, end)
    return admitted


def chunk_arrivals(starts: np.ndarray, ends: np.ndarray, chunk_s: float):
    """Arrival times (s) of every chunk of the given streams, sorted, and the stream each belongs to."""
    counts = np.maximum(np.floor((ends - starts) / chunk_s).astype(np.int64), 0)
    stream = np.repeat(np.arange(len(starts)), counts)
    first = np.cumsum(counts) - counts
    index = np.arange(counts.sum()) - np.repeat(first, counts)
    times = starts[stream] + chunk_s * (index + 1)
    order = np.argsort(times, kind="stable")
    return times[order], stream[order]


def batch(arrivals_ms: list[float], max_batch: int, window_ms: float, instances: int, service_ms) -> tuple:
    """Triton's dynamic batcher over sorted arrivals: per chunk its batch's start time and execution time, and
    the size of every batch. A batch leaves when an instance is free and either max_batch chunks are queued or
    the oldest has waited the window."""
    n = len(arrivals_ms)
    start = np.empty(n)
    service = np.empty(n)
    sizes: list[int] = []
    free = [0.0] * instances
    heapq.heapify(free)
    i = 0
    while i < n:
        now = max(free[0], arrivals_ms[i])
        queued = bisect_right(arrivals_ms, now, i) - i
        if queued < max_batch and now - arrivals_ms[i] < window_ms:
            deadline = arrivals_ms[i] + window_ms
            full_at = arrivals_ms[i + max_batch - 1] if i + max_batch - 1 < n else float("inf")
            now = min(deadline, full_at)
            queued = bisect_right(arrivals_ms, now, i) - i
        size = min(queued, max_batch)
        duration = service_ms(size)
        start[i:i + size] = now
        service[i:i + size] = duration
        sizes.append(size)
        heapq.heapreplace(free, now + duration)
        i += size
    return start, service, sizes


def hours_over_saturation(s_start: np.ndarray, s_end: np.ndarray, saturation: float, warmup_s: float,
                          hours: float) -> tuple[int, int]:
    """Of the whole measured hours after the warm-up, how many held more than `saturation` open streams at some
    moment: (hours over, hours measured)."""
    times = np.concatenate([s_start, s_end])
    steps = np.concatenate([np.ones(len(s_start)), -np.ones(len(s_end))])
    order = np.lexsort((steps, times))  # at equal times an end (-1) comes before a start (+1)
    times, level = times[order], np.cumsum(steps[order])
    whole = int(hours)
    over = 0
    for h in range(whole):
        lo, hi = warmup_s + 3600 * h, warmup_s + 3600 * (h + 1)
        first, last = np.searchsorted(times, lo, "right"), np.searchsorted(times, hi, "left")
        at_start = level[first - 1] if first > 0 else 0
        peak = max(at_start, level[first:last].max() if last > first else at_start)
        over += int(peak > saturation)
    return over, whole


def simulate(system: ReferenceSystem, offered: float, policy: str, hours: float, warmup_s: float,
             seed: list[int]) -> Outcome:
    rng = np.random.default_rng(seed)
    span = warmup_s + hours * 3600
    starts, ends = sessions(offered, system.number("sessions.mean_s"), system.number("sessions.lognormal_sigma"),
                            span, rng)
    cap = int(system.number("capacity.streams_per_gpu")) if policy == "cap" else None
    admitted = admit(starts, ends, cap)
    chunk_s = system.number("audio.chunk_ms") / 1000
    s_start, s_end = starts[admitted], np.minimum(ends[admitted], span)
    times, stream = chunk_arrivals(s_start, s_end, chunk_s)
    arrivals_ms = (times * 1000).tolist()
    begin, service, sizes = batch(arrivals_ms, int(system.number("batcher.max_batch_size")),
                                  system.number("batcher.max_queue_delay_us") / 1000,
                                  int(system.number("batcher.instances")), system.service_time_ms)
    latency = begin - np.asarray(arrivals_ms) + service
    measured = times >= warmup_s
    in_window = starts >= warmup_s
    # Time-averaged admitted streams over the measured window, from the admitted sessions' overlap with it.
    overlap = np.clip(s_end, warmup_s, span) - np.clip(s_start, warmup_s, span)
    mean_admitted = float(overlap.sum() / (span - warmup_s))
    events = np.concatenate([np.stack([s_start, np.ones(len(s_start))], 1), np.stack([s_end, -np.ones(len(s_end))], 1)])
    events = events[np.lexsort((events[:, 1], events[:, 0]))]
    peak = int(np.max(np.cumsum(events[:, 1]))) if len(events) else 0
    over, whole = hours_over_saturation(s_start, s_end, system.number("capacity.streams_at_saturation"), warmup_s,
                                        hours)
    return Outcome(offered, policy, latency[measured], int(in_window.sum()), int((in_window & ~admitted).sum()),
                   mean_admitted, peak, _mixed_batches(stream, sizes), over, whole)


def _mixed_batches(stream: np.ndarray, sizes: list[int]) -> int:
    """Batches that hold two chunks of the same stream (a stateful model cannot run those together)."""
    batch_id = np.repeat(np.arange(len(sizes)), sizes)
    order = np.lexsort((np.arange(len(stream)), stream))
    same = stream[order][1:] == stream[order][:-1]
    clash = same & (batch_id[order][1:] == batch_id[order][:-1])
    return int(len(np.unique(batch_id[order][1:][clash])))


def _spread(values_: list[float]) -> tuple[float, float, float]:
    """Median, lowest and highest of one statistic over the seeded runs."""
    return float(np.median(values_)), float(min(values_)), float(max(values_))


def run(system: ReferenceSystem, deps: dict, *, hours: float, warmup_s: float, seed: int, seeds: int,
        offered: list[int]) -> LabResult:
    cap = int(system.number("capacity.streams_per_gpu"))
    saturation = system.number("capacity.streams_at_saturation")
    sweep = sorted(set(offered) | {cap})
    outcomes = {(policy, load, k): simulate(system, load, policy, hours, warmup_s, [seed, index, p, k])
                for index, load in enumerate(sweep) for p, policy in enumerate(POLICIES) for k in range(seeds)}
    queue_budget = system.number("budget.queue_p95_ms")
    # The chunk-latency p95 allowance: the queue budget plus the batch time the latency budget allows at the target.
    budget_ms = queue_budget + system.number("inference.max_batch_ms")
    rows = []
    for load in sweep:
        runs = {policy: [outcomes[(policy, load, k)] for k in range(seeds)] for policy in POLICIES}
        row = {"offered": load, "erlang_b": erlang_b(cap, load)}
        for policy in POLICIES:
            for q in (50, 95, 99):
                row[f"{policy}_p{q}"] = _spread([o.pct(q) for o in runs[policy]])
            row[f"{policy}_mean"] = float(np.mean([o.mean_admitted for o in runs[policy]]))
        none = runs["none"]
        row["rejected"] = _spread([o.rejected / max(o.sessions, 1) for o in runs["cap"]])
        row["none_peak"] = _spread([o.peak_admitted for o in none])
        row["none_runs_within"] = sum(o.pct(95) <= budget_ms for o in none)
        row["none_hours_over"] = sum(o.hours_over for o in none) / max(sum(o.hours_measured for o in none), 1)
        rows.append(row)
    none_ok = max((r["offered"] for r in rows if r["none_p95"][0] <= budget_ms), default=0)
    cap_ok = max((r["offered"] for r in rows if r["cap_p95"][0] <= budget_ms), default=0)
    mixed = sum(o.mixed_batches for o in outcomes.values())
    loaded = [r for r in rows if r["offered"] >= min(REPORTED)]
    entries: list[tuple] = [
        ("admission.cap_streams", cap, "streams", "Admission cap: capacity.streams_per_gpu"),
        ("admission.saturation_streams", saturation, "streams", "Streams at which every batch must be full"),
        ("admission.hours", hours, "h", "Simulated hours per run, after the warm-up"),
        ("admission.seeds", seeds, "runs", "Seeded runs per point and policy"),
        ("admission.total_hours", hours * seeds, "h", "Simulated hours per point and policy, over every seed"),
        ("admission.budget_ms", budget_ms, "ms", "Queue budget plus t(max batch): the chunk-latency p95 allowance"),
        ("admission.none_within_budget_up_to_streams", none_ok, "streams",
         "Largest offered load in the sweep whose median p95 chunk latency stays within the allowance, no cap"),
        ("admission.cap_within_budget_up_to_streams", cap_ok, "streams",
         "Largest offered load in the sweep whose median p95 chunk latency stays within the allowance, with the cap"),
        ("admission.mixed_batches", mixed, "batches", "Batches holding two chunks of one stream, over every run"),
        ("admission.cap_p99_ms_lowest", min(r["cap_p99"][1] for r in loaded), "ms",
         f"Lowest capped p99 over every run from {min(REPORTED)} offered upward"),
        ("admission.cap_p99_ms_highest", max(r["cap_p99"][2] for r in loaded), "ms",
         f"Highest capped p99 over every run from {min(REPORTED)} offered upward"),
    ]
    for r in rows:
        if r["offered"] not in REPORTED:
            continue
        n = int(r["offered"])
        for policy, label in (("none", "no cap"), ("cap", "capped")):
            for q in (95, 99):
                mid, low, high = r[f"{policy}_p{q}"]
                entries += [
                    (f"admission.{policy}_p{q}_ms_at_{n}", mid, "ms",
                     f"p{q} chunk latency, {label}, {n} offered: median of the seeded runs"),
                    (f"admission.{policy}_p{q}_ms_min_at_{n}", low, "ms",
                     f"p{q} chunk latency, {label}, {n} offered: lowest seeded run"),
                    (f"admission.{policy}_p{q}_ms_max_at_{n}", high, "ms",
                     f"p{q} chunk latency, {label}, {n} offered: highest seeded run"),
                ]
        entries += [
            (f"admission.rejected_pct_at_{n}", 100 * r["rejected"][0], "%",
             f"Sessions rejected by the cap, {n} offered: median of the seeded runs"),
            (f"admission.rejected_pct_min_at_{n}", 100 * r["rejected"][1], "%",
             f"Sessions rejected by the cap, {n} offered: lowest seeded run"),
            (f"admission.rejected_pct_max_at_{n}", 100 * r["rejected"][2], "%",
             f"Sessions rejected by the cap, {n} offered: highest seeded run"),
            (f"admission.erlang_b_pct_at_{n}", 100 * r["erlang_b"], "%", f"Erlang B for the cap at {n} offered"),
            (f"admission.cap_mean_streams_at_{n}", r["cap_mean"], "streams", f"Mean admitted streams, {n} offered"),
            (f"admission.none_peak_streams_at_{n}", r["none_peak"][0], "streams",
             f"Most concurrent streams without a cap, {n} offered: median of the seeded runs"),
            (f"admission.none_peak_streams_min_at_{n}", r["none_peak"][1], "streams",
             f"Most concurrent streams without a cap, {n} offered: lowest seeded run"),
            (f"admission.none_peak_streams_max_at_{n}", r["none_peak"][2], "streams",
             f"Most concurrent streams without a cap, {n} offered: highest seeded run"),
            (f"admission.none_runs_within_budget_at_{n}", r["none_runs_within"], "1",
             f"Seeded runs whose p95 chunk latency stayed within the allowance, no cap, {n} offered"),
            (f"admission.none_hours_over_saturation_pct_at_{n}", 100 * r["none_hours_over"], "%",
             f"Share of simulated hours, pooled over the seeds, in which the uncapped stream count went past "
             f"saturation, {n} offered"),
        ]
    entries += _fleet(system, cap)
    entries += _agent_stack(system, deps["latency_budget"])
    found = values(*entries)
    return LabResult(found, (_chart(rows, cap, saturation, budget_ms, seeds, found),))


def _fleet(system: ReferenceSystem, cap: int) -> list[tuple]:
    """The cap applied fleet-wide: a stream refused by one GPU is placed on another, so the fleet's slots form one
    pool and Erlang's formula with every slot gives the share of sessions no GPU can take at the peak hour."""
    offered = system.number("traffic.peak_concurrent_streams")
    gpus = int(system.number("fleet.gpus_at_peak"))
    target = 1 - system.number("slo.availability") / 100
    needed = gpus
    while erlang_b(needed * cap, offered) > target / 10:
        needed += 1
    return [
        ("admission.fleet_offered_streams", offered, "streams", "Offered concurrent streams at the peak hour"),
        ("admission.fleet_gpus", gpus, "GPUs", "GPUs at the peak hour at the stream target (fleet.gpus_at_peak)"),
        ("admission.fleet_rejected_pct", 100 * erlang_b(gpus * cap, offered), "%",
         "Sessions the pooled fleet rejects at the peak hour with that many GPUs (Erlang B)"),
        ("admission.fleet_rejected_pct_one_more", 100 * erlang_b((gpus + 1) * cap, offered), "%",
         "The same with one more GPU"),
        ("admission.fleet_gpus_for_tenth_of_budget", needed, "GPUs",
         "GPUs at which peak-hour rejections fall to a tenth of the availability target's allowance"),
        ("admission.fleet_rejected_pct_at_needed", 100 * erlang_b(needed * cap, offered), "%",
         "Peak-hour rejections with that many GPUs"),
        ("admission.gpu_rejected_pct_at_target", 100 * erlang_b(cap, cap), "%",
         "One GPU on its own, offered its cap as a mean: the share of sessions it must refuse (Erlang B)"),
    ]


def _agent_stack(system: ReferenceSystem, budget) -> list[tuple]:
    """The voice-agent stack, end of speech to first audio byte, with endpointing at its full and eager silence."""
    stage = lambda key: budget.value(f"latency_budget.stage.{key}_ms").value  # noqa: E731
    arrive = stage("capture") + stage("encode") + stage("uplink") + stage("ingress")
    flush = stage("queue") + stage("inference") + system.number("budget.final_decode_p95_ms")
    llm = system.number("pipeline.llm_first_phrase_p95_ms")
    tts = system.number("pipeline.tts_first_byte_ms")
    down = stage("downlink")
    playout = system.number("pipeline.playout_buffer_ms")
    silence, eager = system.number("endpointing.silence_ms"), system.number("pipeline.eager_silence_ms")
    serving = arrive + flush + llm + tts + down + playout
    target = system.number("pipeline.agent_first_audio_p95_ms")
    return [
        ("admission.agent_arrive_ms", arrive, "ms", "Last speech to the server: chunk fill, encode, uplink, ingress"),
        ("admission.agent_flush_ms", flush, "ms", "Endpoint signal to final hypothesis on the server"),
        ("admission.agent_llm_ms", llm, "ms", "Final transcript to the LLM's first speakable phrase"),
        ("admission.agent_tts_ms", tts, "ms", "First phrase to the synthesiser's first audio (model inference)"),
        ("admission.agent_downlink_ms", down, "ms", "Server to client"),
        ("admission.agent_playout_ms", playout, "ms", "Client playback buffer before the first sample plays"),
        ("admission.agent_without_silence_ms", serving, "ms", "Every stage but the endpointing silence"),
        ("admission.agent_total_ms", serving + silence, "ms", "End of speech to first audio, full silence"),
        ("admission.agent_eager_total_ms", serving + eager, "ms", "End of speech to first audio, eager end of turn"),
        ("admission.agent_headroom_ms", target - serving - silence, "ms", "Target minus the full-silence stack"),
        ("admission.agent_eager_headroom_ms", target - serving - eager, "ms", "Target minus the eager stack"),
        ("admission.agent_silence_share_pct", 100 * silence / (serving + silence), "%",
         "Share of the full-silence stack that is endpointing silence"),
        ("admission.agent_overrun_ms", serving + silence - target, "ms", "Full-silence stack minus the target"),
        ("admission.agent_silence_gap_ms", silence - eager, "ms", "Full endpointing silence minus the eager silence"),
        ("admission.agent_confirm_ms", arrive + silence + flush, "ms",
         "End of speech to the confirmed end of turn's final transcript on the server (full silence)"),
        ("admission.agent_eager_first_phrase_ms", arrive + eager + flush + llm, "ms",
         "End of speech to the first phrase of a reply started on an eager end of turn"),
        ("admission.batch_window_ms", system.number("batcher.max_queue_delay_us") / 1000, "ms",
         "The batcher's window (batcher.max_queue_delay_us) in milliseconds"),
        ("admission.load_at_target_pct", 100 * system.number("capacity.load_at_target"), "%",
         "GPU load at the stream target, as a percentage of its capacity"),
    ]


def _chart(rows: list[dict], cap: int, saturation: float, budget_ms: float, seeds: int,
           found: dict) -> charts.Chart:
    fig, _ = charts.figure(7.2, 3.9)
    fig.clear()
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    x = [r["offered"] for r in rows]
    for key, label, style in (("none_p99", "p99, no admission control", charts.SERIES[0]),
                              ("none_p95", "p95, no admission control", charts.SERIES[1]),
                              ("cap_p99", f"p99, cap at {cap} streams", charts.SERIES[2])):
        left.plot(x, [r[key][0] for r in rows], label=label, **style)
        left.fill_between(x, [r[key][1] for r in rows], [r[key][2] for r in rows], color=style["color"], alpha=0.18,
                          linewidth=0)
    left.set_yscale("log")
    left.set_ylim(10, 1e7)
    left.axhline(budget_ms, color=charts.ACCENT, linestyle="-.", linewidth=1.3)
    left.annotate(f"allowance {budget_ms:.1f} ms", (x[0], budget_ms), xytext=(0, 4), textcoords="offset points",
                  color=charts.ACCENT, fontsize=8)
    left.axvline(saturation, color=charts.INK, linestyle=(0, (1, 3)), linewidth=1)
    left.annotate(f"saturation {saturation:.1f}", (saturation, 1), xytext=(-3, -4), textcoords="offset points",
                  xycoords=("data", "axes fraction"), ha="right", va="top", fontsize=8)
    left.set_xlabel("Offered concurrent streams per GPU (mean)")
    left.set_ylabel("Chunk latency, queue + batch (ms, log)")
    left.set_title(f"Admitted streams: median of {seeds} runs, band = range", loc="left", fontsize=9)
    left.legend(loc="upper left", fontsize=8)
    right.plot(x, [100 * r["rejected"][0] for r in rows], label="simulated (median)", **charts.SERIES[2])
    right.fill_between(x, [100 * r["rejected"][1] for r in rows], [100 * r["rejected"][2] for r in rows],
                       color=charts.SERIES[2]["color"], alpha=0.18, linewidth=0)
    right.plot(x, [100 * r["erlang_b"] for r in rows], label="Erlang B", color=charts.ACCENT, linestyle="-",
               linewidth=1.2)
    right.set_xlabel("Offered concurrent streams per GPU")
    right.set_ylabel("Sessions rejected (%)")
    right.set_title(f"Cost of the cap at {cap}", loc="left")
    right.legend(loc="upper left", fontsize=8)
    title = "Admission control: chunk latency and rejected sessions against offered streams per GPU"
    g = lambda key: found[key].value  # noqa: E731
    alt = (f"Left: p95 and p99 chunk latency on a log scale against offered concurrent streams per GPU, each line the "
           f"median of {seeds} seeded runs with a shaded band from the lowest to the highest run. Without admission "
           f"control the uncapped bands are wide below saturation: at 32 offered the p99 runs from "
           f"{g('admission.none_p99_ms_min_at_32'):,.0f} ms to {g('admission.none_p99_ms_max_at_32'):,.0f} ms, "
           f"against a {budget_ms:.1f} ms allowance, and at 44 offered the median p99 is "
           f"{g('admission.none_p99_ms_at_44'):,.0f} ms. With a cap at {cap} streams the p99 band is narrow and stays "
           f"between {g('admission.cap_p99_ms_lowest'):.1f} and {g('admission.cap_p99_ms_highest'):.1f} ms from 28 "
           f"offered upward. Right: the cap rejects a median {g('admission.rejected_pct_at_32'):.1f}% of sessions "
           f"at 32 offered, {g('admission.rejected_pct_at_36'):.1f}% at 36 and "
           f"{g('admission.rejected_pct_at_44'):.1f}% at 44, as Erlang's loss formula predicts.")
    head = ["offered_streams"]
    for key in ("none_p50", "none_p95", "none_p99", "cap_p50", "cap_p95", "cap_p99"):
        head += [f"{key}_ms_median", f"{key}_ms_min", f"{key}_ms_max"]
    head += ["rejected_share_median", "rejected_share_min", "rejected_share_max", "erlang_b", "none_mean_streams",
             "cap_mean_streams", "none_peak_streams_median", "none_peak_streams_max", "none_hours_over_saturation"]
    body = []
    for r in rows:
        line = [r["offered"]]
        for key in ("none_p50", "none_p95", "none_p99", "cap_p50", "cap_p95", "cap_p99"):
            line += [f"{v:.3f}" for v in r[key]]
        line += [f"{v:.5f}" for v in r["rejected"]]
        line += [f"{r['erlang_b']:.5f}", f"{r['none_mean']:.2f}", f"{r['cap_mean']:.2f}", f"{r['none_peak'][0]:.0f}",
                 f"{r['none_peak'][2]:.0f}", f"{r['none_hours_over']:.4f}"]
        body.append(line)
    table = charts.to_csv(head, body)
    chart_id = "admission-latency"
    return charts.Chart(chart_id, title, alt, charts.to_svg(fig, chart_id, title, alt), table)
