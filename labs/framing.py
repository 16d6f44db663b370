"""Lab: binary against base64-in-JSON WebSocket framing for the reference system's audio, bytes and CPU.

Two parts, kept apart because they are different kinds of evidence:

- Bytes on the wire (deterministic arithmetic): for each chunk duration, the bytes one stream puts on the wire per
  second of audio as a client-to-server WebSocket message, counting the RFC 6455 frame header (2, 4 or 10 bytes by
  payload length) and the 4-byte masking key every client frame carries; the payload is either the raw PCM (a
  binary frame) or a JSON message holding the audio as base64 text (a text frame). A gRPC message (a protobuf
  `bytes` field, the 5-byte gRPC prefix and the 9-byte HTTP/2 DATA frame header) is computed beside them. TLS, TCP
  and IP overheads are left out: they are the same for all three up to record and segment boundaries.
- CPU time (a measurement on this machine): the time to build and to parse one chunk's message on each side, for
  both framings, with the masking XOR done by numpy and base64 and JSON by Python's C implementations (binascii,
  json). Each timing is the fastest of repeated passes over a seeded set of chunks; it is reported per thousand
  concurrent streams (10,000 chunks per second at 100 ms chunks) as milliseconds of CPU per second, which is the
  same as thousandths of one core. CPU timings vary from run to run and machine to machine; the chart and the
  prose claim only the ratios between framings, and the values record the machine and Python that produced them.
"""
from __future__ import annotations

import base64
import binascii
import gc
import json
import os
import platform
import time

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Framing: binary against base64 JSON WebSocket messages, bytes on the wire and CPU per thousand streams"
DEPENDS = ()
PARAMS = {"seed": 5, "chunks": 2000, "repeats": 15, "streams": 1000}
QUICK_PARAMS = {"seed": 5, "chunks": 200, "repeats": 3, "streams": 1000}

MASK_KEY_BYTES = 4           # RFC 6455 s5.2: masking key, present in every client-to-server frame
GRPC_PREFIX_BYTES = 5        # gRPC: 1-byte compressed flag + 4-byte message length
HTTP2_FRAME_HEADER_BYTES = 9  # RFC 9113 s4.1


def ws_header_bytes(payload: int, masked: bool) -> int:
    """RFC 6455 s5.2: 2 bytes, plus 2 (payload 126..65,535) or 8 (larger) of extended length, plus the mask key."""
    extended = 0 if payload <= 125 else 2 if payload <= 65535 else 8
    return 2 + extended + (MASK_KEY_BYTES if masked else 0)


def varint_bytes(value: int) -> int:
    """Protobuf base-128 varint length."""
    size = 1
    while value >= 0x80:
        value >>= 7
        size += 1
    return size


def json_message(audio: bytes, seq: int) -> bytes:
    """The text message of the base64 framing: the audio as base64 inside a small JSON object."""
    return json.dumps({"type": "audio", "seq": seq, "audio": base64.b64encode(audio).decode("ascii")},
                      separators=(",", ":")).encode("utf-8")


def grpc_message_bytes(raw: int, seq: int) -> int:
    """A protobuf `AudioChunk { bytes audio = 1; uint64 seq = 2; }` in a gRPC message in one HTTP/2 DATA frame."""
    body = 1 + varint_bytes(raw) + raw + 1 + varint_bytes(seq)
    return HTTP2_FRAME_HEADER_BYTES + GRPC_PREFIX_BYTES + body


def wire_bytes_per_second(bytes_per_second: int, chunk_ms: float, seq: int) -> dict[str, float]:
    """Client-to-server bytes per stream-second for each framing, at one chunk duration."""
    raw = round(bytes_per_second * chunk_ms / 1000)
    per_second = 1000 / chunk_ms
    text = len(json_message(bytes(raw), seq))
    return {
        "raw": raw * per_second,
        "binary": (raw + ws_header_bytes(raw, masked=True)) * per_second,
        "base64_json": (text + ws_header_bytes(text, masked=True)) * per_second,
        "grpc": grpc_message_bytes(raw, seq) * per_second,
        "binary_server": (raw + ws_header_bytes(raw, masked=False)) * per_second,
    }


# --- the CPU measurement ----------------------------------------------------------------------------------------

def _frame(payload: bytes, opcode: int, mask: bytes | None) -> bytes:
    n = len(payload)
    head = bytearray([0x80 | opcode])
    flag = 0x80 if mask else 0
    if n <= 125:
        head.append(flag | n)
    elif n <= 65535:
        head.append(flag | 126)
        head += n.to_bytes(2, "big")
    else:
        head.append(flag | 127)
        head += n.to_bytes(8, "big")
    if mask:
        head += mask
        payload = _xor(payload, mask)
    return bytes(head) + payload


def _xor(data: bytes, mask: bytes) -> bytes:
    """Apply (or remove) the RFC 6455 masking: byte i is XORed with mask[i mod 4]."""
    n = len(data)
    padded = data + bytes(-n % 4)  # whole 32-bit words; the padding is cut off again below
    words = np.frombuffer(padded, dtype="<u4")
    return np.bitwise_xor(words, np.frombuffer(mask, dtype="<u4")[0]).tobytes()[:n]


def _parse(frame: bytes) -> tuple[int, bytes]:
    opcode = frame[0] & 0x0F
    masked = frame[1] & 0x80
    n = frame[1] & 0x7F
    at = 2
    if n == 126:
        n, at = int.from_bytes(frame[2:4], "big"), 4
    elif n == 127:
        n, at = int.from_bytes(frame[2:10], "big"), 10
    if masked:
        mask = frame[at:at + 4]
        return opcode, _xor(frame[at + 4:at + 4 + n], mask)
    return opcode, frame[at:at + n]


def client_send_binary(audio: bytes, seq: int, mask: bytes) -> bytes:
    return _frame(audio, 0x2, mask)


def client_send_base64(audio: bytes, seq: int, mask: bytes) -> bytes:
    return _frame(json_message(audio, seq), 0x1, mask)


def server_receive_binary(frame: bytes) -> bytes:
    opcode, payload = _parse(frame)
    assert opcode == 0x2
    return payload


def server_receive_base64(frame: bytes) -> bytes:
    opcode, payload = _parse(frame)
    assert opcode == 0x1
    message = json.loads(payload)  # parses the UTF-8 bytes directly
    return binascii.a2b_base64(message["audio"])


def _median_us(function, inputs: list[tuple], repeats: int) -> float:
    """Fastest of `repeats` passes of the time per call, in microseconds (garbage collection paused)."""
    for args in inputs[: max(1, len(inputs) // 10)]:  # warm-up
        function(*args)
    samples = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for args in inputs:
                function(*args)
            samples.append((time.perf_counter_ns() - start) / 1000 / len(inputs))
    finally:
        if enabled:
            gc.enable()
    return min(samples)  # the least disturbed pass, as timeit advises; noise only ever adds time


def measure_cpu(raw: int, chunks: int, repeats: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng([seed, raw])
    audio = [rng.integers(-3000, 3000, raw // 2, dtype=np.int16).astype("<i2").tobytes() for _ in range(chunks)]
    masks = [rng.integers(0, 256, 4, dtype=np.uint8).tobytes() for _ in range(chunks)]
    binary_frames = [client_send_binary(a, i, m) for i, (a, m) in enumerate(zip(audio, masks))]
    text_frames = [client_send_base64(a, i, m) for i, (a, m) in enumerate(zip(audio, masks))]
    for a, b, t in zip(audio[:5], binary_frames, text_frames):  # the parsers give back the audio that was sent
        assert server_receive_binary(b) == a and server_receive_base64(t) == a
    return {
        "encode_binary": _median_us(client_send_binary, [(a, i, m) for i, (a, m) in enumerate(zip(audio, masks))],
                                    repeats),
        "encode_base64": _median_us(client_send_base64, [(a, i, m) for i, (a, m) in enumerate(zip(audio, masks))],
                                    repeats),
        "decode_binary": _median_us(server_receive_binary, [(f,) for f in binary_frames], repeats),
        "decode_base64": _median_us(server_receive_base64, [(f,) for f in text_frames], repeats),
    }


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} logical CPUs, Python {platform.python_version()}, numpy {np.__version__}"


# --- the lab ----------------------------------------------------------------------------------------------------

def run(system: ReferenceSystem, deps: dict, *, seed: int, chunks: int, repeats: int, streams: int) -> LabResult:
    bytes_per_second = system.value("audio.bytes_per_second")
    chunk_ms = system.value("audio.chunk_ms")
    frame_ms = system.value("audio.frame_ms")
    sweep = system.value("framing.sweep_chunk_ms")
    # A representative sequence number: the middle chunk of a mean-length session.
    seq = int(system.value("sessions.mean_s") * 1000 / chunk_ms / 2)

    rows = [(ms, wire_bytes_per_second(bytes_per_second, ms, int(seq * chunk_ms / ms))) for ms in sweep]
    at_chunk = wire_bytes_per_second(bytes_per_second, chunk_ms, seq)
    at_frame = wire_bytes_per_second(bytes_per_second, frame_ms, int(seq * chunk_ms / frame_ms))
    raw = round(bytes_per_second * chunk_ms / 1000)
    text_len = len(json_message(bytes(raw), seq))
    overhead = lambda framing, table: 100 * (table[framing] / table["raw"] - 1)  # noqa: E731

    # Telephony: 8 kHz mu-law in 20 ms JSON media messages, as a telephony media stream carries it.
    tel_rate = system.value("framing.telephony_sample_rate_hz")
    tel_raw = round(tel_rate * frame_ms / 1000)  # one byte per mu-law sample
    tel_text = len(json.dumps({"event": "media", "streamSid": "M" + "0" * 33, "media": {
        "payload": base64.b64encode(bytes(tel_raw)).decode("ascii")}}, separators=(",", ":")))
    tel_per_second = 1000 / frame_ms

    cpu = measure_cpu(raw, chunks, repeats, seed)
    chunks_per_second = streams * 1000 / chunk_ms
    per_thousand = {k: v * chunks_per_second / 1000 for k, v in cpu.items()}  # us per chunk -> CPU ms per second
    encode_ratio = cpu["encode_base64"] / cpu["encode_binary"]
    decode_ratio = cpu["decode_base64"] / cpu["decode_binary"]

    found = values(
        ("framing.chunk_raw_b", raw, "B", "Raw PCM bytes in one reference chunk"),
        ("framing.chunk_json_b", text_len, "B", "Bytes of the JSON text message carrying one chunk as base64"),
        ("framing.ws_header_client_b", ws_header_bytes(raw, True), "B",
         "WebSocket header of one client binary frame of a reference chunk, masking key included"),
        ("framing.binary_client_b_per_s", at_chunk["binary"], "B/s",
         "Client-to-server bytes per stream-second, binary frames, reference chunk"),
        ("framing.base64_client_b_per_s", at_chunk["base64_json"], "B/s",
         "Client-to-server bytes per stream-second, base64 JSON text frames, reference chunk"),
        ("framing.grpc_client_b_per_s", at_chunk["grpc"], "B/s",
         "Client-to-server bytes per stream-second, gRPC messages in HTTP/2 DATA frames, reference chunk"),
        ("framing.binary_server_b_per_s", at_chunk["binary_server"], "B/s",
         "Server-to-client bytes per stream-second of the same audio in unmasked binary frames"),
        ("framing.binary_overhead_pct", overhead("binary", at_chunk), "%",
         "Framing overhead of binary frames over the raw audio, reference chunk"),
        ("framing.base64_overhead_pct", overhead("base64_json", at_chunk), "%",
         "Overhead of base64 JSON text frames over the raw audio, reference chunk"),
        ("framing.grpc_overhead_pct", overhead("grpc", at_chunk), "%", "Overhead of gRPC framing, reference chunk"),
        ("framing.base64_over_binary_pct", 100 * (at_chunk["base64_json"] / at_chunk["binary"] - 1), "%",
         "Extra bytes of base64 JSON over binary frames, reference chunk"),
        ("framing.binary_overhead_pct_at_frame", overhead("binary", at_frame), "%",
         "Binary framing overhead at one 20 ms frame per message"),
        ("framing.base64_overhead_pct_at_frame", overhead("base64_json", at_frame), "%",
         "Base64 JSON overhead at one 20 ms frame per message"),
        ("framing.extra_gb_per_1000_stream_hours", (at_chunk["base64_json"] - at_chunk["binary"]) * 3600 * 1000 / 1e9,
         "GB", "Extra ingress of base64 JSON over binary for 1,000 stream-hours"),
        ("framing.telephony_raw_b_per_s", tel_raw * tel_per_second, "B/s", "Raw 8 kHz mu-law bytes per second"),
        ("framing.telephony_json_b_per_s", (tel_text + ws_header_bytes(tel_text, True)) * tel_per_second, "B/s",
         "Telephony media stream: 20 ms mu-law in base64 JSON messages, masked, per stream-second"),
        ("framing.telephony_overhead_pct",
         100 * ((tel_text + ws_header_bytes(tel_text, True)) / tel_raw - 1), "%",
         "Overhead of the telephony JSON media message over the raw mu-law"),
        ("framing.cpu_encode_binary_us", cpu["encode_binary"], "us", "Median CPU time to build one binary frame"),
        ("framing.cpu_encode_base64_us", cpu["encode_base64"], "us",
         "Median CPU time to build one base64 JSON text frame"),
        ("framing.cpu_decode_binary_us", cpu["decode_binary"], "us", "Median CPU time to parse one binary frame"),
        ("framing.cpu_decode_base64_us", cpu["decode_base64"], "us",
         "Median CPU time to parse one base64 JSON text frame back to audio"),
        ("framing.cpu_decode_binary_ms_per_s_1000", per_thousand["decode_binary"], "ms/s",
         "Server CPU per second for 1,000 streams, binary frames (thousandths of a core)"),
        ("framing.cpu_decode_base64_ms_per_s_1000", per_thousand["decode_base64"], "ms/s",
         "Server CPU per second for 1,000 streams, base64 JSON frames (thousandths of a core)"),
        ("framing.cpu_encode_ratio", encode_ratio, "1", "Client build time, base64 JSON over binary"),
        ("framing.cpu_decode_ratio", decode_ratio, "1", "Server parse time, base64 JSON over binary"),
        ("framing.machine", machine(), "text", "Where the CPU timings were measured"),
        ("framing.method", f"fastest of {repeats} passes over {chunks} seeded chunks of {raw} B per framing, "
         "perf_counter, garbage collection paused, one thread; masking by numpy, base64 by binascii, JSON by the "
         "standard library", "text", "How the CPU timings were measured"),
    )
    return LabResult(found, (_bytes_chart(rows, chunk_ms), _cpu_chart(cpu, per_thousand, streams, chunk_ms, found)))


def _bytes_chart(rows: list[tuple[float, dict]], chunk_ms: float) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.8)
    xs = [ms for ms, _ in rows]
    series = (("base64_json", "Base64 in JSON, text frame"), ("grpc", "gRPC message, HTTP/2 DATA frame"),
              ("binary", "Binary frame"))
    for style, (key, label) in zip(charts.SERIES[::-1], series):
        ax.plot(xs, [100 * (t[key] / t["raw"] - 1) for _, t in rows], label=label, **style)
    ax.axvline(chunk_ms, color=charts.ACCENT, linewidth=1.2)
    ax.annotate(f"reference chunk, {chunk_ms:.0f} ms", (chunk_ms, 1), xytext=(4, 0), textcoords="offset points",
                color=charts.ACCENT, fontsize=8)
    ax.set_xscale("log")
    ax.set_xticks(xs, [f"{ms:g}" for ms in xs])
    ax.minorticks_off()
    ax.set_xlabel("Audio per message (ms, logarithmic)")
    ax.set_ylabel("Bytes on the wire above the raw audio (%)")
    ax.set_ylim(0, None)
    ax.set_title("Client-to-server framing overhead, 16 kHz 16-bit mono PCM", loc="left")
    ax.legend(loc="upper right", fontsize=8)
    table = {ms: t for ms, t in rows}
    ref = table[chunk_ms] if chunk_ms in table else rows[len(rows) // 2][1]
    pct = lambda t, k: 100 * (t[k] / t["raw"] - 1)  # noqa: E731
    small, large = rows[0], rows[-1]
    alt = (f"Line chart of framing overhead against audio per message from {small[0]:g} to {large[0]:g} ms. Base64 "
           f"in JSON stays above a third whatever the chunk: {pct(small[1], 'base64_json'):.0f}% at {small[0]:g} ms, "
           f"{pct(ref, 'base64_json'):.1f}% at {chunk_ms:g} ms and {pct(large[1], 'base64_json'):.1f}% at "
           f"{large[0]:g} ms, because base64 itself adds a third. Binary frames cost "
           f"{pct(small[1], 'binary'):.1f}% at {small[0]:g} ms and {pct(ref, 'binary'):.2f}% at {chunk_ms:g} ms; "
           f"gRPC framing costs {pct(small[1], 'grpc'):.1f}% and {pct(ref, 'grpc'):.2f}%.")
    csv = charts.to_csv(["chunk_ms", "raw_b_per_s", "binary_b_per_s", "base64_json_b_per_s", "grpc_b_per_s"],
                        [[f"{ms:g}", f"{t['raw']:.1f}", f"{t['binary']:.1f}", f"{t['base64_json']:.1f}",
                          f"{t['grpc']:.1f}"] for ms, t in rows])
    title = "Framing overhead by chunk size: binary, gRPC and base64 JSON"
    return charts.Chart("framing-overhead", title, alt, charts.to_svg(fig, "framing-overhead", title, alt), csv)


def _cpu_chart(cpu: dict, per_thousand: dict, streams: int, chunk_ms: float, found: dict) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.2)
    groups = (("Client: build frame", "encode"), ("Server: parse frame", "decode"))
    height = 0.34
    for row, (label, op) in enumerate(groups):
        binary, text = cpu[f"{op}_binary"], cpu[f"{op}_base64"]
        ax.barh(row - height / 2, 1.0, height=height, color=charts.FILLS[2], edgecolor="white",
                label="Binary frame" if row == 0 else None)
        ax.barh(row + height / 2, text / binary, height=height, color=charts.FILLS[0], hatch="//",
                edgecolor="white", label="Base64 JSON text frame" if row == 0 else None)
        ax.annotate(f"{text / binary:.1f}x", (text / binary, row + height / 2), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=9)
    ax.set_yticks([0, 1], [label for label, _ in groups])
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("CPU time per chunk, relative to the binary frame (measured; absolute times vary by machine)")
    ax.set_title(f"CPU to frame one {chunk_ms:.0f} ms chunk: base64 JSON against binary", loc="left")
    ax.set_xlim(0, max(cpu["encode_base64"] / cpu["encode_binary"], cpu["decode_base64"] / cpu["decode_binary"]) * 1.12)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=8)
    alt = (f"Two pairs of horizontal bars, each scaled to the binary frame. Building a base64 JSON text frame on the "
           f"client took about {cpu['encode_base64'] / cpu['encode_binary']:.1f} times the CPU of building a binary "
           f"frame, and parsing it back to audio on the server about "
           f"{cpu['decode_base64'] / cpu['decode_binary']:.1f} times. On the measuring machine the server's parse "
           f"cost for {streams:,} streams was about "
           f"{per_thousand['decode_base64']:.0f} ms of CPU per second with base64 JSON against "
           f"{per_thousand['decode_binary']:.0f} ms with binary frames.")
    csv = charts.to_csv(["operation", "binary_us_per_chunk", "base64_json_us_per_chunk", "ratio",
                         "binary_cpu_ms_per_s_per_1000_streams", "base64_json_cpu_ms_per_s_per_1000_streams"],
                        [[op, f"{cpu[f'{op}_binary']:.3f}", f"{cpu[f'{op}_base64']:.3f}",
                          f"{cpu[f'{op}_base64'] / cpu[f'{op}_binary']:.2f}", f"{per_thousand[f'{op}_binary']:.2f}",
                          f"{per_thousand[f'{op}_base64']:.2f}"] for _, op in groups])
    title = "CPU per chunk to build and parse base64 JSON frames, relative to binary frames"
    return charts.Chart("framing-cpu", title, alt, charts.to_svg(fig, "framing-cpu", title, alt), csv)
