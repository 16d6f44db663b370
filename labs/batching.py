"""Lab: a discrete-event simulation of Triton's dynamic batcher, latency percentiles against offered load.

Chunks arrive as a Poisson process and wait in one queue shared by the model instances. Whenever an instance is
free and chunks are queued, the batcher applies Triton's rules (triton-batchers):
  - a batch of max_batch_size, or of the largest preferred size the queue can fill, is sent at once;
  - otherwise it waits, as long as no queued chunk has waited longer than max_queue_delay;
  - when the oldest chunk has waited that long, what is queued is sent as it is (up to max_batch_size).
A batch of b chunks then occupies its instance for t(b) from the reference system. Each instance is assumed to
run at that speed whatever the others do, as when each has its own GPU; instances sharing one GPU contend for it.

A common back-of-envelope takes window + t(max batch) as the bound on the latency a chunk pays. That holds only while
an instance is free when a batch is ready; under load a chunk also waits for a free instance, and the simulation
shows by how much. Points past saturation (load >= 1) have no steady state: their percentiles grow with the length
of the run, so the chart leaves them out and the CSV marks them.

Three more studies for Chapter 3, at the reference system's settings:
  - the queue-delay window, swept at the stream target and at the quietest hour, for one GPU and for a machine of
    several GPUs whose instances (one per GPU) share one queue;
  - arrivals shaped like streams (each stream sends one chunk per chunk interval at a random phase) against the
    Poisson arrivals of the main sweep, pooled over several draws of the phases, and a fixed tick (every chunk
    interval, run whatever is ready in batches of at most max_batch_size) against the dynamic batcher on those
    stream-shaped arrivals, with the wait for the tick alone reported beside the totals;
  - a roofline of the reference GPU: attainable FP16 tensor throughput against arithmetic intensity, with the
    recogniser's feed-forward and convolution layers (one new encoder frame per stream per step) and its attention
    key and value projections (recomputed over the cached left context plus the new frame at every step, as NeMo's
    cache-aware attention does) placed at batch sizes 1, the maximum batch and the stream target.
"""
from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Dynamic batching: latency percentiles against load"
DEPENDS: tuple[str, ...] = ()
PARAMS = {"arrivals": 200000, "warmup_fraction": 0.1, "seed": 20261130, "streams": list(range(2, 53, 2)),
          "windows_us": [0, 1000, 2000, 4000, 6000, 8000, 10000], "study_arrivals": 100000, "phase_draws": 5}
QUICK_PARAMS = {"arrivals": 3000, "warmup_fraction": 0.1, "seed": 20261130, "streams": [10, 30, 40, 48],
                "windows_us": [0, 2000, 10000], "study_arrivals": 3000, "phase_draws": 2}

# An older worked example (10 ms window, batch 8, three traffic levels), kept so the lab can show where its
# back-of-envelope bound fails.
@dataclass(frozen=True)
class Chapter3Example:
    """The old worked example: its batcher settings and its three traffic levels (chunks/s, instances)."""
    preferred_batch_sizes: tuple[int, ...] = (8,)
    max_batch_size: int = 8
    max_queue_delay_ms: float = 10.0
    cases: tuple[tuple[str, float, int], ...] = (("light", 50.0, 1), ("moderate", 300.0, 1), ("heavy", 1000.0, 3))


CHAPTER3 = Chapter3Example()

_COMPLETE, _TIMEOUT = 0, 1
_EPSILON_MS = 1e-9  # a timeout fires at exactly the deadline; floating point must not make it miss


@dataclass(frozen=True)
class BatcherConfig:
    max_batch_size: int
    preferred_batch_sizes: tuple[int, ...]
    max_queue_delay_ms: float
    instances: int

    @classmethod
    def from_reference(cls, system: ReferenceSystem) -> "BatcherConfig":
        return cls(int(system.number("batcher.max_batch_size")),
                   tuple(int(size) for size in system.numbers("batcher.preferred_batch_sizes")),
                   system.number("batcher.max_queue_delay_us") / 1000, int(system.number("batcher.instances")))

    def batch_to_send(self, queued: int, oldest_wait_ms: float) -> int | None:
        """Triton's decision when an instance is free: a batch size to send now, or None to keep waiting."""
        if queued >= self.max_batch_size:
            return self.max_batch_size
        fitting = [size for size in self.preferred_batch_sizes if size <= queued]
        if fitting:
            return max(fitting)
        if oldest_wait_ms + _EPSILON_MS >= self.max_queue_delay_ms:
            return queued
        return None


@dataclass(frozen=True)
class Simulation:
    queue_ms: np.ndarray    # per chunk: arrival to the start of its batch
    service_ms: np.ndarray  # per chunk: execution time of its batch
    batch_sizes: np.ndarray

    @property
    def latency_ms(self) -> np.ndarray:
        return self.queue_ms + self.service_ms


def simulate(rate_per_s: float, config: BatcherConfig, service_time_ms: Callable[[int], float], arrivals: int,
             seed: int | list[int], warmup_fraction: float = 0.1, arrival_ms: np.ndarray | None = None) -> Simulation:
    """Run the batcher on `arrivals` Poisson arrivals at `rate_per_s` (or on the sorted arrival times given as
    `arrival_ms`, when rate and seed are not used); the first warmup_fraction is discarded."""
    if arrival_ms is None:
        rng = np.random.default_rng(seed)
        arrival = np.cumsum(rng.exponential(1000.0 / rate_per_s, size=arrivals)).tolist()
    else:
        arrival, arrivals = [float(a) for a in arrival_ms], len(arrival_ms)
    queue_ms, service_ms, batches = [0.0] * arrivals, [0.0] * arrivals, []
    queue: deque[int] = deque()
    events: list[tuple[float, int, int]] = []
    free, sequence, pending_deadline, next_arrival = config.instances, 0, None, 0
    while next_arrival < arrivals or events:
        if events and (next_arrival >= arrivals or events[0][0] <= arrival[next_arrival]):
            now, kind, _ = heapq.heappop(events)
            free += kind == _COMPLETE
        else:
            now = arrival[next_arrival]
            queue.append(next_arrival)
            next_arrival += 1
        while free and queue:
            size = config.batch_to_send(len(queue), now - arrival[queue[0]])
            if size is None:
                deadline = arrival[queue[0]] + config.max_queue_delay_ms
                if deadline != pending_deadline:
                    sequence += 1
                    heapq.heappush(events, (deadline, _TIMEOUT, sequence))
                    pending_deadline = deadline
                break
            duration = service_time_ms(size)
            for _ in range(size):
                chunk = queue.popleft()
                queue_ms[chunk], service_ms[chunk] = now - arrival[chunk], duration
            batches.append(size)
            free -= 1
            sequence += 1
            heapq.heappush(events, (now + duration, _COMPLETE, sequence))
    start = int(arrivals * warmup_fraction)
    return Simulation(np.array(queue_ms[start:]), np.array(service_ms[start:]), np.array(batches))


def stream_arrivals(streams: int, chunk_ms: float, chunks: int, seed: int | list[int]) -> np.ndarray:
    """Sorted arrival times of `chunks` chunks from `streams` streams, each sending one chunk every chunk_ms from a
    random phase: the smoothest arrivals a fixed set of live streams can produce (no network jitter)."""
    rng = np.random.default_rng(seed)
    per_stream = -(-chunks // streams)
    phases = rng.uniform(0, chunk_ms, size=streams)
    times = phases[:, None] + chunk_ms * np.arange(per_stream)[None, :]
    return np.sort(times.ravel())[:chunks]


def tick_wait(arrival_ms: np.ndarray, interval_ms: float, warmup_fraction: float = 0.1) -> np.ndarray:
    """The wait for the next tick alone (a multiple of interval_ms), before any batch runs."""
    wait = np.ceil(arrival_ms / interval_ms) * interval_ms - arrival_ms
    return wait[int(len(wait) * warmup_fraction):]


def simulate_tick(arrival_ms: np.ndarray, interval_ms: float, max_batch: int,
                  service_time_ms: Callable[[int], float], warmup_fraction: float = 0.1) -> np.ndarray:
    """A chunk-synchronous scheduler on one instance: at every multiple of interval_ms, whatever arrived since the
    last tick runs, in batches of at most max_batch, one after the other. Returns each chunk's time in system."""
    ticks = np.ceil(arrival_ms / interval_ms) * interval_ms  # arrival_ms is sorted, so ticks are too
    latency = np.empty(len(arrival_ms))
    free_at = 0.0
    bounds = np.flatnonzero(np.diff(ticks)) + 1
    for members in np.split(np.arange(len(arrival_ms)), bounds):
        tick = ticks[members[0]]
        for start in range(0, len(members), max_batch):
            group = members[start:start + max_batch]
            free_at = max(tick, free_at) + service_time_ms(len(group))
            latency[group] = free_at - arrival_ms[group]
    return latency[int(len(latency) * warmup_fraction):]


def percentiles(samples: np.ndarray) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(samples, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def run(system: ReferenceSystem, deps: dict, *, arrivals: int, warmup_fraction: float, seed: int,
        streams: list[int], windows_us: list[int], study_arrivals: int, phase_draws: int = 5) -> LabResult:
    config = BatcherConfig.from_reference(system)
    chunks_per_stream = system.number("audio.chunks_per_second")
    capacity = system.number("batcher.capacity_chunks_per_s")
    target = int(system.number("capacity.streams_per_gpu"))
    bound = config.max_queue_delay_ms + system.service_time_ms(config.max_batch_size)
    sweep = sorted(set(streams) | {target})

    rows = []
    at_target = None
    for index, count in enumerate(sweep):
        result = simulate(count * chunks_per_stream, config, system.service_time_ms, arrivals, [seed, index],
                          warmup_fraction)
        p50, p95, p99 = percentiles(result.latency_ms)
        rows.append({"streams": count, "chunks_per_s": count * chunks_per_stream,
                     "load": count * chunks_per_stream / capacity, "p50": p50, "p95": p95, "p99": p99,
                     "queue_p95": percentiles(result.queue_ms)[1], "mean_batch": float(result.batch_sizes.mean()),
                     "over_bound": float(np.mean(result.latency_ms > bound)),
                     "steady": count * chunks_per_stream / capacity < 1})
        if count == target:
            at_target = result

    knee = _knee(rows)
    holds_to = max((r["streams"] for r in rows if r["p99"] <= bound), default=0)
    queue_budget = system.number("budget.queue_p95_ms")
    within_budget = max((r["streams"] for r in rows if r["queue_p95"] <= queue_budget and r["load"] < 1), default=0)
    budget_row = next(r for r in rows if r["streams"] == within_budget) if within_budget else rows[0]
    over_row = next((r for r in rows if r["streams"] > within_budget), rows[-1])
    target_row = next(r for r in rows if r["streams"] == target)
    chapter3 = _chapter3_check(system, arrivals, seed, warmup_fraction)
    assert at_target is not None, "the sweep includes the target number of streams"
    service_p95 = percentiles(at_target.service_ms)[1]

    found = values(
        ("batching.capacity_chunks_per_s", capacity, "chunks/s", "Batched capacity of the instances, every batch full"),
        ("batching.bound_ms", bound, "ms", "The back-of-envelope bound: the queue-delay window plus t(max_batch_size)"),
        ("batching.target_streams", target, "streams", "The stream target per GPU the values 'at target' are for"),
        ("batching.load_at_target", target_row["load"], "1", "Offered load at the target as a share of capacity"),
        ("batching.p50_ms_at_target", target_row["p50"], "ms", "Median chunk latency (queue + batch) at the target"),
        ("batching.p95_ms_at_target", target_row["p95"], "ms", "p95 chunk latency (queue + batch) at the target"),
        ("batching.p99_ms_at_target", target_row["p99"], "ms", "p99 chunk latency (queue + batch) at the target"),
        ("batching.queue_p95_ms_at_target", target_row["queue_p95"], "ms", "p95 queue wait at the target"),
        ("batching.service_p95_ms_at_target", service_p95, "ms", "p95 of the batch execution time at the target"),
        ("batching.mean_batch_at_target", target_row["mean_batch"], "chunks", "Mean batch size at the target"),
        ("batching.share_over_bound_at_target", target_row["over_bound"], "1",
         "Share of chunks at the target whose latency exceeds the back-of-envelope bound"),
        ("batching.bound_holds_up_to_streams", holds_to, "streams",
         "Most streams per GPU in the sweep at which p99 latency stays within the back-of-envelope bound"),
        ("batching.knee_streams", knee, "streams",
         "The queue's bend: fewest streams per GPU at which chunk-latency p99 is more than twice its value at the "
         "lightest load (Chapter 1's knee is on end-to-end word-to-text latency)"),
        ("batching.max_streams_within_queue_budget", within_budget, "streams",
         "Most streams per GPU whose queue-wait p95 stays within the queue allowance (budget.queue_p95_ms)"),
        ("batching.load_at_queue_budget_limit", budget_row["load"], "1",
         "Offered load, as a share of batched capacity, at the most streams whose queue-wait p95 is within allowance"),
        ("batching.first_streams_over_queue_budget", over_row["streams"], "streams",
         "Fewest streams per GPU in the sweep whose queue-wait p95 exceeds the queue allowance"),
        ("batching.queue_p95_ms_over_budget", over_row["queue_p95"], "ms",
         "Queue-wait p95 at the fewest streams per GPU that exceed the queue allowance"),
        ("batching.load_over_budget", over_row["load"], "1",
         "Offered load at the fewest streams per GPU that exceed the queue allowance"),
        ("batching.max_batch_share_of_interval", system.service_time_ms(config.max_batch_size)
         / system.number("audio.chunk_ms"), "1",
         "Execution time of a full batch as a share of the chunk interval: the longest any one step can take"),
        *chapter3,
    )
    chart = _chart(rows, bound, target, system, found)
    window_rows, window_values = _window_study(system, windows_us, study_arrivals, seed, warmup_fraction)
    shape_values = _arrival_shape_study(system, study_arrivals, seed, warmup_fraction, target_row, phase_draws)
    roof_rows, roof_values = _roofline(system)
    found.update(values(*window_values, *shape_values, *roof_values))
    return LabResult(found, (chart, _window_chart(window_rows, system, found), _roofline_chart(roof_rows, system, found)))


def _knee(rows: list[dict]) -> int:
    baseline = rows[0]["p99"]
    return next((r["streams"] for r in rows if r["p99"] > 2 * baseline), rows[-1]["streams"])


def _chapter3_check(system: ReferenceSystem, arrivals: int, seed: int, warmup_fraction: float) -> list[tuple]:
    """Chapter 3's three traffic levels, simulated with its own settings and the reference t(b)."""
    bound = CHAPTER3.max_queue_delay_ms + system.service_time_ms(CHAPTER3.max_batch_size)
    entries = [("batching.ch3_bound_ms", bound, "ms", "The old worked example's bound: 10 ms window plus t(8)")]
    for index, (case, rate, instances) in enumerate(CHAPTER3.cases):
        config = BatcherConfig(CHAPTER3.max_batch_size, CHAPTER3.preferred_batch_sizes,
                               CHAPTER3.max_queue_delay_ms, instances)
        result = simulate(rate, config, system.service_time_ms, arrivals, [seed, 1000 + index], warmup_fraction)
        p50, p95, p99 = percentiles(result.latency_ms)
        label = f"the old worked example's {case} case ({rate:g} chunks/s, {instances} instance{'s' * (instances > 1)})"
        entries += [
            (f"batching.ch3_{case}_p50_ms", p50, "ms", f"Median chunk latency in {label}"),
            (f"batching.ch3_{case}_p99_ms", p99, "ms", f"p99 chunk latency in {label}"),
            (f"batching.ch3_{case}_mean_batch", float(result.batch_sizes.mean()), "chunks", f"Mean batch in {label}"),
            (f"batching.ch3_{case}_share_over_bound", float(np.mean(result.latency_ms > bound)), "1",
             f"Share of chunks over the bound in {label}"),
        ]
    return entries


def _chart(rows: list[dict], bound: float, target: int, system: ReferenceSystem, found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 4.2)
    steady = [r for r in rows if r["steady"]]
    x = [r["streams"] for r in steady]
    for style, (name, label) in zip(charts.SERIES, (("p50", "p50"), ("p95", "p95"), ("p99", "p99"))):
        ax.plot(x, [r[name] for r in steady], label=label, **style)
    capacity_streams = system.number("capacity.streams_at_saturation")
    ax.axvspan(capacity_streams, rows[-1]["streams"] + 1, color=charts.INK, alpha=0.08, linewidth=0)
    ax.annotate("no steady state:\nthe queue grows\nwithout limit", (capacity_streams, 0.5), xytext=(4, 0),
                textcoords="offset points", xycoords=("data", "axes fraction"), fontsize=9)
    ax.axhline(bound, color=charts.ACCENT, linestyle="-.", linewidth=1.4)
    ax.annotate(f"back-of-envelope bound: window + t({int(system.number('batcher.max_batch_size'))}) = {bound:.1f} ms",
                (x[0], bound), xytext=(0, 4), textcoords="offset points", color=charts.ACCENT, fontsize=9)
    ax.axvline(target, color=charts.INK, linestyle=(0, (1, 3)), linewidth=1)
    ax.annotate(f"target: {target} streams", (target, 0), xytext=(-4, 4), textcoords="offset points",
                xycoords=("data", "axes fraction"), ha="right", fontsize=9)
    top = max(3 * bound, 1.3 * found["batching.p99_ms_at_target"].value)
    ax.set_ylim(0, top)
    ax.set_xlim(0, rows[-1]["streams"] + 1)
    ax.set_xlabel(f"Concurrent streams per GPU ({system.get('audio.chunk_ms').format()} chunks)")
    ax.set_ylabel("Chunk latency, queue + batch (ms)")
    ax.set_title(f"Latency against load: {int(system.number('batcher.instances'))} instance, "
                 f"max batch {int(system.number('batcher.max_batch_size'))}, "
                 f"window {system.number('batcher.max_queue_delay_us') / 1000:g} ms "
                 f"(saturates at {capacity_streams:.0f} streams)", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(0, 0.9))
    title = "Dynamic batching: chunk latency percentiles against concurrent streams per GPU"
    alt = (f"Line chart of p50, p95 and p99 chunk latency against streams per GPU. p99 stays within the "
           f"back-of-envelope {bound:.1f} ms bound up to {found['batching.bound_holds_up_to_streams'].value} streams, "
           f"then climbs: the queue's bend, where p99 doubles, is at about {found['batching.knee_streams'].value} "
           f"streams, and at the {target}-stream target p99 is {found['batching.p99_ms_at_target'].value:.0f} ms with "
           f"{found['batching.share_over_bound_at_target'].value:.1%} of chunks over the bound; past "
           f"{capacity_streams:.1f} streams there is no steady state, so no points are drawn there.")
    table = charts.to_csv(["streams", "chunks_per_s", "load", "p50_ms", "p95_ms", "p99_ms", "queue_p95_ms",
                           "mean_batch", "share_over_bound", "steady_state"],
                          [[r["streams"], f"{r['chunks_per_s']:.1f}", f"{r['load']:.4f}", f"{r['p50']:.3f}",
                            f"{r['p95']:.3f}", f"{r['p99']:.3f}", f"{r['queue_p95']:.3f}", f"{r['mean_batch']:.3f}",
                            f"{r['over_bound']:.5f}",
                            "yes" if r["steady"] else "no: percentiles grow with the run length"] for r in rows])
    chart_id = "batching-latency-vs-load"
    return charts.Chart(chart_id, title, alt, charts.to_svg(fig, chart_id, title, alt), table)


# --- the window study: one GPU, and several GPUs sharing one queue ---------------------------------------------

def _window_study(system: ReferenceSystem, windows_us: list[int], arrivals: int, seed: int,
                  warmup_fraction: float) -> tuple[list[dict], list[tuple]]:
    """p50/p99 against the queue-delay window: one GPU at the stream target, a machine of several GPUs (one instance
    each, one shared queue) at the target per GPU, and the same machine at the quietest hour of the day."""
    chunks_per_stream = system.number("audio.chunks_per_second")
    target = int(system.number("capacity.streams_per_gpu"))
    gpus = int(system.number("gpu_pool.gpus_per_machine"))
    quiet = min(system.numbers("traffic.daily_profile"))
    reference_window_us = int(system.number("batcher.max_queue_delay_us"))
    windows = sorted(set(windows_us) | {0, reference_window_us})
    max_batch = int(system.number("batcher.max_batch_size"))
    preferred = tuple(int(size) for size in system.numbers("batcher.preferred_batch_sizes"))
    cases = (("one_gpu", 1, target * chunks_per_stream),
             ("pool", gpus, gpus * target * chunks_per_stream),
             ("pool_quiet", gpus, gpus * target * quiet * chunks_per_stream))
    rows = []
    for case_index, (case, instances, rate) in enumerate(cases):
        for window in windows:
            config = BatcherConfig(max_batch, preferred, window / 1000, instances)
            result = simulate(rate, config, system.service_time_ms, arrivals, [seed, 2000 + case_index, window],
                              warmup_fraction)
            p50, p95, p99 = percentiles(result.latency_ms)
            rows.append({"case": case, "instances": instances, "chunks_per_s": rate, "window_us": window,
                         "p50": p50, "p95": p95, "p99": p99, "mean_batch": float(result.batch_sizes.mean())})

    def row(case: str, window: int) -> dict:
        return next(r for r in rows if r["case"] == case and r["window_us"] == window)

    labels = {"one_gpu": "one GPU at the stream target",
              "pool": f"{gpus} GPUs sharing one queue, each at the stream target",
              "pool_quiet": f"{gpus} GPUs sharing one queue at the quietest hour ({quiet:.0%} of peak)"}
    found = [("batching.pool_gpus", gpus, "GPUs", "GPUs whose instances share one queue in the window study"),
             ("batching.quiet_streams_per_gpu", target * quiet, "streams",
              "Streams per GPU at the quietest hour of the daily profile"),
             ("batching.window_max_us", max(windows), "us", "Longest queue-delay window in the window study")]
    for case, label in labels.items():
        for window, name in ((0, "zero"), (reference_window_us, "ref"), (max(windows), "max")):
            r = row(case, window)
            found += [(f"batching.{case}_p50_ms_window_{name}", r["p50"], "ms",
                       f"Median chunk latency, {label}, {window / 1000:g} ms window"),
                      (f"batching.{case}_p99_ms_window_{name}", r["p99"], "ms",
                       f"p99 chunk latency, {label}, {window / 1000:g} ms window"),
                      (f"batching.{case}_mean_batch_window_{name}", r["mean_batch"], "chunks",
                       f"Mean batch, {label}, {window / 1000:g} ms window")]
    return rows, found


def _window_chart(rows: list[dict], system: ReferenceSystem, found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 4.0)
    gpus = int(found["batching.pool_gpus"].value)
    target = int(system.number("capacity.streams_per_gpu"))
    quiet = found["batching.quiet_streams_per_gpu"].value
    labels = {"one_gpu": f"1 GPU, {target} streams",
              "pool": f"{gpus} GPUs, one queue, {target} streams each",
              "pool_quiet": f"{gpus} GPUs, one queue, {quiet:.1f} streams each (quietest hour)"}
    for style, case in zip(charts.SERIES, labels):
        series = [r for r in rows if r["case"] == case]
        ax.plot([r["window_us"] / 1000 for r in series], [r["p99"] for r in series], label=labels[case], **style)
    reference = system.number("batcher.max_queue_delay_us") / 1000
    ax.axvline(reference, color=charts.ACCENT, linestyle="-.", linewidth=1.2)
    ax.annotate(f"reference window: {reference:g} ms", (reference, 0), xytext=(4, 4), textcoords="offset points",
                xycoords=("data", "axes fraction"), color=charts.ACCENT, fontsize=9)
    ax.set_ylim(0, 1.6 * max(r["p99"] for r in rows))
    ax.set_xlabel("Queue-delay window, max_queue_delay_microseconds (ms)")
    ax.set_ylabel("p99 chunk latency, queue + batch (ms)")
    ax.set_title(f"p99 against the batching window: max batch {int(system.number('batcher.max_batch_size'))}, "
                 f"Poisson arrivals", loc="left")
    ax.legend(loc="upper right")
    title = "Dynamic batching: p99 chunk latency against the queue-delay window, one GPU and a shared queue"
    v = lambda key: found[key].value  # noqa: E731
    alt = (f"Line chart of p99 chunk latency against the queue-delay window from 0 to "
           f"{v('batching.window_max_us') / 1000:g} ms. One GPU at {target} streams stays near "
           f"{v('batching.one_gpu_p99_ms_window_zero'):.0f} ms whatever the window. {gpus} GPUs sharing one queue at "
           f"{target} streams each stay lower, near {v('batching.pool_p99_ms_window_zero'):.0f} ms. At the quietest hour "
           f"the same machine goes from {v('batching.pool_quiet_p99_ms_window_zero'):.0f} ms with no window to "
           f"{v('batching.pool_quiet_p99_ms_window_max'):.0f} ms with the longest one: the window costs latency "
           f"when traffic is light and changes little under load.")
    table = charts.to_csv(["case", "instances", "chunks_per_s", "window_us", "p50_ms", "p95_ms", "p99_ms",
                           "mean_batch"],
                          [[r["case"], r["instances"], f"{r['chunks_per_s']:.1f}", r["window_us"], f"{r['p50']:.3f}",
                            f"{r['p95']:.3f}", f"{r['p99']:.3f}", f"{r['mean_batch']:.3f}"] for r in rows])
    chart_id = "batching-window"
    return charts.Chart(chart_id, title, alt, charts.to_svg(fig, chart_id, title, alt), table)


# --- arrivals shaped like streams, and the fixed tick -------------------------------------------------------------

def _arrival_shape_study(system: ReferenceSystem, arrivals: int, seed: int, warmup_fraction: float,
                         poisson_row: dict, phase_draws: int) -> list[tuple]:
    """At the stream target on one GPU: the reference batcher on stream-shaped arrivals, and a fixed tick, each
    pooled over `phase_draws` draws of the streams' phases (one draw alone sits anywhere in a range of p99s)."""
    chunk_ms = system.number("audio.chunk_ms")
    target = int(system.number("capacity.streams_per_gpu"))
    config = BatcherConfig.from_reference(system)
    shaped, ticks, waits, draw_p99 = [], [], [], []
    for draw in range(phase_draws):
        times = stream_arrivals(target, chunk_ms, arrivals, [seed, 3000, draw])
        latency = simulate(0, config, system.service_time_ms, 0, 0, warmup_fraction, arrival_ms=times).latency_ms
        shaped.append(latency)
        draw_p99.append(percentiles(latency)[2])
        ticks.append(simulate_tick(times, chunk_ms, config.max_batch_size, system.service_time_ms, warmup_fraction))
        waits.append(tick_wait(times, chunk_ms, warmup_fraction))
    _, s95, s99 = percentiles(np.concatenate(shaped))
    t50, t95, t99 = percentiles(np.concatenate(ticks))
    w50, w95, _ = percentiles(np.concatenate(waits))
    label = f"pooled over {phase_draws} draws of the phases"
    return [
        ("batching.phase_draws", phase_draws, "draws", "Draws of the streams' phases pooled in the stream-shaped study"),
        ("batching.streams_p95_ms_at_target", s95, "ms",
         f"p95 chunk latency at the target when each stream sends one chunk per interval (random phases, {label})"),
        ("batching.streams_p99_ms_at_target", s99, "ms",
         f"p99 chunk latency at the target when each stream sends one chunk per interval (random phases, {label})"),
        ("batching.streams_p99_ms_min", min(draw_p99), "ms",
         "Lowest p99 chunk latency of any one draw of the phases, stream-shaped arrivals at the target"),
        ("batching.streams_p99_ms_max", max(draw_p99), "ms",
         "Highest p99 chunk latency of any one draw of the phases, stream-shaped arrivals at the target"),
        ("batching.tick_wait_p50_ms_at_target", w50, "ms",
         "Median wait for the next tick alone, before any batch runs, stream-shaped arrivals at the target"),
        ("batching.tick_wait_p95_ms_at_target", w95, "ms",
         "p95 wait for the next tick alone, before any batch runs, stream-shaped arrivals at the target"),
        ("batching.poisson_p99_ms_at_target", poisson_row["p99"], "ms",
         "p99 chunk latency at the target with Poisson arrivals (the main sweep)"),
        ("batching.tick_p50_ms_at_target", t50, "ms",
         "Median chunk latency at the target under a fixed tick every chunk interval (ready chunks run in batches of "
         "at most max_batch_size, one after the other), stream-shaped arrivals"),
        ("batching.tick_p95_ms_at_target", t95, "ms",
         "p95 chunk latency at the target under a fixed tick every chunk interval (batches of at most "
         "max_batch_size), stream-shaped arrivals"),
        ("batching.tick_p99_ms_at_target", t99, "ms",
         "p99 chunk latency at the target under a fixed tick every chunk interval (batches of at most "
         "max_batch_size), stream-shaped arrivals"),
    ]


# --- the roofline of the reference GPU ----------------------------------------------------------------------------

FF_CONV, KV = "feed-forward and convolution layers", "attention key and value projections"


def _roofline(system: ReferenceSystem) -> tuple[list[dict], list[tuple]]:
    """Attainable throughput = min(peak, bandwidth x intensity). A linear layer of the recogniser does 2 FLOP per
    weight for each frame it processes in the batch and reads each weight once per batch, so its intensity is
    2 x frames per stream per step x batch / bytes per weight. The feed-forward and convolution layers, which hold
    most of the weights, process only the new frames. The cache-aware encoder caches each attention layer's input
    for its left context, not keys and values, and recomputes the key and value projections over the cache plus
    the new frames at every step, so those projections process left context + new frames per stream. (The cached
    activations are also read per stream, which batching does not share; the intensities here count weights only.)"""
    bandwidth = system.number("gpu.memory_bandwidth_gb_s") * 1e9        # B/s
    peak = system.number("gpu.fp16_tensor_tflops_dense") * 1e12          # FLOP/s
    bytes_per_weight = system.number("model.bytes_per_parameter")
    frames = system.number("audio.chunk_ms") / system.number("model.encoder_frame_ms")
    context = system.number("model.attention_left_context_frames") + frames
    ridge = peak / bandwidth
    per_batch = 2 * frames / bytes_per_weight                              # FLOP/B for each chunk in the batch
    kv_per_batch = 2 * context / bytes_per_weight
    batches = sorted({1, int(system.number("batcher.max_batch_size")), int(system.number("capacity.streams_per_gpu"))})
    rows: list[dict[str, Any]] = []
    for layers, factor in ((FF_CONV, per_batch), (KV, kv_per_batch)):
        for batch in batches:
            intensity = factor * batch
            rows.append({"layers": layers, "batch": batch, "intensity": intensity,
                         "tflops": min(peak, bandwidth * intensity) / 1e12,
                         "share_of_peak": min(peak, bandwidth * intensity) / peak})
    target = int(system.number("capacity.streams_per_gpu"))
    at_target: dict[str, float] = next(r for r in rows if r["batch"] == target and r["layers"] == FF_CONV)
    kv_at_target: dict[str, float] = next(r for r in rows if r["batch"] == target and r["layers"] == KV)
    weights_ms = system.number("model.weights_gb") * 1e9 / bandwidth * 1000
    found = [
        ("batching.ridge_flop_per_b", ridge, "FLOP/B",
         "Ridge point of the reference GPU: peak dense FP16 tensor throughput over memory bandwidth"),
        ("batching.intensity_flop_per_b_at_target", at_target["intensity"], "FLOP/B",
         "Arithmetic intensity of the recogniser's feed-forward and convolution layers with one chunk from every "
         "stream at the target"),
        ("batching.share_of_peak_at_target", at_target["share_of_peak"], "1",
         "Share of peak FP16 tensor throughput the feed-forward and convolution layers can reach at the target "
         "(memory-bound below the ridge)"),
        ("batching.ridge_over_intensity_at_target", ridge / at_target["intensity"], "1",
         "How many times the ridge point exceeds the feed-forward and convolution layers' intensity at the target"),
        ("batching.batch_at_ridge", ridge / per_batch, "chunks",
         "Batch of chunks at which the feed-forward and convolution layers would reach the ridge point"),
        ("batching.attention_frames_per_step", context, "frames",
         "Frames per stream the attention key and value projections process at each step: left context plus new"),
        ("batching.kv_intensity_flop_per_b_at_target", kv_at_target["intensity"], "FLOP/B",
         "Arithmetic intensity of the attention key and value projections with one chunk from every stream"),
        ("batching.kv_batch_at_ridge", ridge / kv_per_batch, "chunks",
         "Batch of chunks at which the attention key and value projections reach the ridge point"),
        ("batching.weights_read_ms", weights_ms, "ms",
         "Time to read the recogniser's weights once at peak memory bandwidth, the floor of any step"),
    ]
    return rows, found


def _roofline_chart(rows: list[dict], system: ReferenceSystem, found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 4.0)
    bandwidth = system.number("gpu.memory_bandwidth_gb_s")
    peak = system.number("gpu.fp16_tensor_tflops_dense")
    ridge = found["batching.ridge_flop_per_b"].value
    xs = np.logspace(-1, 12, 200, base=2)
    roof = np.minimum(peak, bandwidth * xs / 1000)
    ax.plot(xs, roof, color=charts.INK, linewidth=1.8, label=f"{system.value('gpu.name')} roof, FP16 tensor (dense)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=10)
    ax.axvline(ridge, color=charts.ACCENT, linestyle="-.", linewidth=1.2)
    ax.annotate(f"ridge: {ridge:.0f} FLOP/B", (ridge, peak), xytext=(6, -40), textcoords="offset points",
                ha="left", color=charts.ACCENT, fontsize=9)
    for style, layers in zip(charts.SERIES[1:], (FF_CONV, KV)):
        points = [r for r in rows if r["layers"] == layers]
        ax.plot([r["intensity"] for r in points], [r["tflops"] for r in points], linestyle="none",
                marker=style["marker"], color=style["color"], markersize=7, label=f"recogniser's {layers}, FP16")
        for r in points:
            ax.annotate(f"batch {r['batch']}: {r['tflops']:.1f} TFLOPS", (r["intensity"], r["tflops"]),
                        xytext=(6, -12) if layers == FF_CONV else (-6, 6), ha="left" if layers == FF_CONV else "right",
                        textcoords="offset points", fontsize=9)
    ax.set_xlim(0.5, 8192)
    ax.set_ylim(0.1, peak * 2.5)
    ax.set_xlabel("Arithmetic intensity (FLOP per byte of memory traffic)")
    ax.set_ylabel("Attainable throughput (TFLOPS)")
    ax.set_title(f"Roofline of one {system.value('gpu.name')}: {bandwidth:g} GB/s, {peak:g} TFLOPS dense FP16",
                 loc="left")
    ax.legend(loc="upper left")
    target = int(system.number("capacity.streams_per_gpu"))
    title = (f"Roofline of the reference GPU with the recogniser's feed-forward and convolution layers and its "
             f"attention key and value projections at batch sizes up to {target}")
    alt = (f"Log-log roofline: attainable throughput rises with arithmetic intensity at {bandwidth:g} GB/s until the "
           f"ridge at {ridge:.0f} FLOP per byte, then stays flat at {peak:g} TFLOPS. The recogniser's {FF_CONV} "
           f"in FP16 sit far left of the ridge: "
           + ", ".join(f"batch {r['batch']} at {r['intensity']:.0f} FLOP/B reaches {r['tflops']:.1f} TFLOPS"
                       for r in rows if r["layers"] == FF_CONV)
           + f". At the {target}-stream target they are still memory-bound, about "
           f"{found['batching.ridge_over_intensity_at_target'].value:.0f} times below the ridge. Its {KV}, which "
           f"recompute over {found['batching.attention_frames_per_step'].value:.0f} frames per stream at every step, "
           f"cross the ridge at a batch of about {found['batching.kv_batch_at_ridge'].value:.0f}: "
           + ", ".join(f"batch {r['batch']} at {r['intensity']:.0f} FLOP/B reaches {r['tflops']:.1f} TFLOPS"
                       for r in rows if r["layers"] == KV) + ".")
    table = charts.to_csv(["batch", "intensity_flop_per_b", "attainable_tflops", "share_of_peak", "layers"],
                          [[r["batch"], f"{r['intensity']:.2f}", f"{r['tflops']:.3f}", f"{r['share_of_peak']:.4f}",
                            r["layers"]] for r in rows])
    chart_id = "gpu-roofline"
    return charts.Chart(chart_id, title, alt, charts.to_svg(fig, chart_id, title, alt), table)
