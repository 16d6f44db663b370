"""Lab: the chunk-size trade-off of the reference system, latency against bytes on the wire, and the format table.

A deterministic calculation, not a simulation: every figure follows from the reference system and the protocol
rules below, so there is nothing to seed.

Latency. A sound at the start of a chunk cannot leave the client until the chunk is full, so the chunk duration is
the worst-case capture wait. The word-to-text budget at chunk c is the latency_budget lab's stage sum with its
capture stage (one reference chunk) replaced by c, plus the recogniser's look-ahead. The other stages are held at
their values for the reference chunk: the queue and batch figures are the batching lab's simulated p95s for
100 ms chunks, and a smaller chunk sends more, smaller batches, so those two stages are not measurements at other
chunk sizes. When the server keeps its own step (it batches audio.chunk_ms of audio whatever the client sends),
the wait is set by whichever boundary comes later: the step that holds the word's last sample must be complete and
the transport chunk that completes it must have arrived. That alignment wait is found by enumerating word endings
on a 1 ms grid over one common period of chunk and step.

Bytes on the wire. One chunk is one WebSocket message in one frame (RFC 6455: a 2-byte header, 2 more bytes of
length from 126 bytes of payload and 8 from 65,536, and a 4-byte mask on every client frame), carried in TLS 1.3
records of at most 16,384 bytes of plaintext (5-byte header, 1 inner type byte and a 16-byte tag each), cut into TCP
segments of at most one MSS, each with 20-byte IPv4 and TCP headers. Sent with no delay (TCP_NODELAY), so no two
chunks share a segment; acknowledgements and the downlink are left out. Two framings: binary frames carrying the
raw PCM, and JSON text frames carrying base64 (the reference system's transport). Per-message CPU cost is
Chapter 5's lab; this one counts bytes and messages.

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
PARAMS = {"chunks_ms": [10, 20, 40, 50, 80, 100, 160, 200, 250, 500, 1000], "reported_ms": [20, 100, 250]}
QUICK_PARAMS = PARAMS

TLS_MAX_PLAINTEXT = 16384  # bytes of content per TLS record (RFC 9846)
TICKS_MS = (10, 20, 50, 100, 250, 500, 1000)  # labelled on the chart's log axis; the rest would overlap
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
        v = lambda key: int(system.value(f"framing.{key}"))  # noqa: E731
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

    def on_the_wire(self, payload: int) -> tuple[int, int]:
        """(bytes, packets) one message of `payload` bytes puts on the wire, client to server."""
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


def run(system: ReferenceSystem, deps: dict, *, chunks_ms: list[int], reported_ms: list[int]) -> LabResult:
    budget = deps["latency_budget"]
    reference_chunk = int(system.value("audio.chunk_ms"))
    others_ms = (budget.value("latency_budget.word_to_text_total_ms").value
                 - budget.value("latency_budget.stage.capture_ms").value)
    target = system.value("slo.first_partial_p95_ms")
    lookahead = system.value("chunking.lookahead_ms")
    next_lookahead = min(x for x in system.value("chunking.lookahead_options_ms") if x > lookahead)
    framing = Framing.from_reference(system)
    bytes_per_second = system.value("audio.bytes_per_second")

    rows, found = [], []
    for chunk in chunks_ms:
        raw = whole_bytes(bytes_per_second * chunk / 1000, f"a {chunk} ms chunk")
        encoded = base64_length(raw)
        per_second = 1000 / chunk
        binary_bytes, binary_packets = framing.on_the_wire(raw)
        json_bytes, json_packets = framing.on_the_wire(encoded + framing.json_envelope)
        worst_fixed, mean_fixed = aligned_wait_ms(chunk, reference_chunk)
        row = {
            "chunk_ms": chunk, "raw_bytes": raw, "base64_bytes": encoded,
            "budget_ms": others_ms + chunk + lookahead,
            "budget_next_lookahead_ms": others_ms + chunk + next_lookahead,
            "budget_fixed_step_ms": others_ms + worst_fixed + lookahead,
            "fixed_step_worst_ms": worst_fixed, "fixed_step_mean_ms": mean_fixed,
            "binary_bps": binary_bytes * per_second, "json_bps": json_bytes * per_second,
            "binary_overhead_pct": 100 * (binary_bytes * per_second / bytes_per_second - 1),
            "json_overhead_pct": 100 * (json_bytes * per_second / bytes_per_second - 1),
            "messages_per_s": STREAMS * per_second,
            "binary_packets_per_s": STREAMS * per_second * binary_packets,
            "json_packets_per_s": STREAMS * per_second * json_packets,
        }
        rows.append(row)
        if chunk in reported_ms:
            found += _chunk_values(row)

    within = [r["chunk_ms"] for r in rows if r["budget_ms"] <= target]
    within_next = [r["chunk_ms"] for r in rows if r["budget_next_lookahead_ms"] <= target]
    found += [
        ("chunk_size.other_stages_ms", others_ms, "ms",
         "Word-to-text stages other than capture, from the latency_budget lab (queue and batch simulated at 100 ms)"),
        ("chunk_size.lookahead_ms", lookahead, "ms", "Look-ahead of the recogniser in the running example"),
        ("chunk_size.next_lookahead_ms", next_lookahead, "ms", "The next look-ahead setting the recogniser offers"),
        ("chunk_size.largest_chunk_within_target_ms", max(within) if within else 0, "ms",
         "Largest chunk in the sweep whose word-to-text stage sum stays within the p95 target"),
        ("chunk_size.largest_chunk_within_target_next_lookahead_ms", max(within_next) if within_next else 0, "ms",
         "The same with the next look-ahead setting"),
        ("chunk_size.target_ms", target, "ms", "Target p95 word to text"),
    ]
    found += _format_values(system)
    chart = _chart(rows, target, reference_chunk, lookahead, next_lookahead, dict((k, v) for k, v, *_ in found))
    return LabResult(values(*found), (chart,))


def _chunk_values(row: dict) -> list[tuple]:
    c = row["chunk_ms"]
    at = f"at {c} ms chunks"
    return [
        (f"chunk_size.budget_ms_at_{c}", row["budget_ms"], "ms", f"Word-to-text stage sum {at}"),
        (f"chunk_size.budget_next_lookahead_ms_at_{c}", row["budget_next_lookahead_ms"], "ms",
         f"Word-to-text stage sum {at} with the next look-ahead setting"),
        (f"chunk_size.fixed_step_worst_ms_at_{c}", row["fixed_step_worst_ms"], "ms",
         f"Worst wait for the server's fixed step {at}"),
        (f"chunk_size.binary_overhead_pct_at_{c}", round(row["binary_overhead_pct"], 1), "%",
         f"Bytes on the wire above the raw audio, binary WebSocket frames over TLS and TCP, {at}"),
        (f"chunk_size.json_overhead_pct_at_{c}", round(row["json_overhead_pct"], 1), "%",
         f"Bytes on the wire above the raw audio, base64 in JSON text frames over TLS and TCP, {at}"),
        (f"chunk_size.binary_bytes_per_s_at_{c}", round(row["binary_bps"]), "B/s",
         f"Bytes per second per stream on the wire, binary frames, {at}"),
        (f"chunk_size.json_bytes_per_s_at_{c}", round(row["json_bps"]), "B/s",
         f"Bytes per second per stream on the wire, base64 JSON frames, {at}"),
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
    pcm_bits = system.value("audio.bits_per_sample")
    phone = system.value("codecs.telephony_sample_rate_hz")
    pcm = lambda rate, bits: rate * bits / 8 * system.value("audio.channels")  # noqa: E731
    return [
        Format("pcm16_16k", "LINEAR16, 16 kHz", pcm(system.value("audio.sample_rate_hz"), pcm_bits)),
        Format("pcm16_24k", "PCM16, 24 kHz", pcm(system.value("codecs.realtime_pcm_sample_rate_hz"), pcm_bits)),
        Format("pcm16_8k", "LINEAR16, 8 kHz", pcm(phone, pcm_bits)),
        Format("mulaw_8k", "G.711 mu-law, 8 kHz", pcm(phone, system.value("codecs.g711_bits_per_sample"))),
        Format("opus_16k", "Opus, 16 kbit/s", system.value("codecs.opus_speech_bitrate_bps") / 8),
    ]


def _format_values(system: ReferenceSystem) -> list[tuple]:
    frame_ms, chunk_ms = system.value("audio.frame_ms"), system.value("audio.chunk_ms")
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


def _chart(rows: list[dict], target: float, reference_chunk: int, lookahead: float, next_lookahead: float,
           found: dict) -> charts.Chart:
    charts.setup()
    fig, (left, right) = charts.plt.subplots(1, 2, figsize=(7.2, 3.5), layout="constrained")
    x = [r["chunk_ms"] for r in rows]
    series = (
        ("budget_ms", f"Server step = chunk, look-ahead {lookahead:.0f} ms"),
        ("budget_next_lookahead_ms", f"Server step = chunk, look-ahead {next_lookahead:.0f} ms"),
        ("budget_fixed_step_ms", f"Server step fixed at {reference_chunk} ms"),
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
    left.set_ylim(0, 800)
    left.set_xlabel("Chunk (ms, log scale)")
    left.set_ylabel("Word-to-text stage sum (ms)")
    left.set_title("Latency: chunk plus look-ahead", loc="left")
    left.legend(fontsize=7, loc="upper left")

    for style, (key, label) in zip(charts.SERIES[1:], (("binary_overhead_pct", "Binary frames"),
                                                        ("json_overhead_pct", "Base64 in JSON"))):
        right.plot(x, [r[key] for r in rows], label=label, **style)
    right.set_xscale("log")
    right.set_xticks(ticks, [str(c) for c in ticks], fontsize=8)
    right.minorticks_off()
    right.set_ylim(0, 80)
    right.set_xlabel("Chunk (ms, log scale)")
    right.set_ylabel("Bytes on the wire above raw audio (%)")
    right.set_title("Overhead: WebSocket, TLS, TCP/IP", loc="left")
    right.legend(fontsize=7, loc="upper right")

    title = "Chunk size against word-to-text latency and bytes on the wire"
    g = lambda key: found[key]  # noqa: E731
    alt = (f"Two panels against chunk size from {x[0]} to {x[-1]} ms. Left: the word-to-text stage sum grows one "
           f"millisecond per millisecond of chunk and crosses the {target:.0f} ms target above "
           f"{g('chunk_size.largest_chunk_within_target_ms'):.0f} ms chunks, or above "
           f"{g('chunk_size.largest_chunk_within_target_next_lookahead_ms'):.0f} ms with the {next_lookahead:.0f} ms "
           f"look-ahead; if the server keeps a {reference_chunk} ms step, chunks smaller than it save nothing. "
           f"Right: overhead on the wire falls as chunks grow, from {g('chunk_size.binary_overhead_pct_at_20'):.1f}% "
           f"at 20 ms to {g('chunk_size.binary_overhead_pct_at_100'):.1f}% at 100 ms for binary frames, and from "
           f"{g('chunk_size.json_overhead_pct_at_20'):.1f}% to {g('chunk_size.json_overhead_pct_at_100'):.1f}% for "
           "base64 in JSON, which never drops below the 33% of base64 itself.")
    header = ["chunk_ms", "raw_bytes", "base64_bytes", "budget_ms", "budget_next_lookahead_ms",
              "budget_fixed_step_ms", "fixed_step_worst_ms", "fixed_step_mean_ms", "binary_bps", "json_bps",
              "binary_overhead_pct", "json_overhead_pct", "messages_per_s_per_1000", "binary_packets_per_s_per_1000",
              "json_packets_per_s_per_1000"]
    table = charts.to_csv(header, [[r["chunk_ms"], r["raw_bytes"], r["base64_bytes"], f"{r['budget_ms']:.1f}",
                                    f"{r['budget_next_lookahead_ms']:.1f}", f"{r['budget_fixed_step_ms']:.1f}",
                                    f"{r['fixed_step_worst_ms']:.0f}", f"{r['fixed_step_mean_ms']:.1f}",
                                    f"{r['binary_bps']:.0f}", f"{r['json_bps']:.0f}",
                                    f"{r['binary_overhead_pct']:.2f}", f"{r['json_overhead_pct']:.2f}",
                                    f"{r['messages_per_s']:.0f}", f"{r['binary_packets_per_s']:.0f}",
                                    f"{r['json_packets_per_s']:.0f}"] for r in rows])
    return charts.Chart("chunk-size-tradeoff", title, alt, charts.to_svg(fig, "chunk-size-tradeoff", title, alt),
                        table)
