"""Lab: what rounding rules, retries and duplicates do to a speech API's invoice, and the margin left over.

A seeded simulation on the reference system, in three parts:

- Rounding. Stream lengths are drawn from the reference system's lognormal session model (mean and sigma), and a
  second workload of short voice commands uses the same shape at a mean of metering.short_request_mean_s. Each
  billing rule turns a stream's exact audio (whole milliseconds) into billed audio; the lab reports billed over exact
  audio, minus one, as the uplift a customer pays for the rule. Rules: per second rounded up once per stream (the
  reference rule), per second with a 15-second minimum, per started 15-second block, per started minute, and per
  started minute applied once to the total of every simulated stream (one customer's invoice) instead of per stream.
- Delivery. Each stream emits an interim usage event per metering.usage_event_interval_s of audio and a final event
  for the remainder. A delivery attempt times out with probability metering.ack_timeout_pct; in a share
  metering.accepted_before_timeout_share of those timeouts the ingestion service had already stored the event. Three
  emitters: fire and forget (no retry); retry with a fresh id per attempt (or an ingestion store that does not
  deduplicate); retry with one id per event and an ingestion store that deduplicates, with a durable outbox, so an
  event whose retries run out is replayed later under the same id. The invoice error is billed over true audio, minus
  one, swept over timeout rates.
- Margin. A month of the reference traffic (mean concurrent streams x 730 hours) billed at the reference price and
  rule, against the GPU fleet sized for the peak (fleet.gpus_at_peak whole GPUs at prices.gpu_instance_usd_per_hour,
  running all month), with the per-minute rule beside it for comparison.

Everything is drawn from numpy's default_rng seeded by the parameters; the same parameters give the same values.
"""
from __future__ import annotations

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Metering: rounding rules, retried and duplicated usage events, and the margin on the reference traffic"
DEPENDS = ()
PARAMS = {"seed": 8, "streams": 400_000, "delivery_streams": 200_000, "max_retries": 5,
          "sweep_timeout_pct": [0, 0.1, 0.5, 1, 2, 5, 10]}
QUICK_PARAMS = {"seed": 8, "streams": 40_000, "delivery_streams": 20_000, "max_retries": 5,
                "sweep_timeout_pct": [0, 1, 10]}
HOURS_PER_MONTH = 730  # 8,760 hours a year over 12 months

# (key, label, increment_s, minimum_s, per_invoice): the rules the lab compares; the reference rule is read from the
# reference system and comes first. per_invoice rounds the sum of all streams once instead of each stream.
RULES = (
    ("per_second", "Per second, per stream", None, None, False),
    ("per_second_min15", "Per second, 15 s minimum", 1, 15, False),
    ("per_15s", "Per started 15 s, per stream", 15, 0, False),
    ("per_minute", "Per started minute, per stream", 60, 0, False),
    ("per_minute_invoice", "Per started minute, per invoice", 60, 0, True),
)
AXIS_MIN_PCT = 0.05


def lognormal_ms(rng: np.random.Generator, mean_s: float, sigma: float, n: int) -> np.ndarray:
    """n stream lengths in whole milliseconds (at least 1) from a lognormal with the given mean and sigma."""
    mu = np.log(mean_s) - sigma ** 2 / 2
    return np.maximum(1, np.rint(rng.lognormal(mu, sigma, n) * 1000)).astype(np.int64)


def billed_ms(exact_ms: np.ndarray, increment_s: float, minimum_s: float = 0) -> np.ndarray:
    """Each stream's audio rounded up to whole increments, then raised to the minimum."""
    step = int(round(increment_s * 1000))
    rounded = -(-exact_ms // step) * step
    return np.maximum(rounded, int(round(minimum_s * 1000)))


def event_sizes_ms(exact_ms: np.ndarray, interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(quantities, owning stream index) of every usage event: one per full interval of audio, plus a final event
    for the remainder (none when the audio is an exact multiple of the interval)."""
    interval = int(round(interval_s * 1000))
    full = exact_ms // interval
    rest = exact_ms % interval
    counts = full + (rest > 0)
    owner = np.repeat(np.arange(len(exact_ms)), counts)
    sizes = np.full(int(counts.sum()), interval, dtype=np.int64)
    last = np.cumsum(counts) - 1
    has_rest = rest > 0
    sizes[last[has_rest]] = rest[has_rest]
    return sizes, owner




def uplift_pct(billed: np.ndarray, exact: np.ndarray) -> float:
    return (billed.sum() / exact.sum() - 1) * 100


def delivered_copies(rng: np.random.Generator, n: int, timeout: float, accepted_share: float,
                     max_retries: int) -> tuple[np.ndarray, np.ndarray]:
    """For n events, (copies stored with a fresh id per attempt, copies stored by the first attempt alone).

    Attempt k (0 = first) times out with probability `timeout`; a timed-out attempt was stored anyway with
    probability `accepted_share`; an attempt that does not time out was stored and acknowledged, which ends the
    retries. Up to max_retries retries follow a timeout."""
    stored = np.zeros(n, dtype=np.int64)
    first = np.zeros(n, dtype=np.int64)
    pending = np.ones(n, dtype=bool)
    for attempt in range(max_retries + 1):
        draw = rng.random(n)
        timed_out = draw < timeout
        silently_stored = timed_out & (rng.random(n) < accepted_share)
        ok = pending & (~timed_out | silently_stored)
        stored += ok
        if attempt == 0:
            first[:] = ok
        pending &= timed_out
    return stored, first


def run(system: ReferenceSystem, deps: dict, *, seed: int, streams: int, delivery_streams: int, max_retries: int,
        sweep_timeout_pct: list[float]) -> LabResult:
    v = system.number
    mean_s, sigma = v("sessions.mean_s"), v("sessions.lognormal_sigma")
    short_mean_s = v("metering.short_request_mean_s")
    increment_s, minimum_s = v("metering.increment_s"), v("metering.minimum_s")
    interval_s = v("metering.usage_event_interval_s")
    reference_timeout_pct = v("metering.ack_timeout_pct")
    accepted_share = v("metering.accepted_before_timeout_share")
    price = v("metering.price_usd_per_audio_hour")

    # --- Rounding --------------------------------------------------------------------------------------------
    workloads = {
        "sessions": lognormal_ms(np.random.default_rng([seed, 0]), mean_s, sigma, streams),
        "commands": lognormal_ms(np.random.default_rng([seed, 1]), short_mean_s, sigma, streams),
    }
    uplift: dict[tuple[str, str], float] = {}
    for workload, exact in workloads.items():
        for key, _label, rule_increment, rule_minimum, per_invoice in RULES:
            inc = increment_s if rule_increment is None else rule_increment
            minimum = minimum_s if rule_minimum is None else rule_minimum
            billed = billed_ms(np.array([exact.sum()]) if per_invoice else exact, inc, minimum)
            uplift[(key, workload)] = uplift_pct(billed, exact)

    # --- Delivery --------------------------------------------------------------------------------------------
    exact = lognormal_ms(np.random.default_rng([seed, 2]), mean_s, sigma, delivery_streams)
    sizes, _owner = event_sizes_ms(exact, interval_s)
    true_ms = sizes.sum()
    events_per_stream = len(sizes) / delivery_streams
    sweep = sorted(set(float(p) for p in sweep_timeout_pct) | {float(reference_timeout_pct)})
    rows = []
    for index, pct in enumerate(sweep):
        rng = np.random.default_rng([seed, 3, index])
        stored, first = delivered_copies(rng, len(sizes), pct / 100, accepted_share, max_retries)
        fire_and_forget = (sizes * first).sum() / true_ms - 1
        fresh_ids = (sizes * stored).sum() / true_ms - 1
        # One id per event and a deduplicating store: a stored copy counts once; an event whose retries all failed
        # stays in the durable outbox and is replayed later under the same id, inside the dedup window.
        unstored_after_retries = int((stored == 0).sum())
        deduplicated = (sizes * (stored > 0)).sum() / true_ms - 1 + (sizes * (stored == 0)).sum() / true_ms
        rows.append({"timeout_pct": pct, "fire_and_forget_pct": fire_and_forget * 100,
                     "fresh_ids_pct": fresh_ids * 100, "dedup_pct": deduplicated * 100,
                     "outbox_replays": unstored_after_retries, "events": len(sizes)})
    at_ref = next(r for r in rows if r["timeout_pct"] == float(reference_timeout_pct))
    at_max = rows[-1]

    # --- Margin ----------------------------------------------------------------------------------------------
    audio_h = v("traffic.mean_concurrent_streams") * HOURS_PER_MONTH
    ref_uplift = uplift[("per_second", "sessions")] / 100
    minute_uplift = uplift[("per_minute", "sessions")] / 100
    revenue = audio_h * (1 + ref_uplift) * price
    revenue_minute = audio_h * (1 + minute_uplift) * price
    gpus = v("fleet.gpus_at_peak")
    gpu_cost = gpus * v("prices.gpu_instance_usd_per_hour") * HOURS_PER_MONTH
    margin = 1 - gpu_cost / revenue
    overbilled_usd = revenue * at_ref["fresh_ids_pct"] / 100
    underbilled_usd = -revenue * at_ref["fire_and_forget_pct"] / 100

    u = lambda key, workload: uplift[(key, workload)]  # noqa: E731
    found = {
        "uplift_per_second_sessions": u("per_second", "sessions"),
        "uplift_per_minute_sessions": u("per_minute", "sessions"),
        "uplift_per_second_commands": u("per_second", "commands"),
        "uplift_min15_commands": u("per_second_min15", "commands"),
        "uplift_per_minute_commands": u("per_minute", "commands"),
        "uplift_per_minute_invoice_sessions": u("per_minute_invoice", "sessions"),
        "fresh_ids_pct_at_ref": at_ref["fresh_ids_pct"],
        "fire_and_forget_pct_at_ref": at_ref["fire_and_forget_pct"],
        "fresh_ids_pct_at_max": at_max["fresh_ids_pct"],
        "fire_and_forget_pct_at_max": at_max["fire_and_forget_pct"],
        "timeout_pct_max": at_max["timeout_pct"],
    }
    rounding_chart = _rounding_chart(uplift, short_mean_s, mean_s)
    delivery_chart = _delivery_chart(rows, reference_timeout_pct, accepted_share, max_retries, found)
    rule_values = []
    for key, label, *_rest in RULES:
        for workload in workloads:
            rule_values.append((f"metering.uplift_pct_{key}_{workload}", round(uplift[(key, workload)], 3), "%",
                                f"Billed over exact audio, minus one: {label.lower()}, {workload}"))
    return LabResult(values(
        *rule_values,
        ("metering.streams_simulated", streams, "streams", "Streams drawn per workload for the rounding comparison"),
        ("metering.delivery_streams", delivery_streams, "streams", "Streams simulated for the delivery comparison"),
        ("metering.events_per_stream", round(events_per_stream, 2), "events",
         "Usage events per stream on average (interim events plus the final one)"),
        ("metering.max_retries", max_retries, "retries", "Retries an emitter makes after a timeout"),
        ("metering.fire_and_forget_pct_at_ref", round(at_ref["fire_and_forget_pct"], 3), "%",
         "Invoice error with no retries at the reference timeout rate (negative: audio not billed)"),
        ("metering.fresh_ids_pct_at_ref", round(at_ref["fresh_ids_pct"], 3), "%",
         "Invoice error when retries carry a fresh id, at the reference timeout rate (positive: overbilled)"),
        ("metering.dedup_pct_at_ref", round(at_ref["dedup_pct"], 3), "%",
         "Invoice error with one id per event, deduplication and an outbox, at the reference timeout rate"),
        ("metering.fire_and_forget_underbill_pct_at_ref", round(-at_ref["fire_and_forget_pct"], 3), "%",
         "Share of the true audio left unbilled with no retries at the reference timeout rate"),
        ("metering.fire_and_forget_underbill_pct_at_max", round(-at_max["fire_and_forget_pct"], 2), "%",
         "Share of the true audio left unbilled with no retries at the highest timeout rate of the sweep"),
        ("metering.fire_and_forget_pct_at_max", round(at_max["fire_and_forget_pct"], 2), "%",
         "Invoice error with no retries at the highest timeout rate of the sweep"),
        ("metering.fresh_ids_pct_at_max", round(at_max["fresh_ids_pct"], 2), "%",
         "Invoice error with fresh ids per retry at the highest timeout rate of the sweep"),
        ("metering.dedup_pct_at_max", round(at_max["dedup_pct"], 3), "%",
         "Invoice error with deduplication and an outbox at the highest timeout rate of the sweep"),
        ("metering.outbox_replays_at_max", at_max["outbox_replays"], "events",
         "Events whose every retry timed out at the highest timeout rate, replayed later from the outbox"),
        ("metering.events_simulated", at_ref["events"], "events", "Usage events in the delivery simulation"),
        ("metering.timeout_pct_max", at_max["timeout_pct"], "%", "Highest timeout rate of the sweep"),
        ("metering.audio_hours_per_month", round(audio_h), "h",
         "Audio hours a month at the reference traffic's daily mean (mean concurrent streams x 730 h)"),
        ("metering.revenue_usd_per_month", round(revenue), "USD",
         "Monthly revenue at the reference price and rule"),
        ("metering.revenue_per_minute_rule_usd_per_month", round(revenue_minute), "USD",
         "Monthly revenue if the same audio were billed per started minute"),
        ("metering.gpu_cost_usd_per_month", round(gpu_cost), "USD",
         "Monthly cost of the GPU fleet sized for the peak, running all month"),
        ("metering.gpu_usd_per_audio_hour", round(gpu_cost / audio_h, 4), "USD/h",
         "GPU fleet cost per audio hour served (whole GPUs, sized for the peak)"),
        ("metering.gpu_margin_pct", round(margin * 100, 1), "%",
         "Revenue minus GPU fleet cost, over revenue (GPU only: CPU, network, storage and people excluded)"),
        ("metering.gpu_cost_share_pct", round(gpu_cost / revenue * 100, 1), "%",
         "GPU fleet cost as a share of revenue"),
        ("metering.overbilled_usd_per_month_at_ref", round(overbilled_usd), "USD",
         "Monthly overbilling from retries with fresh ids at the reference timeout rate"),
        ("metering.underbilled_usd_per_month_at_ref", round(underbilled_usd), "USD",
         "Monthly revenue lost with no retries at the reference timeout rate"),
        ("metering.rounding_chart_alt", rounding_chart.alt, "text", "Alt text of the rounding chart"),
        ("metering.delivery_chart_alt", delivery_chart.alt, "text", "Alt text of the delivery chart"),
    ), (rounding_chart, delivery_chart))


def _rounding_chart(uplift: dict, short_mean_s: float, mean_s: float) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.8)
    labels = [label for _key, label, *_rest in RULES]
    y = np.arange(len(RULES))
    height = 0.38
    for offset, workload, name, style in ((-height / 2, "sessions", f"Conversations (mean {mean_s:.0f} s)", 2),
                                          (height / 2, "commands", f"Voice commands (mean {short_mean_s:.0f} s)",
                                           0)):
        data = [uplift[(key, workload)] for key, *_rest in RULES]
        bars = ax.barh(y + offset, [max(d, AXIS_MIN_PCT) for d in data], height, label=name, color=charts.SERIES[style]["color"],
                       hatch="" if style == 2 else "//", edgecolor=charts.INK, linewidth=0.4)
        for bar, value in zip(bars, data):
            text = "under 0.01%" if value < 0.01 else f"{value:.2f}%" if value < 1 else f"{value:.1f}%" if value < 100 else f"{value:,.0f}%"
            ax.annotate(text, (bar.get_width(), bar.get_y() + bar.get_height() / 2), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7.5, color=charts.INK)
    ax.set_xscale("log")
    ax.set_xlim(AXIS_MIN_PCT, 5000)
    ax.set_yticks(y, labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("Billed audio above the exact audio (%, log scale)")
    ax.legend(fontsize=7.5, loc="lower right")
    ax.set_title("What the rounding rule adds to the bill", loc="left")
    g = lambda key, workload: uplift[(key, workload)]  # noqa: E731
    title = "Billed audio above the exact audio, by rounding rule, for conversations and voice commands"
    alt = (f"Horizontal bars on a log scale, one pair per rule. For conversations of {mean_s:.0f} s on average, "
           f"per-second rounding once per stream adds {g('per_second', 'sessions'):.2f}% and per-minute rounding "
           f"{g('per_minute', 'sessions'):.1f}%. For voice commands of {short_mean_s:.0f} s on average, per-second "
           f"rounding adds {g('per_second', 'commands'):.1f}%, a 15-second minimum "
           f"{g('per_second_min15', 'commands'):.0f}% and per-minute rounding {g('per_minute', 'commands'):,.0f}%. "
           f"Rounding up to the minute once, on the invoice's total, adds under 0.01% to either workload: where "
           f"the rounding happens matters more than the increment.")
    header = ["rule", "workload", "uplift_pct"]
    rows = [[key, workload, f"{uplift[(key, workload)]:.4f}"] for key, *_rest in RULES
            for workload in ("sessions", "commands")]
    return charts.Chart("metering-rounding", title, alt, charts.to_svg(fig, "metering-rounding", title, alt),
                        charts.to_csv(header, rows))


def _delivery_chart(rows: list[dict], reference_pct: float, accepted_share: float, max_retries: int,
                    found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.8)
    x = [r["timeout_pct"] for r in rows]
    series = (("fire_and_forget_pct", "No retries: lost events go unbilled"),
              ("fresh_ids_pct", f"Up to {max_retries} retries, fresh id each time"),
              ("dedup_pct", "Retries with one id per event, deduplicated, outbox"))
    for style, (key, label) in zip(charts.SERIES, series):
        ax.plot(x, [r[key] for r in rows], label=label, **style)
    ax.axhline(0, color=charts.INK, linewidth=0.8)
    ax.axvline(reference_pct, color=charts.ACCENT, linewidth=1.2, linestyle="-")
    ax.annotate(f"reference {reference_pct:g}%", (reference_pct, ax.get_ylim()[1]), xytext=(4, -12),
                textcoords="offset points", color=charts.ACCENT, fontsize=8)
    ax.set_xlabel("Deliveries whose acknowledgement times out (%)")
    ax.set_ylabel("Invoice error: billed over true audio (%)")
    ax.legend(fontsize=7.5, loc="lower left")
    ax.set_title("Retries and duplicates against the invoice", loc="left")
    title = "Invoice error against the usage-event timeout rate for three emitters"
    alt = (f"Three lines against the share of deliveries whose acknowledgement times out, from {x[0]:g}% to "
           f"{x[-1]:g}%, with {accepted_share:.0%} of timed-out events already stored. With no retries the invoice "
           f"falls short: {found['fire_and_forget_pct_at_ref']:.2f}% at {reference_pct:g}% and "
           f"{found['fire_and_forget_pct_at_max']:.1f}% at {x[-1]:g}%. Retrying with a fresh id each time "
           f"overbills by about as much: +{found['fresh_ids_pct_at_ref']:.2f}% and "
           f"+{found['fresh_ids_pct_at_max']:.1f}%. Retrying with one id per event into a deduplicating store, "
           f"with an outbox for events whose retries run out, bills the true audio at every rate.")
    header = ["timeout_pct", "fire_and_forget_pct", "fresh_ids_pct", "dedup_pct", "outbox_replays", "events"]
    table = charts.to_csv(header, [[r["timeout_pct"], f"{r['fire_and_forget_pct']:.4f}", f"{r['fresh_ids_pct']:.4f}",
                                    f"{r['dedup_pct']:.4f}", r["outbox_replays"], r["events"]] for r in rows])
    return charts.Chart("metering-delivery", title, alt, charts.to_svg(fig, "metering-delivery", title, alt), table)
