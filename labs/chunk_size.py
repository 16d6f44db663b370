"""Lab: the chunk-size trade-off of the reference system, latency against bytes on the wire, and the format arithmetic.

A deterministic calculation, not a simulation: every figure follows from the reference system and the protocol
rules below, so there is nothing to seed.

Latency. Three settings meet on the server: the client's chunk, the batcher's step and the recogniser's own step.
The cache-aware recogniser of the reference system runs in encoder frames of model.encoder_frame_ms, and with a
look-ahead of r frames it steps r + 1 frames at a time (NeMo's chunked_limited attention), so its step is the
look-ahead plus one frame: 80 ms at the 0 ms setting, 160 ms at the 80 ms setting. The batcher runs that step. A
word's last sample waits until the step that holds it is complete and the client chunk that completes that step has
arrived; that alignment wait is found by enumerating word endings on a 1 ms grid over one common period of chunk and
step. The word-to-text budget at chunk c is the latency_budget lab's stage sum with its capture stage (one reference
chunk, which equals one model step) replaced by that wait. The other stages are held at their values for the
reference chunk: the queue and batch figures are the batching lab's simulated p95s at the reference chunk, so they
are not measurements at other chunk sizes.

Bytes on the wire, at two layers, kept apart because Chapter 5's framing lab counts only the first:
  - WebSocket only: one chunk is one client-to-server WebSocket frame (RFC 6455: a 2-byte header, 2 more bytes of
    length from 126 bytes of payload and 8 from 65,536, and a 4-byte mask on every client frame);
  - WebSocket + TLS + TCP/IP: that frame in TLS 1.3 records of at most 16,384 bytes of plaintext (5-byte header,
    1 inner type byte and a 16-byte tag each), cut into TCP segments of at most one MSS, each with 20-byte IPv4 and
    TCP headers and no TCP options; sent with no delay (TCP_NODELAY), so no two chunks share a segment.
No WebSocket compression extension; acknowledgements and the downlink are left out. Two framings: binary frames
carrying the raw PCM, and JSON text frames carrying base64 (the reference system's transport). Per-message CPU cost
is Chapter 5's lab; this one counts bytes and messages.

Formats. Raw and base64 bytes per second, per 20 ms frame and per chunk, for the formats the chapter compares,
each computed from reference-system parameters with the reference system's own base64 rule.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from macros.reference_system import ReferenceSystem, base64_length, whole_bytes

from . import LabResult, charts, values

TITLE = "Chunk size: word-to-text latency against framing overhead, and the format arithmetic"
DEPENDS = ("latency_budget",)
PARAMS = {"chunks_ms": [10, 20, 40, 50, 80, 100, 120, 160, 200, 250, 320, 500],
          "reported_ms": [20, 80, 100, 160, 250]}
QUICK_PARAMS = PARAMS

TLS_MAX_PLAINTEXT = 16384  # bytes of content per TLS record (RFC 9846)
TICKS_MS = (10, 20, 40, 80, 160, 320, 500)  # labelled on the chart's log axis; the rest would overlap
STREAMS = 1000  # message and packet rates are stated per thousand streams


@dataclass(frozen=True)
class Framing:
    ws_base: int
    ws_mask: int
    json_envelope: int
    tls_header: int
    tls_inner_type: int
    tls_tag: int
    ip_header: int
    tcp_header: int
    mss: int

    @classmethod
    def from_reference(cls, system: ReferenceSystem) -> "Framing":
        v = lambda key: int(system.number(f"framing.{key}"))  # noqa: E731
        return cls(v("websocket_base_header_bytes"), v("websocket_mask_bytes"), v("json_envelope_bytes"),
                   v("tls_record_header_bytes"), v("tls_inner_type_bytes"), v("tls_aead_tag_bytes"),
                   v("ipv4_header_bytes"), v("tcp_header_bytes"), v("tcp_mss_bytes"))

    def websocket_frame(self, payload: int) -> int:
        """A masked client frame: base header, extended length (RFC 6455 section 5.2), mask, payload."""
        extended = 0 if payload <= 125 else 2 if payload <= 65535 else 8
        return self.ws_base + extended + self.ws_mask + payload

    def tls(self, plaintext: int) -> int:
        records = max(1, math.ceil(plaintext / TLS_MAX_PLAINTEXT))
        return plaintext + records * (self.tls_header + self.tls_inner_type + self.tls_tag)

    def packets(self, stream_bytes: int) -> int:
        return math.ceil(stream_bytes / self.mss)

    def websocket_only(self, payload: int) -> int:
        """Bytes of one client frame counting the WebSocket layer alone (what Chapter 5's framing lab counts)."""
        return self.websocket_frame(payload)

    def on_the_wire(self, payload: int) -> tuple[int, int]:
        """(bytes, packets) one message of `payload` bytes puts on the wire, client to server, WebSocket + TLS +
        TCP/IP."""
        tls_bytes = self.tls(self.websocket_frame(payload))
        packets = self.packets(tls_bytes)
        return tls_bytes + packets * (self.ip_header + self.tcp_header), packets


def aligned_wait_ms(chunk_ms: int, step_ms: int) -> tuple[float, float]:
    """Worst and mean wait from a word's last sample until the server can run the step that holds it, when the
    client sends chunk_ms chunks and the server runs step_ms steps; word endings uniform on a 1 ms grid."""
    period = chunk_ms * step_ms // math.gcd(chunk_ms, step_ms)
    waits = []
    for end in range(period):  # the last sample lies in [end, end + 1)
        step_done = (end // step_ms + 1) * step_ms
        arrived = math.ceil(step_done / chunk_ms) * chunk_ms
        waits.append(arrived - end)
    return float(max(waits)), sum(waits) / len(waits) - 0.5


def model_step_ms(lookahead_ms: float, frame_ms: float) -> int:
    """The recogniser's step: r frames of look-ahead plus the frame itself (NeMo chunked_limited: chunk = r + 1)."""
    frames = lookahead_ms / frame_ms
    if not float(frames).is_integer():
        raise ValueError(f"a look-ahead of {lookahead_ms} ms is not a whole number of {frame_ms} ms encoder frames")
    return int((frames + 1) * frame_ms)


def run(system: ReferenceSystem, deps: dict, *, chunks_ms: list[int], reported_ms: list[int]) -> LabResult:
    budget = deps["latency_budget"]
    reference_chunk = int(system.number("audio.chunk_ms"))
    frame_ms = system.number("model.encoder_frame_ms")
    target = system.number("slo.first_partial_p95_ms")
    lookahead = system.number("chunking.lookahead_ms")
    next_lookahead = min(x for x in system.numbers("chunking.lookahead_options_ms") if x > lookahead)
    step = model_step_ms(lookahead, frame_ms)
    next_step = model_step_ms(next_lookahead, frame_ms)
    reference_wait, _ = aligned_wait_ms(reference_chunk, step)
    others_ms = (budget.value("latency_budget.word_to_text_total_ms").value
                 - budget.value("latency_budget.stage.capture_ms").value)
    if budget.value("latency_budget.stage.capture_ms").value != reference_wait:
        raise ValueError(f"the reference chunk ({reference_chunk} ms) does not line up with the model's step "
                         f"({step} ms): its capture stage would understate the wait")
    framing = Framing.from_reference(system)
    bytes_per_second = system.number("audio.bytes_per_second")

    rows, found = [], []
    for chunk in chunks_ms:
        raw = whole_bytes(bytes_per_second * chunk / 1000, f"a {chunk} ms chunk")
        encoded = base64_length(raw)
        per_second = 1000 / chunk
        binary_bytes, binary_packets = framing.on_the_wire(raw)
        json_bytes, json_packets = framing.on_the_wire(encoded + framing.json_envelope)
        wait, mean_wait = aligned_wait_ms(chunk, step)
        next_wait, _ = aligned_wait_ms(chunk, next_step)
        row = {
            "chunk_ms": chunk, "raw_bytes": raw, "base64_bytes": encoded,
            "wait_ms": wait, "mean_wait_ms": mean_wait, "wait_next_ms": next_wait,
            "budget_ms": others_ms + wait, "budget_next_lookahead_ms": others_ms + next_wait,
            "ws_binary_bps": framing.websocket_only(raw) * per_second,
            "ws_json_bps": framing.websocket_only(encoded + framing.json_envelope) * per_second,
            "binary_bps": binary_bytes * per_second, "json_bps": json_bytes * per_second,
            "messages_per_s": STREAMS * per_second,
            "binary_packets_per_s": STREAMS * per_second * binary_packets,
            "json_packets_per_s": STREAMS * per_second * json_packets,
        }
        for key in ("ws_binary", "ws_json", "binary", "json"):
            row[f"{key}_overhead_pct"] = 100 * (row[f"{key}_bps"] / bytes_per_second - 1)
        rows.append(row)
        if chunk in reported_ms:
            found += _chunk_values(row)

    within = [r["chunk_ms"] for r in rows if r["budget_ms"] <= target]
    found += [
        ("chunk_size.other_stages_ms", others_ms, "ms",
         "Word-to-text stages other than the capture wait, from the latency_budget lab (queue and batch simulated "
         "at the reference chunk)"),
        ("chunk_size.encoder_frame_ms", frame_ms, "ms", "Audio per encoder frame of the recogniser"),
        ("chunk_size.lookahead_ms", lookahead, "ms", "Look-ahead of the recogniser in the running example"),
        ("chunk_size.model_step_ms", step, "ms", "The recogniser's step at the running example's look-ahead"),
        ("chunk_size.next_lookahead_ms", next_lookahead, "ms", "The next look-ahead setting the recogniser offers"),
        ("chunk_size.model_step_next_ms", next_step, "ms", "The recogniser's step at the next look-ahead setting"),
        ("chunk_size.largest_chunk_within_target_ms", max(within) if within else 0, "ms",
         "Largest chunk in the sweep whose word-to-text stage sum stays within the p95 target"),
        ("chunk_size.budget_next_lookahead_min_ms", min(r["budget_next_lookahead_ms"] for r in rows), "ms",
         "Smallest word-to-text stage sum at any chunk in the sweep with the next look-ahead setting"),
        ("chunk_size.next_lookahead_over_target_ms", min(r["budget_next_lookahead_ms"] for r in rows) - target, "ms",
         "How far the smallest stage sum with the next look-ahead setting exceeds the p95 target"),
        ("chunk_size.headroom_ms_at_reference", target - others_ms - reference_wait, "ms",
         "Word-to-text p95 target less the stage sum at the reference chunk"),
        ("chunk_size.target_ms", target, "ms", "Target p95 word to text"),
    ]
    found += _format_values(system)
    chart = _chart(rows, target, step, next_step, lookahead, next_lookahead, dict((k, v) for k, v, *_ in found))
    return LabResult(values(*found), (chart,))


def _chunk_values(row: dict) -> list[tuple]:
    c = row["chunk_ms"]
    at = f"at {c} ms chunks"
    return [
        (f"chunk_size.budget_ms_at_{c}", row["budget_ms"], "ms", f"Word-to-text stage sum {at}"),
        (f"chunk_size.budget_next_lookahead_ms_at_{c}", row["budget_next_lookahead_ms"], "ms",
         f"Word-to-text stage sum {at} with the next look-ahead setting"),
        (f"chunk_size.wait_ms_at_{c}", row["wait_ms"], "ms",
         f"Worst wait from a word's last sample until the model's step holding it can run, {at}"),
        (f"chunk_size.wait_next_ms_at_{c}", row["wait_next_ms"], "ms",
         f"The same wait with the next look-ahead setting, {at}"),
        (f"chunk_size.ws_binary_overhead_pct_at_{c}", round(row["ws_binary_overhead_pct"], 2), "%",
         f"Bytes above the raw audio, binary WebSocket frames, WebSocket layer only, {at}"),
        (f"chunk_size.ws_json_overhead_pct_at_{c}", round(row["ws_json_overhead_pct"], 1), "%",
         f"Bytes above the raw audio, base64 in JSON text frames, WebSocket layer only, {at}"),
        (f"chunk_size.binary_overhead_pct_at_{c}", round(row["binary_overhead_pct"], 1), "%",
         f"Bytes above the raw audio, binary WebSocket frames over TLS and TCP/IP, {at}"),
        (f"chunk_size.json_overhead_pct_at_{c}", round(row["json_overhead_pct"], 1), "%",
         f"Bytes above the raw audio, base64 in JSON text frames over TLS and TCP/IP, {at}"),
        (f"chunk_size.binary_bytes_per_s_at_{c}", round(row["binary_bps"]), "B/s",
         f"Bytes per second per stream on the wire, binary frames over TLS and TCP/IP, {at}"),
        (f"chunk_size.json_bytes_per_s_at_{c}", round(row["json_bps"]), "B/s",
         f"Bytes per second per stream on the wire, base64 JSON frames over TLS and TCP/IP, {at}"),
        (f"chunk_size.tls_tcp_bytes_per_s_at_{c}", round(row["binary_bps"] - row["ws_binary_bps"]), "B/s",
         f"Bytes per second per stream that TLS records and TCP/IP headers add to binary frames, {at}"),
        (f"chunk_size.messages_per_s_per_1000_at_{c}", round(row["messages_per_s"]), "messages/s",
         f"Messages per second a thousand streams send {at}"),
        (f"chunk_size.json_packets_per_s_per_1000_at_{c}", round(row["json_packets_per_s"]), "packets/s",
         f"TCP packets per second a thousand streams send {at}, base64 JSON frames"),
    ]


@dataclass(frozen=True)
class Format:
    id: str
    label: str
    bytes_per_second: float


def formats(system: ReferenceSystem) -> list[Format]:
    pcm_bits = system.number("audio.bits_per_sample")
    phone = system.number("codecs.telephony_sample_rate_hz")
    pcm = lambda rate, bits: rate * bits / 8 * system.number("audio.channels")  # noqa: E731
    return [
        Format("pcm16_16k", "LINEAR16, 16 kHz", pcm(system.number("audio.sample_rate_hz"), pcm_bits)),
        Format("pcm16_24k", "PCM16, 24 kHz", pcm(system.number("codecs.realtime_pcm_sample_rate_hz"), pcm_bits)),
        Format("pcm16_8k", "LINEAR16, 8 kHz", pcm(phone, pcm_bits)),
        Format("mulaw_8k", "G.711 mu-law, 8 kHz", pcm(phone, system.number("codecs.g711_bits_per_sample"))),
        Format("opus_16k", "Opus, 16 kbit/s", system.number("codecs.opus_speech_bitrate_bps") / 8),
    ]


def _format_values(system: ReferenceSystem) -> list[tuple]:
    frame_ms, chunk_ms = system.number("audio.frame_ms"), system.number("audio.chunk_ms")
    found = []
    for f in formats(system):
        frame = whole_bytes(f.bytes_per_second * frame_ms / 1000, f"a {frame_ms} ms frame of {f.label}")
        chunk = whole_bytes(f.bytes_per_second * chunk_ms / 1000, f"a {chunk_ms} ms chunk of {f.label}")
        key = f"chunk_size.format.{f.id}"
        found += [
            (f"{key}.bytes_per_second", f.bytes_per_second, "B/s", f"{f.label}: bytes per second"),
            (f"{key}.kbit_per_second", f.bytes_per_second * 8 / 1000, "kbit/s", f"{f.label}: bit rate"),
            (f"{key}.frame_bytes_raw", frame, "B", f"{f.label}: bytes per {frame_ms} ms frame"),
            (f"{key}.frame_bytes_base64", base64_length(frame), "B", f"{f.label}: base64 per {frame_ms} ms frame"),
            (f"{key}.chunk_bytes_raw", chunk, "B", f"{f.label}: bytes per {chunk_ms} ms chunk"),
            (f"{key}.chunk_bytes_base64", base64_length(chunk), "B", f"{f.label}: base64 per {chunk_ms} ms chunk"),
            (f"{key}.base64_bytes_per_second", base64_length(chunk) * 1000 / chunk_ms, "B/s",
             f"{f.label}: base64 bytes per second, chunk by chunk"),
        ]
    return found


def _chart(rows: list[dict], target: float, step: int, next_step: int, lookahead: float, next_lookahead: float,
           found: dict) -> charts.Chart:
    charts.setup()
    fig, (left, right) = charts.plt.subplots(1, 2, figsize=(7.2, 3.6), layout="constrained")
    x = [r["chunk_ms"] for r in rows]
    series = (
        ("budget_ms", f"Look-ahead {lookahead:.0f} ms: model step {step} ms"),
        ("budget_next_lookahead_ms", f"Look-ahead {next_lookahead:.0f} ms: model step {next_step} ms"),
    )
    for style, (key, label) in zip(charts.SERIES, series):
        left.plot(x, [r[key] for r in rows], label=label, **style)
    left.axhline(target, color=charts.ACCENT, linewidth=1.4)
    left.annotate(f"p95 target {target:.0f} ms", (x[-1], target), xytext=(0, -11), textcoords="offset points",
                  ha="right", color=charts.ACCENT, fontsize=8)
    left.set_xscale("log")
    ticks = [c for c in x if c in TICKS_MS]
    left.set_xticks(ticks, [str(c) for c in ticks], fontsize=8)
    left.minorticks_off()
    left.set_ylim(0, 900)
    left.set_xlabel("Client chunk (ms, log scale)")
    left.set_ylabel("Word-to-text stage sum (ms)")
    left.set_title("Latency: chunk against model step", loc="left")
    left.legend(fontsize=7, loc="upper left")

    layer_styles = (  # binary dark, base64 light; full stack solid, WebSocket layer only dotted
        {**charts.SERIES[2]}, {**charts.SERIES[2], "linestyle": ":"},
        {**charts.SERIES[0], "linestyle": "-"}, {**charts.SERIES[0]},
    )
    for style, (key, label) in zip(layer_styles, (("binary_overhead_pct", "Binary, WebSocket + TLS + TCP/IP"),
                                                    ("ws_binary_overhead_pct", "Binary, WebSocket only"),
                                                    ("json_overhead_pct", "Base64 JSON, WebSocket + TLS + TCP/IP"),
                                                    ("ws_json_overhead_pct", "Base64 JSON, WebSocket only"))):
        right.plot(x, [r[key] for r in rows], label=label, **style)
    right.set_xscale("log")
    right.set_xticks(ticks, [str(c) for c in ticks], fontsize=8)
    right.minorticks_off()
    right.set_ylim(0, 90)
    right.set_xlabel("Client chunk (ms, log scale)")
    right.set_ylabel("Bytes on the wire above raw audio (%)")
    right.set_title("Overhead by layer", loc="left")
    right.legend(fontsize=6.5, loc="upper right")

    title = "Chunk size against word-to-text latency and bytes on the wire"
    g = lambda key: found[key]  # noqa: E731
    alt = (f"Two panels against the client's chunk from {x[0]} to {x[-1]} ms. Left: with no look-ahead the "
           f"recogniser steps every {step} ms, so chunks of {step} ms or any divisor of it give a stage sum of "
           f"{g('chunk_size.budget_ms_at_80'):.0f} ms, under the {target:.0f} ms target, while chunks that do not "
           f"divide the step wait longer: 100 ms chunks reach {g('chunk_size.budget_ms_at_100'):.0f} ms, over the "
           f"target. With the {next_lookahead:.0f} ms look-ahead the step is {next_step} ms and no chunk size brings "
           f"the sum below {g('chunk_size.budget_next_lookahead_min_ms'):.0f} ms. Right: overhead falls as chunks "
           f"grow. At {step} ms, binary frames add {g('chunk_size.ws_binary_overhead_pct_at_80'):.2f}% counting the "
           f"WebSocket layer alone and {g('chunk_size.binary_overhead_pct_at_80'):.1f}% with TLS and TCP/IP; base64 "
           f"in JSON adds {g('chunk_size.ws_json_overhead_pct_at_80'):.1f}% and "
           f"{g('chunk_size.json_overhead_pct_at_80'):.1f}%, never below the 33% of base64 itself.")
    header = ["chunk_ms", "raw_bytes", "base64_bytes", "wait_ms", "mean_wait_ms", "wait_next_ms", "budget_ms",
              "budget_next_lookahead_ms", "ws_binary_overhead_pct", "ws_json_overhead_pct", "binary_overhead_pct",
              "json_overhead_pct", "binary_bps", "json_bps", "messages_per_s_per_1000",
              "binary_packets_per_s_per_1000", "json_packets_per_s_per_1000"]
    table = charts.to_csv(header, [[r["chunk_ms"], r["raw_bytes"], r["base64_bytes"], f"{r['wait_ms']:.0f}",
                                    f"{r['mean_wait_ms']:.1f}", f"{r['wait_next_ms']:.0f}", f"{r['budget_ms']:.1f}",
                                    f"{r['budget_next_lookahead_ms']:.1f}", f"{r['ws_binary_overhead_pct']:.3f}",
                                    f"{r['ws_json_overhead_pct']:.2f}", f"{r['binary_overhead_pct']:.2f}",
                                    f"{r['json_overhead_pct']:.2f}", f"{r['binary_bps']:.0f}", f"{r['json_bps']:.0f}",
                                    f"{r['messages_per_s']:.0f}", f"{r['binary_packets_per_s']:.0f}",
                                    f"{r['json_packets_per_s']:.0f}"] for r in rows])
    return charts.Chart("chunk-size-tradeoff", title, alt, charts.to_svg(fig, "chunk-size-tradeoff", title, alt),
                        table)
