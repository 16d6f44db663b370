"""Lab: the microphone-to-response latency budget of the reference system, stage by stage, against its SLOs.

Two paths, each a stacked bar against its target:
  - word to text (the first partial result containing a word), against slo.first_partial_p95_ms;
  - endpoint signal to final result, against slo.finalisation_p95_ms (the silence before the signal is the
    product's endpointing setting, shown beside the bar, not inside the serving system's budget).

Every stage is one of three kinds, and the values say which:
  - "worst case": a fixed delay that is at most this (waiting for the chunk to fill);
  - "stated p95 target": a p95 the design allots to the stage (from the reference system's budget group);
  - "simulated p95": the p95 the batching lab measured at the stream target (queue wait, batch execution).
Percentiles do not add: the p95 of a sum is not the sum of the stages' p95s. With independent stages the sum of
the p95s overstates the end-to-end p95, so a budget built by adding them is conservative; stages that slow down
together (queueing and execution under load) erode that margin. The lab shows both numbers for the two stages it
simulates together.
"""
from __future__ import annotations

from dataclasses import dataclass

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Latency budget: microphone to response, stage by stage"
DEPENDS = ("batching",)
PARAMS = {"use_simulation": True}
QUICK_PARAMS = {"use_simulation": True}

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
    """From the endpoint signal: the last chunk's batch, the final pass, and the way back to the client."""
    budget = lambda name: system.number(f"budget.{name}_p95_ms")  # noqa: E731
    return [
        Stage("queue", "Batcher queue", queue_ms, queue_kind),
        Stage("inference", "Inference (batch)", inference_ms, inference_kind),
        Stage("final_decode", "Final decode", budget("final_decode"), STATED),
        Stage("downlink", "Network downlink", budget("downlink"), STATED),
        Stage("render", "Client render", budget("render"), STATED),
    ]


def run(system: ReferenceSystem, deps: dict, *, use_simulation: bool) -> LabResult:
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
         "Sum of the stage figures from the endpoint signal to the final result at the client"),
        ("latency_budget.finalisation_target_ms", final_target, "ms", "Target p95, endpoint signal to final"),
        ("latency_budget.finalisation_headroom_ms", final_target - final_total, "ms",
         "Target minus the sum of the finalisation stages; negative means over budget"),
        ("latency_budget.end_of_speech_to_final_ms", silence + final_total, "ms",
         "End of speech to final result: the endpointing silence plus the finalisation stages"),
        ("latency_budget.queue_plus_inference_p95_ms", joint_p95, "ms",
         "Simulated p95 of queue wait plus batch execution, taken per chunk together"),
        ("latency_budget.queue_p95_plus_inference_p95_ms", summed_p95, "ms",
         "The same two stages' p95s added, as a stage budget adds them"),
        ("latency_budget.percentiles_note", "Percentiles do not add: the stage figures are per-stage p95 targets, "
         "worst cases or simulated p95s, and their sum bounds the end-to-end p95 only when the stages are independent",
         "text", "How to read the totals"),
    )
    chart = _chart(partial, final, partial_target, final_target, silence, found)
    return LabResult(found, (chart,))


def _chart(partial: list[Stage], final: list[Stage], partial_target: float, final_target: float, silence: float,
           found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.6)
    bars = (("Word to text\n(first partial)", partial, partial_target),
            ("Endpoint signal\nto final", final, final_target))
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
    ax.set_title(f"Latency budget at the stream target ({silence:.0f} ms of endpointing silence precedes the "
                 "signal)", loc="left")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=5, fontsize=8)
    title = "Microphone-to-response latency budget of the reference system"
    partial_total = found["latency_budget.word_to_text_total_ms"].value
    final_total = found["latency_budget.finalisation_total_ms"].value
    alt = (f"Two stacked bars. Word to text: capture {partial[0].ms:.0f} ms is the largest stage, and the nine "
           f"stages sum to {partial_total:.0f} ms against a {partial_target:.0f} ms p95 target "
           f"({partial_target - partial_total:+.0f} ms). Endpoint signal to final: {final_total:.0f} ms against "
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
