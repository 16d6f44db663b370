"""Lab: a discrete-event simulation of Triton's dynamic batcher, latency percentiles against offered load.

Chunks arrive as a Poisson process and wait in one queue shared by the model instances. Whenever an instance is
free and chunks are queued, the batcher applies Triton's rules (triton-batchers):
  - a batch of max_batch_size, or of the largest preferred size the queue can fill, is sent at once;
  - otherwise it waits, as long as no queued chunk has waited longer than max_queue_delay;
  - when the oldest chunk has waited that long, what is queued is sent as it is (up to max_batch_size).
A batch of b chunks then occupies its instance for t(b) from the reference system. Each instance is assumed to
run at that speed whatever the others do, as when each has its own GPU; instances sharing one GPU contend for it.

Chapter 3 presents window + t(max batch) as the bound on the latency a chunk pays. That holds only while an
instance is free when a batch is ready; under load a chunk also waits for a free instance, and the simulation
shows by how much.
"""
from __future__ import annotations

import heapq
from collections import deque
from dataclasses import dataclass
from typing import Callable

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Dynamic batching: latency percentiles against load"
DEPENDS: tuple[str, ...] = ()
PARAMS = {"arrivals": 200000, "warmup_fraction": 0.1, "seed": 20261130, "streams": list(range(2, 53, 2))}
QUICK_PARAMS = {"arrivals": 3000, "warmup_fraction": 0.1, "seed": 20261130, "streams": [10, 30, 40, 48]}

# Chapter 3's worked example, kept as it is printed there so the lab can check its claims.
@dataclass(frozen=True)
class Chapter3Example:
    """Chapter 3's worked example: its batcher settings and its three traffic levels (chunks/s, instances)."""
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
             seed: int | list[int], warmup_fraction: float = 0.1) -> Simulation:
    """Run the batcher on `arrivals` Poisson arrivals at `rate_per_s`; the first warmup_fraction is discarded."""
    rng = np.random.default_rng(seed)
    arrival = np.cumsum(rng.exponential(1000.0 / rate_per_s, size=arrivals)).tolist()
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


def percentiles(samples: np.ndarray) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(samples, [50, 95, 99])
    return float(p50), float(p95), float(p99)


def run(system: ReferenceSystem, deps: dict, *, arrivals: int, warmup_fraction: float, seed: int,
        streams: list[int]) -> LabResult:
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
                     "over_bound": float(np.mean(result.latency_ms > bound))})
        if count == target:
            at_target = result

    knee = _knee(rows)
    holds_to = max((r["streams"] for r in rows if r["p99"] <= bound), default=0)
    queue_budget = system.number("budget.queue_p95_ms")
    within_budget = max((r["streams"] for r in rows if r["queue_p95"] <= queue_budget and r["load"] < 1), default=0)
    target_row = next(r for r in rows if r["streams"] == target)
    chapter3 = _chapter3_check(system, arrivals, seed, warmup_fraction)
    assert at_target is not None, "the sweep includes the target number of streams"
    service_p95 = percentiles(at_target.service_ms)[1]

    found = values(
        ("batching.capacity_chunks_per_s", capacity, "chunks/s", "Batched capacity of the instances, every batch full"),
        ("batching.bound_ms", bound, "ms", "Chapter 3's bound: the queue-delay window plus t(max_batch_size)"),
        ("batching.target_streams", target, "streams", "The stream target per GPU the values 'at target' are for"),
        ("batching.load_at_target", target_row["load"], "1", "Offered load at the target as a share of capacity"),
        ("batching.p50_ms_at_target", target_row["p50"], "ms", "Median chunk latency (queue + batch) at the target"),
        ("batching.p95_ms_at_target", target_row["p95"], "ms", "p95 chunk latency (queue + batch) at the target"),
        ("batching.p99_ms_at_target", target_row["p99"], "ms", "p99 chunk latency (queue + batch) at the target"),
        ("batching.queue_p95_ms_at_target", target_row["queue_p95"], "ms", "p95 queue wait at the target"),
        ("batching.service_p95_ms_at_target", service_p95, "ms", "p95 of the batch execution time at the target"),
        ("batching.mean_batch_at_target", target_row["mean_batch"], "chunks", "Mean batch size at the target"),
        ("batching.share_over_bound_at_target", target_row["over_bound"], "1",
         "Share of chunks at the target whose latency exceeds Chapter 3's bound"),
        ("batching.bound_holds_up_to_streams", holds_to, "streams",
         "Most streams per GPU in the sweep at which p99 latency stays within Chapter 3's bound"),
        ("batching.knee_streams", knee, "streams",
         "The knee: fewest streams per GPU at which p99 is more than twice its value at the lightest load"),
        ("batching.max_streams_within_queue_budget", within_budget, "streams",
         "Most streams per GPU whose queue-wait p95 stays within the budget's stated queue target"),
        *chapter3,
    )
    chart = _chart(rows, bound, target, system, found)
    return LabResult(found, (chart,))


def _knee(rows: list[dict]) -> int:
    baseline = rows[0]["p99"]
    return next((r["streams"] for r in rows if r["p99"] > 2 * baseline), rows[-1]["streams"])


def _chapter3_check(system: ReferenceSystem, arrivals: int, seed: int, warmup_fraction: float) -> list[tuple]:
    """Chapter 3's three traffic levels, simulated with its own settings and the reference t(b)."""
    bound = CHAPTER3.max_queue_delay_ms + system.service_time_ms(CHAPTER3.max_batch_size)
    entries = [("batching.ch3_bound_ms", bound, "ms", "Chapter 3's example bound: 10 ms window plus t(8)")]
    for index, (case, rate, instances) in enumerate(CHAPTER3.cases):
        config = BatcherConfig(CHAPTER3.max_batch_size, CHAPTER3.preferred_batch_sizes,
                               CHAPTER3.max_queue_delay_ms, instances)
        result = simulate(rate, config, system.service_time_ms, arrivals, [seed, 1000 + index], warmup_fraction)
        p50, p95, p99 = percentiles(result.latency_ms)
        label = f"Chapter 3's {case} case ({rate:g} chunks/s, {instances} instance{'s' * (instances > 1)})"
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
    x = [r["streams"] for r in rows]
    for style, (name, label) in zip(charts.SERIES, (("p50", "p50"), ("p95", "p95"), ("p99", "p99"))):
        ax.plot(x, [r[name] for r in rows], label=label, **style)
    ax.axhline(bound, color=charts.ACCENT, linestyle="-.", linewidth=1.4)
    ax.annotate(f"Chapter 3's bound: window + t({int(system.number('batcher.max_batch_size'))}) = {bound:.1f} ms",
                (x[0], bound), xytext=(0, 4), textcoords="offset points", color=charts.ACCENT, fontsize=9)
    ax.axvline(target, color=charts.INK, linestyle=(0, (1, 3)), linewidth=1)
    ax.annotate(f"target: {target} streams", (target, 0), xytext=(-4, 4), textcoords="offset points",
                xycoords=("data", "axes fraction"), ha="right", fontsize=9)
    top = max(3 * bound, 1.3 * found["batching.p99_ms_at_target"].value)
    ax.set_ylim(0, top)
    ax.set_xlim(0, x[-1] + 1)
    ax.set_xlabel(f"Concurrent streams per GPU ({system.get('audio.chunk_ms').format()} chunks)")
    ax.set_ylabel("Chunk latency, queue + batch (ms)")
    capacity_streams = system.number("capacity.streams_at_saturation")
    ax.set_title(f"Latency against load: {int(system.number('batcher.instances'))} instance, "
                 f"max batch {int(system.number('batcher.max_batch_size'))}, "
                 f"window {system.number('batcher.max_queue_delay_us') / 1000:g} ms "
                 f"(saturates at {capacity_streams:.0f} streams)", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(0, 0.9))
    title = "Dynamic batching: chunk latency percentiles against concurrent streams per GPU"
    alt = (f"Line chart of p50, p95 and p99 chunk latency against streams per GPU. p99 stays within Chapter 3's "
           f"{bound:.1f} ms bound up to {found['batching.bound_holds_up_to_streams'].value} streams, then climbs: "
           f"the knee is at about {found['batching.knee_streams'].value} streams, and at the {target}-stream "
           f"target p99 is {found['batching.p99_ms_at_target'].value:.0f} ms with "
           f"{found['batching.share_over_bound_at_target'].value:.1%} of chunks over the bound; "
           f"past {capacity_streams:.0f} streams the queue grows without limit.")
    table = charts.to_csv(["streams", "chunks_per_s", "load", "p50_ms", "p95_ms", "p99_ms", "queue_p95_ms",
                           "mean_batch", "share_over_bound"],
                          [[r["streams"], f"{r['chunks_per_s']:.1f}", f"{r['load']:.4f}", f"{r['p50']:.3f}",
                            f"{r['p95']:.3f}", f"{r['p99']:.3f}", f"{r['queue_p95']:.3f}", f"{r['mean_batch']:.3f}",
                            f"{r['over_bound']:.5f}"] for r in rows])
    chart_id = "batching-latency-vs-load"
    return charts.Chart(chart_id, title, alt, charts.to_svg(fig, chart_id, title, alt), table)
