"""Lab: the case study's arithmetic (Chapter 13). What a fixed stream cap does on a GPU that has slowed down, and
how much of the morning's demand a region's overnight fleet can hold when it cannot launch GPUs.

The slow GPU (a seeded simulation on the batching lab's model of Triton's dynamic batcher):
  - Every admitted stream sends one chunk every audio.chunk_ms from a random phase (the batching lab's
    stream-shaped arrivals, no network jitter), into one queue on one instance with the reference batcher.
  - A slowdown multiplies every batch's GPU time t(b) by (1 + slowdown): lower clocks under a power cap or a thermal
    limit, a noisy neighbour, a slower driver or model build. Whatever the cause, the batcher sees longer batches.
  - For each slowdown the lab reports the streams at which the batcher saturates (batched capacity over the chunk
    rate of one stream), the queue-wait p95 at the reference cap (capacity.streams_per_gpu) while the GPU is below
    saturation, and the most streams whose queue-wait p95 stays within Chapter 1's queue allowance
    (budget.queue_p95_ms): the streams a queue-wait rule keeps where a fixed cap keeps the cap.
  - Past saturation there is no steady state: the queue grows by the excess of arrivals over capacity every second.
    The lab reports that growth for the incident's slowdown (case_study.incident_gpu_slowdown_pct) instead of a p95.

The morning without launches (deterministic arithmetic on the reference traffic):
  - A fleet that follows the daily profile holds, at a given hour, the GPUs that hour's streams need at Chapter 12's
    autoscaler target (Little's law on that hour's arrivals, over scaling.target_slot_utilisation of the stream cap). If no GPU can be added from then on, the share of a
    later hour's streams it can carry is its slots over that hour's streams.
"""
from __future__ import annotations

import math

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values
from .batching import BatcherConfig, percentiles, simulate, stream_arrivals

TITLE = "Case study: a fixed stream cap on a slowed GPU, and a region's morning without new GPUs"
DEPENDS: tuple[str, ...] = ()
PARAMS = {"chunks": 60000, "warmup_fraction": 0.1, "seed": 20261130,
          "slowdowns_pct": [i * 2.5 for i in range(41)], "frozen_hour": 5}
QUICK_PARAMS = {"chunks": 6000, "warmup_fraction": 0.1, "seed": 20261130,
                "slowdowns_pct": [0.0, 10.0, 20.0, 40.0, 100.0], "frozen_hour": 5}

CHART_ID = "slow-gpu-streams"


def queue_p95(streams: int, slowdown: float, system: ReferenceSystem, config: BatcherConfig, chunks: int,
              seed: list[int], warmup_fraction: float) -> float:
    """Queue-wait p95 (ms) of `streams` live streams on one GPU whose batches take (1 + slowdown) x t(b)."""
    arrivals = stream_arrivals(streams, system.number("audio.chunk_ms"), chunks, seed)
    result = simulate(0.0, config, lambda b: (1 + slowdown) * system.service_time_ms(b), 0, 0, warmup_fraction,
                      arrival_ms=arrivals)
    return percentiles(result.queue_ms)[1]


def saturation_streams(slowdown: float, system: ReferenceSystem) -> float:
    """Streams per GPU at which every batch must be full to keep up, on a GPU slowed by `slowdown`."""
    return system.number("batcher.capacity_chunks_per_s") / (1 + slowdown) / system.number("audio.chunks_per_second")


def kept_streams(slowdown: float, system: ReferenceSystem, config: BatcherConfig, chunks: int, seed: int,
                 index: int, warmup_fraction: float) -> int:
    """The most streams (up to the cap) whose queue-wait p95 stays within the queue allowance, below saturation."""
    cap = int(system.number("capacity.streams_per_gpu"))
    allowance = system.number("budget.queue_p95_ms")
    top = min(cap, math.ceil(saturation_streams(slowdown, system)) - 1)
    for streams in range(top, 0, -1):
        if queue_p95(streams, slowdown, system, config, chunks, [seed, streams], warmup_fraction) <= allowance:
            return streams
    return 0


def run(system: ReferenceSystem, deps: dict, *, chunks: int, warmup_fraction: float, seed: int,
        slowdowns_pct: list[float], frozen_hour: int) -> LabResult:
    config = BatcherConfig.from_reference(system)
    cap = int(system.number("capacity.streams_per_gpu"))
    allowance = system.number("budget.queue_p95_ms")
    per_stream = system.number("audio.chunks_per_second")
    capacity = system.number("batcher.capacity_chunks_per_s")
    incident = system.number("case_study.incident_gpu_slowdown_pct")
    sweep = sorted(set(slowdowns_pct) | {0.0, incident, 100.0})

    rows = []
    for index, pct in enumerate(sweep):
        slowdown = pct / 100
        saturation = saturation_streams(slowdown, system)
        at_cap = (queue_p95(cap, slowdown, system, config, chunks, [seed, cap], warmup_fraction)
                  if cap < saturation else float("nan"))
        rows.append({"pct": pct, "saturation": saturation, "queue_p95_at_cap": at_cap,
                     "kept": kept_streams(slowdown, system, config, chunks, seed, index, warmup_fraction)})

    healthy = next(r for r in rows if r["pct"] == 0.0)
    over = [r["pct"] for r in rows if not (r["queue_p95_at_cap"] <= allowance)]
    if not over:
        raise ValueError("the queue-wait p95 at the cap never exceeds the allowance in the sweep; widen it")
    incident_row = next(r for r in rows if r["pct"] == incident)
    half_speed = next(r for r in rows if r["pct"] == 100.0)
    saturation_pct = (capacity / (cap * per_stream) - 1) * 100
    incident_capacity = capacity / (1 + incident / 100)
    excess = cap * per_stream - incident_capacity
    if excess <= 0:
        raise ValueError(f"a {incident}% slowdown leaves the cap below saturation; the incident needs no shedding")

    profile = system.numbers("traffic.daily_profile")
    peak_streams = system.number("traffic.peak_concurrent_streams")
    target = system.number("scaling.target_slot_utilisation")
    frozen_gpus = math.ceil(profile[frozen_hour] * peak_streams / (cap * target))
    held_at_peak = min(1.0, frozen_gpus * cap / (max(profile) * peak_streams))

    found = values(
        ("case_study.queue_p95_ms_healthy", healthy["queue_p95_at_cap"], "ms",
         "Queue-wait p95 at the stream cap on a GPU at its reference speed (stream-shaped arrivals)"),
        ("case_study.slowdown_over_allowance_pct", over[0], "%",
         "Smallest slowdown in the sweep at which the queue-wait p95 at the cap exceeds the queue allowance"),
        ("case_study.saturation_slowdown_pct", saturation_pct, "%",
         "Slowdown at which the stream cap alone saturates the batcher (no steady state beyond it)"),
        ("case_study.incident_slowdown_pct", incident, "%", "The slowdown of the case study's slow-GPU incident"),
        ("case_study.incident_saturation_streams", incident_row["saturation"], "streams",
         "Streams per GPU at which the batcher saturates at the incident's slowdown"),
        ("case_study.incident_kept_streams", incident_row["kept"], "streams",
         "Most streams whose queue-wait p95 stays within the allowance at the incident's slowdown"),
        ("case_study.incident_excess_chunks_per_s", excess, "chunks/s",
         "Chunks per second by which the cap's streams exceed the slowed batcher's capacity"),
        ("case_study.incident_wait_growth_ms_per_s", excess / incident_capacity * 1000, "ms",
         "Growth of the queue wait per second of wall-clock time at the cap on the slowed GPU"),
        ("case_study.half_speed_kept_streams", half_speed["kept"], "streams",
         "Most streams within the queue allowance when every batch takes twice its reference time"),
        ("case_study.frozen_hour", frozen_hour, "h", "Hour of the day (region time) after which no GPU can be added"),
        ("case_study.frozen_gpus", frozen_gpus, "GPUs", "GPUs the frozen hour's streams need at the autoscaler's target slot utilisation"),
        ("case_study.frozen_share_of_peak_pct", held_at_peak * 100, "%",
         "Share of the peak hour's streams those GPUs can carry"),
        ("case_study.frozen_refused_at_peak_streams", max(0.0, max(profile) * peak_streams - frozen_gpus * cap),
         "streams", "Streams of the peak hour with no slot if the fleet stays at the frozen hour's size"),
    )
    return LabResult(found, (_chart(rows, system, found),))


def _chart(rows: list[dict], system: ReferenceSystem, found: dict) -> charts.Chart:
    cap = int(system.number("capacity.streams_per_gpu"))
    incident = found["case_study.incident_slowdown_pct"].value
    fig, ax = charts.figure(7.2, 4.0)
    x = [r["pct"] for r in rows]
    ax.plot(x, [r["saturation"] for r in rows], label="Saturation: every batch full", **charts.SERIES[0])
    ax.plot(x, [r["kept"] for r in rows], label="Kept by the queue-wait rule (p95 within the allowance)",
            **charts.SERIES[2])
    ax.axhline(cap, color=charts.ACCENT, linestyle="--", linewidth=1.4, label=f"Fixed cap: {cap} streams")
    ax.axvline(incident, color=charts.INK, linestyle=":", linewidth=1.0)
    ax.annotate(f"Incident: +{incident:.0f}%", xy=(incident, 4), xytext=(incident + 2, 4), fontsize=9,
                color=charts.INK)
    ax.set_xlabel("GPU time per batch, % above the reference")
    ax.set_ylabel("Streams per GPU")
    ax.set_xlim(0, max(x))
    ax.set_ylim(0, max(r["saturation"] for r in rows) * 1.08)
    ax.legend(loc="upper right", fontsize=9)
    title = "Streams one GPU can carry as its batches slow down"
    alt = (f"Line chart of streams per GPU against the GPU time per batch, from the reference speed to twice it. "
           f"The fixed cap of {cap} streams is a flat line. At the reference speed the queue-wait p95 at the cap is "
           f"{found['case_study.queue_p95_ms_healthy'].value:.0f} ms, inside the "
           f"{system.number('budget.queue_p95_ms'):.0f} ms allowance; from "
           f"{found['case_study.slowdown_over_allowance_pct'].value:.1f}% slower it is outside, and from "
           f"{found['case_study.saturation_slowdown_pct'].value:.0f}% slower the cap's streams exceed what full "
           f"batches can carry. The queue-wait rule keeps fewer streams as the GPU slows: "
           f"{found['case_study.incident_kept_streams'].value:.0f} at the incident's +{incident:.0f}% and "
           f"{found['case_study.half_speed_kept_streams'].value:.0f} at half speed.")
    csv = charts.to_csv(["slowdown_pct", "saturation_streams", "queue_p95_ms_at_cap", "kept_streams"],
                        [[r["pct"], round(r["saturation"], 2),
                          "" if math.isnan(r["queue_p95_at_cap"]) else round(r["queue_p95_at_cap"], 2), r["kept"]]
                         for r in rows])
    return charts.Chart(CHART_ID, title, alt, charts.to_svg(fig, CHART_ID, title, alt), csv)

