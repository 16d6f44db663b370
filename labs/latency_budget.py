"""Lab: the microphone-to-response latency budget of the reference system, stage by stage, against its SLOs.

Two paths, each a stacked bar against its target, both timed on the client's clock:
  - word to text (the first partial result containing a word), against slo.first_partial_p95_ms;
  - the flush latency, from the endpoint to the final result at the client, against slo.finalisation_p95_ms. The
    endpoint is the moment the client has captured the chunk in which the endpointing silence completes: the server
    sees audio only in whole chunks, so the silence it waits is endpointing.silence_ms rounded up to the end of a
    chunk (0 to one chunk more). From there the chunk is packed, sent up and through ingress, batched and run, then
    finally decoded and sent back, so the flush path is the word-to-text path with a final decode in place of the
    partial one and no capture wait. Finalisation latency (end of speech to the final result) is the silence, its
    rounding and the flush latency.

Every stage is one of three kinds, and the values say which:
  - "worst case": a fixed delay that is at most this (waiting for the chunk to fill);
  - "stated p95 target": a p95 the design allots to the stage (from the reference system's budget group);
  - "simulated p95": the p95 the batching lab measured at the stream target (queue wait, batch execution).
Percentiles do not add: the p95 of a sum is not the sum of the stages' p95s, in either direction. When every stage's
delay is smooth and independent (as here), the sum of the p95s usually overstates the end-to-end p95; stages that
slow down together (queueing and execution under load) erode that margin, and rare stalls in several stages (each
below 5%, together above it) make the sum understate it. The lab shows both numbers for the two stages it simulates
together.

A Monte Carlo pass then checks the budget arithmetic end to end and draws the knee. Each chunk's queue wait and batch
execution come from the batching lab's simulator at the given streams per GPU; the capture wait is uniform over the
chunk (the last audio of a word falls anywhere in it); every other stage is an independent lognormal draw whose p95
is its stated figure, with the spread latency_model.stage_lognormal_sigma. It reports the end-to-end word-to-text
p50, p95 and p99 against streams per GPU, the sum of the stage p95s beside the p95 of the sum, the most streams
per GPU whose end-to-end p95 stays within the target, and the knee: the lightest load at which one more stream adds
more than knee_ms_per_stream to the end-to-end p95 (the slope between neighbouring loads of the sweep). Chunk
arrivals are Poisson (a rough case: live streams are periodic, which gives lower tails), `arrivals` chunks per load,
one seed. A simulation of an assumed pipeline (assumed stage figures and an assumed t(b)), not a measurement.

Last, the arithmetic of Chapter 1's composite failure story: a fleet of story_replicas GPUs, each loaded to the most
streams a steady load test found within the target, loses one replica, and the other GPUs receive its streams. It
reports how fast the queue wait grows, where it stands story_minutes later, how many GPUs the fleet's streams need at
the planned streams per GPU, and how long the backlog takes to drain once each GPU has been brought back to the plan
by shedding streams (a shed stream's queued chunks are discarded with it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values
from .batching import BatcherConfig, simulate

TITLE = "Latency budget: microphone to response, stage by stage"
DEPENDS = ("batching",)
STORY = {"story_replicas": 10, "story_minutes": [3, 7, 9]}
PARAMS = {"use_simulation": True, "arrivals": 60000, "seed": 20261130, "streams": [*range(4, 39, 2), 39],
          "knee_ms_per_stream": 3.0, **STORY}
QUICK_PARAMS = {"use_simulation": True, "arrivals": 4000, "seed": 20261130, "streams": [8, 24, 36],
                "knee_ms_per_stream": 3.0, **STORY}
Z95 = 1.6448536269514722  # standard normal quantile at 0.95: a lognormal's p95 is its median x exp(Z95 x sigma)

WORST_CASE, STATED, SIMULATED = "worst case", "stated p95 target", "simulated p95"


@dataclass(frozen=True)
class Stage:
    id: str
    label: str
    ms: float
    kind: str


def word_to_text_stages(system: ReferenceSystem, queue_ms: float, queue_kind: str, inference_ms: float,
                        inference_kind: str) -> list[Stage]:
    budget = lambda name: system.number(f"budget.{name}_p95_ms")  # noqa: E731  (one line per stage below)
    return [
        Stage("capture", "Capture (chunk fills)", system.number("audio.chunk_ms"), WORST_CASE),
        Stage("encode", "Encode and pack", budget("encode"), STATED),
        Stage("uplink", "Network uplink", budget("uplink"), STATED),
        Stage("ingress", "Ingress", budget("ingress"), STATED),
        Stage("queue", "Batcher queue", queue_ms, queue_kind),
        Stage("inference", "Inference (batch)", inference_ms, inference_kind),
        Stage("decode", "Decode partial", budget("decode"), STATED),
        Stage("downlink", "Network downlink", budget("downlink"), STATED),
        Stage("render", "Client render", budget("render"), STATED),
    ]


def finalisation_stages(system: ReferenceSystem, queue_ms: float, queue_kind: str, inference_ms: float,
                        inference_kind: str) -> list[Stage]:
    """The flush latency on the client's clock: from the capture of the chunk that completes the endpointing silence,
    its way up, its batch, the final pass, and the way back to the client."""
    budget = lambda name: system.number(f"budget.{name}_p95_ms")  # noqa: E731
    return [
        Stage("encode", "Encode and pack", budget("encode"), STATED),
        Stage("uplink", "Network uplink", budget("uplink"), STATED),
        Stage("ingress", "Ingress", budget("ingress"), STATED),
        Stage("queue", "Batcher queue", queue_ms, queue_kind),
        Stage("inference", "Inference (batch)", inference_ms, inference_kind),
        Stage("final_decode", "Final decode", budget("final_decode"), STATED),
        Stage("downlink", "Network downlink", budget("downlink"), STATED),
        Stage("render", "Client render", budget("render"), STATED),
    ]


def run(system: ReferenceSystem, deps: dict, *, use_simulation: bool, arrivals: int, seed: int,
        streams: list[int], knee_ms_per_stream: float, story_replicas: int, story_minutes: list[int]) -> LabResult:
    batching = deps["batching"]
    if use_simulation:
        queue_ms, queue_kind = batching.value("batching.queue_p95_ms_at_target").value, SIMULATED
        inference_ms, inference_kind = batching.value("batching.service_p95_ms_at_target").value, SIMULATED
    else:
        queue_ms, queue_kind = system.number("budget.queue_p95_ms"), STATED
        inference_ms, inference_kind = system.number("inference.max_batch_ms"), WORST_CASE
    partial = word_to_text_stages(system, queue_ms, queue_kind, inference_ms, inference_kind)
    final = finalisation_stages(system, queue_ms, queue_kind, inference_ms, inference_kind)
    partial_target, final_target = system.number("slo.first_partial_p95_ms"), system.number("slo.finalisation_p95_ms")
    partial_total, final_total = sum(s.ms for s in partial), sum(s.ms for s in final)
    # The batching lab timed queue wait and execution of the same chunks: p95 of their sum, and sum of their p95s.
    joint_p95 = batching.value("batching.p95_ms_at_target").value
    summed_p95 = (batching.value("batching.queue_p95_ms_at_target").value
                  + batching.value("batching.service_p95_ms_at_target").value)
    silence = system.number("endpointing.silence_ms")
    chunk_ms = system.number("audio.chunk_ms")

    found = values(
        *((f"latency_budget.stage.{s.id}_ms", s.ms, "ms", f"Word to text, {s.label.lower()}: {s.kind}")
          for s in partial),
        *((f"latency_budget.stage.{s.id}_kind", s.kind, "text", f"What the {s.label.lower()} figure is")
          for s in partial),
        ("latency_budget.word_to_text_total_ms", partial_total, "ms",
         "Sum of the word-to-text stage figures (a conservative budget: percentiles do not add)"),
        ("latency_budget.word_to_text_target_ms", partial_target, "ms", "Target p95 word to text (first partial)"),
        ("latency_budget.word_to_text_headroom_ms", partial_target - partial_total, "ms",
         "Target minus the sum of the stages; negative means over budget"),
        ("latency_budget.finalisation_total_ms", final_total, "ms",
         "Sum of the flush-latency stage figures, endpoint to final result at the client, on the client's clock"),
        ("latency_budget.finalisation_target_ms", final_target, "ms", "Target p95 flush latency"),
        ("latency_budget.finalisation_headroom_ms", final_target - final_total, "ms",
         "Flush-latency target minus the sum of the flush stages; negative means over budget"),
        ("latency_budget.endpoint_rounding_ms", chunk_ms, "ms",
         "Most the endpointing silence can overrun its setting: the server sees audio in whole chunks"),
        ("latency_budget.end_of_speech_to_final_min_ms", silence + final_total, "ms",
         "Finalisation latency at the stage figures when the silence ends on a chunk boundary"),
        ("latency_budget.end_of_speech_to_final_ms", silence + chunk_ms + final_total, "ms",
         "Finalisation latency at the stage figures, worst case: silence plus a whole chunk of rounding plus flush"),
        ("latency_budget.queue_plus_inference_p95_ms", joint_p95, "ms",
         "Simulated p95 of queue wait plus batch execution, taken per chunk together"),
        ("latency_budget.queue_p95_plus_inference_p95_ms", summed_p95, "ms",
         "The same two stages' p95s added, as a stage budget adds them"),
        ("latency_budget.percentiles_note", "Percentiles do not add: the stage figures are per-stage p95 targets, "
         "worst cases or simulated p95s, and their sum bounds the end-to-end p95 only when the stages are independent",
         "text", "How to read the totals"),
    )
    rows = end_to_end_sweep(system, partial, arrivals, seed, streams)
    found.update(_sweep_values(system, rows, partial_target, knee_ms_per_stream))
    found.update(values(("latency_budget.chunks_per_load", arrivals, "chunks",
                         "Chunks simulated at each load of the sweep (Poisson arrivals, one seed)")))
    found.update(_story_values(system, int(found["latency_budget.max_streams_within_target"].number), story_replicas,
                               story_minutes))
    chart = _chart(partial, final, partial_target, final_target, silence, found)
    knee = _knee_chart(system, rows, partial_target, found)
    return LabResult(found, (chart, knee))


def end_to_end_sweep(system: ReferenceSystem, partial: list[Stage], arrivals: int, seed: int,
                     streams: list[int]) -> list[dict]:
    """Word to text end to end, per chunk, at each stream count: simulated batcher plus sampled fixed stages."""
    config = BatcherConfig.from_reference(system)
    chunk_ms = system.number("audio.chunk_ms")
    chunks_per_stream = system.number("audio.chunks_per_second")
    sigma = system.number("latency_model.stage_lognormal_sigma")
    fixed = [s for s in partial if s.kind == STATED]
    target = int(system.number("capacity.streams_per_gpu"))
    rows = []
    for index, count in enumerate(sorted(set(streams) | {target})):
        sim = simulate(count * chunks_per_stream, config, system.service_time_ms, arrivals, [seed, index])
        rng = np.random.default_rng([seed, 10_000 + index])
        n = sim.latency_ms.size
        stage_samples = {s.id: (s.ms / np.exp(Z95 * sigma)) * rng.lognormal(0.0, sigma, n) for s in fixed}
        capture = rng.uniform(0.0, chunk_ms, n)
        total = capture + sim.latency_ms + sum(stage_samples.values())
        p50, p95, p99 = (float(v) for v in np.percentile(total, [50, 95, 99]))
        parts = [capture, sim.queue_ms, sim.service_ms, *stage_samples.values()]
        rows.append({"streams": count, "p50": p50, "p95": p95, "p99": p99,
                     "sum_of_p95s": float(sum(np.percentile(part, 95) for part in parts)),
                     "budget_sum": chunk_ms + sum(s.ms for s in fixed) + float(np.percentile(sim.queue_ms, 95))
                     + float(np.percentile(sim.service_ms, 95))})
    return rows


def knee_streams(rows: list[dict], ms_per_stream: float) -> int:
    """The knee: the lightest load at which one more stream adds more than ms_per_stream to the end-to-end p95,
    taking the slope between each load of the sweep and the one before it."""
    for before, row in zip(rows, rows[1:]):
        if (row["p95"] - before["p95"]) / (row["streams"] - before["streams"]) > ms_per_stream:
            return row["streams"]
    return rows[-1]["streams"]


def _sweep_values(system: ReferenceSystem, rows: list[dict], target_ms: float, knee_ms_per_stream: float) -> dict:
    streams_target = int(system.number("capacity.streams_per_gpu"))
    at = next(r for r in rows if r["streams"] == streams_target)
    within = max((r["streams"] for r in rows if r["p95"] <= target_ms), default=0)
    lightest = rows[0]
    knee = knee_streams(rows, knee_ms_per_stream)
    heaviest = rows[-1]
    return values(
        ("latency_budget.e2e_p50_ms_at_target", at["p50"], "ms",
         "Simulated end-to-end word-to-text median at the stream target"),
        ("latency_budget.e2e_p95_ms_at_target", at["p95"], "ms",
         "Simulated end-to-end word-to-text p95 at the stream target (p95 of the sum of the stages)"),
        ("latency_budget.e2e_p99_ms_at_target", at["p99"], "ms",
         "Simulated end-to-end word-to-text p99 at the stream target"),
        ("latency_budget.sum_of_stage_p95s_ms_at_target", at["sum_of_p95s"], "ms",
         "The same simulation's stage p95s added up, as a budget adds them"),
        ("latency_budget.sum_overstates_p95_by_ms", at["sum_of_p95s"] - at["p95"], "ms",
         "How much the sum of the stage p95s exceeds the simulated end-to-end p95 at the target"),
        ("latency_budget.max_streams_within_target", within, "streams",
         "Most streams per GPU in the sweep whose simulated end-to-end p95 stays within the word-to-text target"),
        ("latency_budget.knee_streams", knee, "streams",
         "The knee: the lightest load at which one more stream adds more than the knee rule to the end-to-end p95"),
        ("latency_budget.knee_rule_ms_per_stream", knee_ms_per_stream, "ms",
         "The knee rule: end-to-end p95 added per extra stream per GPU"),
        ("latency_budget.e2e_p95_ms_at_lightest", lightest["p95"], "ms", "End-to-end p95 at the lightest load"),
        ("latency_budget.e2e_p95_ms_at_knee", next(r["p95"] for r in rows if r["streams"] == knee), "ms",
         "End-to-end p95 at the knee"),
        ("latency_budget.load_at_target_pct", 100 * system.number("capacity.load_at_target"), "%",
         "Offered load at the stream target as a share of the batcher's full-batch capacity"),
        ("latency_budget.lightest_streams", lightest["streams"], "streams", "The lightest load in the sweep"),
        ("latency_budget.e2e_p99_ms_at_lightest", lightest["p99"], "ms", "End-to-end p99 at the lightest load"),
        ("latency_budget.heaviest_streams", heaviest["streams"], "streams", "The heaviest load in the sweep"),
        ("latency_budget.e2e_p95_ms_at_heaviest", heaviest["p95"], "ms", "End-to-end p95 at the heaviest load"),
        ("latency_budget.e2e_p99_ms_at_heaviest", heaviest["p99"], "ms", "End-to-end p99 at the heaviest load"),
    )


def _drain_minutes(backlog: float, spare_per_s: float) -> float:
    """Minutes to work off a backlog with the spare capacity left per second; never, when none is left (a reference
    system whose load fills the GPU exactly, which the story's numbers do not have)."""
    return backlog / spare_per_s / 60 if spare_per_s > 0 else math.inf


def _story_values(system: ReferenceSystem, tested_streams: int, replicas: int, minutes: list[int]) -> dict:
    """Chapter 1's failure story: one replica of `replicas` drained with every GPU at `tested_streams`."""
    capacity = system.number("batcher.capacity_chunks_per_s")
    per_stream = system.number("audio.chunks_per_second")
    planned = system.number("capacity.streams_per_gpu")
    streams = tested_streams * replicas / (replicas - 1)
    excess = streams * per_stream - capacity              # chunks per second the queue grows by
    growth_ms_per_s = 1000 * excess / capacity             # queue wait added per second of overload
    found = [
        ("latency_budget.story_replicas", replicas, "GPUs", "Replicas in the failure story's busy hour"),
        ("latency_budget.story_streams_per_gpu", streams, "streams",
         "Streams per GPU once one replica's streams move to the others"),
        ("latency_budget.story_excess_pct", 100 * (streams / tested_streams - 1), "%",
         "Extra streams on each remaining GPU"),
        ("latency_budget.story_excess_chunks_per_s", excess, "chunks/s",
         "Chunks per second arriving beyond the batcher's full-batch capacity, per GPU"),
        ("latency_budget.story_wait_growth_ms_per_s", growth_ms_per_s, "ms",
         "Queue wait added per second of overload"),
        ("latency_budget.story_one_second_after_s", 1000 / growth_ms_per_s, "s",
         "Seconds of overload until the queue wait passes one second"),
    ]
    for minute in minutes:
        found.append((f"latency_budget.story_wait_s_at_{minute}_min", growth_ms_per_s * 60 * minute / 1000, "s",
                      f"Queue wait after {minute} minutes of overload"))
    backlog = excess * 60 * minutes[-1]
    kept = backlog * planned / streams                     # shed streams take their queued chunks with them
    spare = capacity - planned * per_stream
    fleet_streams = tested_streams * replicas
    gpus_at_plan = math.ceil(fleet_streams / planned)
    found += [
        ("latency_budget.story_fleet_streams", fleet_streams, "streams", "Streams the story's fleet carries"),
        ("latency_budget.story_extra_gpus", gpus_at_plan - replicas, "GPUs",
         "GPUs to add so that the fleet's streams fit at the planned streams per GPU"),
        ("latency_budget.story_backlog_chunks", backlog, "chunks",
         f"Chunks queued per GPU after {minutes[-1]} minutes of overload"),
        ("latency_budget.story_backlog_work_s", backlog / capacity, "s",
         "The same backlog as seconds of full-batch GPU work"),
        ("latency_budget.story_drain_at_tested_min",
         _drain_minutes(backlog, capacity - tested_streams * per_stream), "min",
         "Minutes to drain that backlog with every GPU back at the load-tested streams, nothing shed"),
        ("latency_budget.story_drain_after_shedding_min", _drain_minutes(kept, spare), "min",
         "Minutes to drain what is left once each GPU sheds down to the planned streams per GPU"),
    ]
    return values(*found)


def _knee_chart(system: ReferenceSystem, rows: list[dict], target_ms: float, found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 4.2)
    x = [r["streams"] for r in rows]
    for style, name in zip(charts.SERIES, ("p50", "p95", "p99")):
        ax.plot(x, [min(r[name], 2.5 * target_ms) for r in rows], label=f"{name}, end to end", **style)
    ax.plot(x, [min(r["budget_sum"], 2.5 * target_ms) for r in rows], color=charts.INK, linestyle=(0, (4, 2)),
            linewidth=1, label="Sum of stage figures (budget arithmetic)")
    ax.axhline(target_ms, color=charts.ACCENT, linestyle="-.", linewidth=1.4)
    ax.annotate(f"p95 target {target_ms:.0f} ms", (x[0], target_ms), xytext=(0, 4), textcoords="offset points",
                color=charts.ACCENT, fontsize=9)
    streams_target = int(system.number("capacity.streams_per_gpu"))
    ax.axvline(streams_target, color=charts.INK, linestyle=(0, (1, 3)), linewidth=1)
    ax.annotate(f"reference: {streams_target} streams", (streams_target, 0), xytext=(-4, 4),
                textcoords="offset points", xycoords=("data", "axes fraction"), ha="right", fontsize=9)
    saturation = system.number("capacity.streams_at_saturation")
    ax.axvline(saturation, color=charts.ACCENT, linestyle=(0, (1, 3)), linewidth=1)
    ax.annotate("saturation", (saturation, 1), xytext=(-4, -14), textcoords="offset points",
                xycoords=("data", "axes fraction"), ha="right", fontsize=9, color=charts.ACCENT)
    knee = found["latency_budget.knee_streams"].value
    ax.axvline(knee, color=charts.INK, linestyle=(0, (4, 4)), linewidth=0.8)
    ax.annotate(f"knee: {knee}", (knee, 0.5), xytext=(-4, 0), textcoords="offset points",
                xycoords=("data", "axes fraction"), ha="right", fontsize=9)
    ax.set_ylim(0, 2.5 * target_ms)
    ax.set_xlim(0, max(x) + 2)
    ax.set_xlabel(f"Concurrent streams per GPU ({system.get('audio.chunk_ms').format()} chunks; the batcher "
                  f"saturates at {saturation:.0f})")
    ax.set_ylabel("Word to text, end to end (ms)")
    ax.set_title("Word-to-text latency against load (simulation)", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(0, 0.92), fontsize=8)
    title = "Word-to-text latency of the reference system against concurrent streams per GPU"
    alt = (f"Line chart of simulated end-to-end word-to-text p50, p95 and p99 against streams per GPU, with the "
           f"{target_ms:.0f} ms p95 target. The lines stay nearly flat from {x[0]} streams (p99 "
           f"{found['latency_budget.e2e_p99_ms_at_lightest'].value:.0f} ms) until the knee at "
           f"{found['latency_budget.knee_streams'].value} streams, where each added stream starts to cost more than "
           f"{found['latency_budget.knee_rule_ms_per_stream'].value:.0f} ms of p95, then bend upwards. At the reference "
           f"{streams_target} streams p95 is {found['latency_budget.e2e_p95_ms_at_target'].value:.0f} ms and p99 "
           f"{found['latency_budget.e2e_p99_ms_at_target'].value:.0f} ms; p95 stays within the target up to "
           f"{found['latency_budget.max_streams_within_target'].value} streams, and at "
           f"{found['latency_budget.heaviest_streams'].value} streams p99 reaches "
           f"{found['latency_budget.e2e_p99_ms_at_heaviest'].value:.0f} ms; past {saturation:.1f} streams the queue "
           f"grows without limit. The dashed sum of stage figures lies above the simulated p95 throughout.")
    table = charts.to_csv(["streams", "p50_ms", "p95_ms", "p99_ms", "sum_of_stage_p95s_ms", "budget_sum_ms"],
                          [[r["streams"], f"{r['p50']:.3f}", f"{r['p95']:.3f}", f"{r['p99']:.3f}",
                            f"{r['sum_of_p95s']:.3f}", f"{r['budget_sum']:.3f}"] for r in rows])
    chart_id = "latency-budget-vs-load"
    return charts.Chart(chart_id, title, alt, charts.to_svg(fig, chart_id, title, alt), table)


def _chart(partial: list[Stage], final: list[Stage], partial_target: float, final_target: float, silence: float,
           found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.6)
    bars = (("Word to text\n(first partial)", partial, partial_target),
            ("Flush: endpoint\nto final", final, final_target))
    order = [s.id for s in partial] + [s.id for s in final if s.id not in {p.id for p in partial}]
    style = {stage_id: (charts.FILLS[i % len(charts.FILLS)], charts.HATCHES[i % len(charts.HATCHES)])
             for i, stage_id in enumerate(order)}
    for row, (label, stages, target) in enumerate(bars):
        left = 0.0
        for stage in stages:
            fill, hatch = style[stage.id]
            ax.barh(row, stage.ms, left=left, height=0.5, color=fill, hatch=hatch, edgecolor="white",
                    linewidth=0.8, label=stage.label if row == 0 or stage.id == "final_decode" else None)
            if stage.ms >= 14:
                ax.text(left + stage.ms / 2, row, f"{stage.ms:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if _is_dark(fill) else charts.INK)
            left += stage.ms
        ax.plot([target, target], [row - 0.36, row + 0.36], color=charts.ACCENT, linewidth=2)
        ax.annotate(f"target {target:.0f} ms", (target, row - 0.36), xytext=(0, 2), textcoords="offset points",
                    ha="center", va="bottom", fontsize=8, color=charts.ACCENT)
        ax.annotate(f"{left:.0f} ms", (left, row), xytext=(4, -10), textcoords="offset points", fontsize=8)
    ax.set_yticks([0, 1], [label for label, _, _ in bars])
    ax.invert_yaxis()
    ax.set_xlabel("Milliseconds (stage figures stacked; percentiles do not add, so the sum is conservative)")
    ax.set_xlim(0, max(partial_target, found["latency_budget.word_to_text_total_ms"].value) * 1.08)
    ax.grid(axis="y", visible=False)
    ax.set_title(f"Latency budget at the stream target, client's clock ({silence:.0f} ms of endpointing silence "
                 "precede the flush)", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=5, fontsize=8)
    title = "Microphone-to-response latency budget of the reference system"
    partial_total = found["latency_budget.word_to_text_total_ms"].value
    final_total = found["latency_budget.finalisation_total_ms"].value
    alt = (f"Two stacked bars. Word to text: capture {partial[0].ms:.0f} ms is the largest stage, and the nine "
           f"stages sum to {partial_total:.0f} ms against a {partial_target:.0f} ms p95 target "
           f"({partial_target - partial_total:+.0f} ms). Flush latency, from the endpoint to the final result: eight stages "
           f"sum to {final_total:.0f} ms against "
           f"{final_target:.0f} ms ({final_target - final_total:+.0f} ms). Simulated queue plus inference p95 is "
           f"{found['latency_budget.queue_plus_inference_p95_ms'].value:.0f} ms, less than the "
           f"{found['latency_budget.queue_p95_plus_inference_p95_ms'].value:.0f} ms their separate p95s add to.")
    rows = [[name, s.id, s.label, f"{s.ms:.3f}", s.kind] for name, stages in (("word_to_text", partial),
                                                                           ("finalisation", final)) for s in stages]
    table = charts.to_csv(["path", "stage", "label", "ms", "kind"], rows)
    return charts.Chart("latency-budget", title, alt, charts.to_svg(fig, "latency-budget", title, alt), table)


def _is_dark(hex_colour: str) -> bool:
    red, green, blue = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue < 140
