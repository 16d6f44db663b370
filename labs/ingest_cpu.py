"""Lab: what the ingest stage's conversions cost in CPU per stream-second, measured on this machine.

Three conversions a speech service runs before audio reaches the recogniser, each on seeded, speech-shaped
synthetic audio (voiced harmonics on a wandering pitch, a syllable-rate envelope and a little noise; not real
speech, so codec figures are indicative):
  - G.711 mu-law to 16-bit PCM: a lookup in a 256-entry table, one 20 ms telephone frame (160 bytes) per call, which
    is how media-stream bridges deliver it;
  - Opus to 16 kHz PCM: libopus (loaded with ctypes) decoding 20 ms packets that libopus itself encoded at the
    reference system's speech bit rate, straight to 16 kHz (opus_decoder_create(16000, 1)), no separate resampler;
  - 48 kHz to 16 kHz PCM: a windowed-sinc low-pass FIR that computes only the outputs it keeps (the polyphase form
    of decimation by 3), one client chunk per call, with its filter history carried from chunk to chunk;
and, as the floor, validating one chunk of LINEAR16 (reading the bytes as little-endian int16).

Each timing is the fastest of several passes over the same seeded input (noise only ever adds time), with garbage
collection paused, one thread, called from Python: the per-call overhead of the interpreter and of ctypes is
included, so a server written in C or Rust would spend less per call. CPU time per stream-second is the time per
call times calls per second of audio; milliseconds of CPU per stream-second equal cores per thousand streams.
Timings vary from run to run and machine to machine; the values record the machine and the method.

The lab also measures what the low-pass filter is for: the level at which a 10 kHz tone, above the 8 kHz Nyquist
limit of 16 kHz audio, comes out after decimation with the filter and after naive decimation (keeping every third
sample), where it folds back to 6 kHz, inside the speech band.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc
import time
from typing import Any
from functools import lru_cache

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values
from .machine import describe_machine

TITLE = "Ingest CPU: mu-law, Opus and 48-to-16 kHz resampling per stream-second, measured"
DEPENDS = ()
PARAMS = {"seed": 20261130, "seconds": 30, "repeats": 7, "taps": 96}
QUICK_PARAMS = {"seed": 20261130, "seconds": 3, "repeats": 2, "taps": 96}

CAPTURE_RATE = 48000  # a browser's usual AudioContext rate
DECIMATION = 3        # 48 kHz to 16 kHz
ALIAS_TONE_HZ = 10000
OPUS_APPLICATION_VOIP = 2048
OPUS_SET_BITRATE_REQUEST = 4002


# --- seeded audio -----------------------------------------------------------------------------------------------

def speech_like(seconds: float, rate: int, seed: int) -> np.ndarray:
    """Float audio in [-1, 1]: harmonics of a pitch that wanders between 100 and 220 Hz, shaped by a 4 Hz syllable
    envelope with pauses, plus low-level noise. Deterministic for a seed."""
    rng = np.random.default_rng([seed, rate])
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pitch = 160 + 60 * np.sin(2 * np.pi * 0.3 * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 25) if k * 220 < rate / 2)
    syllables = np.clip(np.sin(2 * np.pi * 4 * t + rng.uniform(0, 2 * np.pi)), 0, None) ** 2
    pauses = (np.sin(2 * np.pi * 0.25 * t) > -0.6).astype(float)
    audio = 0.25 * voiced * syllables * pauses + 0.005 * rng.standard_normal(n)
    return np.clip(audio, -1, 1)


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.round(audio * 32767).astype("<i2")


# --- G.711 mu-law -----------------------------------------------------------------------------------------------

MU_BIAS, MU_CLIP = 0x84, 32635


def mulaw_encode(samples: np.ndarray) -> bytes:
    """ITU-T G.711 mu-law of int16 samples (sign, 3-bit exponent, 4-bit mantissa, bits inverted)."""
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0)
    magnitude = np.minimum(np.abs(x), MU_CLIP) + MU_BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


@lru_cache(maxsize=1)
def mulaw_table() -> np.ndarray:
    """The 256-entry decode table: every mu-law byte to its 16-bit sample."""
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    exponent, mantissa = (codes >> 4) & 0x07, codes & 0x0F
    magnitude = ((mantissa << 3) + MU_BIAS) << exponent
    return np.where(codes & 0x80, -(magnitude - MU_BIAS), magnitude - MU_BIAS).astype("<i2")


def mulaw_decode(frame: bytes) -> np.ndarray:
    return mulaw_table()[np.frombuffer(frame, dtype=np.uint8)]


# --- Opus through libopus ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def libopus() -> ctypes.CDLL:
    name = ctypes.util.find_library("opus")
    if name is None:
        raise RuntimeError("libopus not found: install the system package libopus0 (Debian) to run this lab")
    lib = ctypes.CDLL(name)
    lib.opus_encoder_create.restype = ctypes.c_void_p
    lib.opus_encoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_encode.restype = ctypes.c_int32
    lib.opus_encode.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p, ctypes.c_int32]
    lib.opus_encoder_ctl.restype = ctypes.c_int
    lib.opus_encoder_ctl.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int32]
    lib.opus_encoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_decoder_create.restype = ctypes.c_void_p
    lib.opus_decoder_create.argtypes = [ctypes.c_int32, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    lib.opus_decode.restype = ctypes.c_int
    lib.opus_decode.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32, ctypes.c_void_p, ctypes.c_int,
                                ctypes.c_int]
    lib.opus_decoder_destroy.argtypes = [ctypes.c_void_p]
    lib.opus_get_version_string.restype = ctypes.c_char_p
    return lib


def opus_encode(samples: np.ndarray, rate: int, frame_ms: int, bitrate: int) -> list[bytes]:
    """Encode int16 mono samples into Opus packets of frame_ms each (VOIP application, fixed target bit rate)."""
    lib, error = libopus(), ctypes.c_int()
    encoder = lib.opus_encoder_create(rate, 1, OPUS_APPLICATION_VOIP, ctypes.byref(error))
    if error.value != 0:
        raise RuntimeError(f"opus_encoder_create failed with {error.value}")
    try:
        lib.opus_encoder_ctl(encoder, OPUS_SET_BITRATE_REQUEST, bitrate)
        frame = rate * frame_ms // 1000
        out = ctypes.create_string_buffer(4000)
        packets = []
        for start in range(0, len(samples) - frame + 1, frame):
            pcm = np.ascontiguousarray(samples[start:start + frame])
            size = lib.opus_encode(encoder, pcm.ctypes.data, frame, ctypes.addressof(out), len(out))
            if size < 0:
                raise RuntimeError(f"opus_encode failed with {size}")
            packets.append(out.raw[:size])
        return packets
    finally:
        lib.opus_encoder_destroy(encoder)


class OpusDecoder:
    """One stream's decoder, writing 16-bit PCM at `rate` directly (8, 12, 16, 24 or 48 kHz)."""

    def __init__(self, rate: int, frame_ms: int):
        self.lib, error = libopus(), ctypes.c_int()
        self.state = self.lib.opus_decoder_create(rate, 1, ctypes.byref(error))
        if error.value != 0:
            raise RuntimeError(f"opus_decoder_create failed with {error.value}")
        self.frame = rate * frame_ms // 1000
        self.pcm = np.zeros(self.frame, dtype="<i2")

    def decode(self, packet: bytes) -> np.ndarray:
        n = self.lib.opus_decode(self.state, packet, len(packet), self.pcm.ctypes.data, self.frame, 0)
        if n < 0:
            raise RuntimeError(f"opus_decode failed with {n}")
        return self.pcm[:n].copy()  # the buffer is reused by the next call

    def close(self) -> None:
        self.lib.opus_decoder_destroy(self.state)


# --- 48 kHz to 16 kHz -------------------------------------------------------------------------------------------

def lowpass(taps: int, rate: int, cutoff_hz: float) -> np.ndarray:
    """A Blackman-windowed sinc low-pass with unity gain at DC."""
    n = np.arange(taps) - (taps - 1) / 2
    h = np.sinc(2 * cutoff_hz / rate * n) * np.blackman(taps)
    return h / h.sum()


class Decimator:
    """Decimate by `factor` chunk by chunk: filter and keep every factor-th output, computing only the outputs kept.
    The last taps - 1 input samples carry over, so chunk boundaries leave no seam."""

    def __init__(self, h: np.ndarray, factor: int):
        self.h, self.factor = h[::-1].astype(np.float32), factor
        self.history = np.zeros(len(h) - 1, dtype=np.float32)
        self.offset = 0  # position in the next buffer of the next output's last input sample

    def process(self, chunk: np.ndarray) -> np.ndarray:
        buffer = np.concatenate((self.history, chunk.astype(np.float32)))
        windows = np.lib.stride_tricks.sliding_window_view(buffer, len(self.h))[self.offset::self.factor]
        out = windows @ self.h
        consumed = self.offset + len(windows) * self.factor
        self.offset = consumed - (len(buffer) - len(self.history))
        self.history = buffer[len(buffer) - len(self.history):]
        return out


def naive_decimate(chunk: np.ndarray, factor: int) -> np.ndarray:
    """The bug: keep every factor-th sample with no low-pass filter."""
    return chunk[::factor]


def tone_level_db(audio: np.ndarray, rate: int, hz: float) -> float:
    """Level of the strongest component near `hz` relative to full scale of a unit sine, by a windowed FFT."""
    window = np.hanning(len(audio))
    spectrum = np.abs(np.fft.rfft(audio * window)) * 2 / window.sum()
    freqs = np.fft.rfftfreq(len(audio), 1 / rate)
    near = np.abs(freqs - hz) <= 50
    return float(20 * np.log10(max(spectrum[near].max(), 1e-12)))


# --- timing -----------------------------------------------------------------------------------------------------

def fastest_us(function, inputs: list, repeats: int) -> float:
    """Fastest of `repeats` passes over `inputs`, in microseconds per call (garbage collection paused)."""
    for item in inputs[: max(1, len(inputs) // 10)]:  # warm-up
        function(item)
    best = float("inf")
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for item in inputs:
                function(item)
            best = min(best, (time.perf_counter_ns() - start) / 1000 / len(inputs))
    finally:
        if enabled:
            gc.enable()
    return best


# --- the lab ----------------------------------------------------------------------------------------------------

def run(system: ReferenceSystem, deps: dict, *, seed: int, seconds: float, repeats: int, taps: int) -> LabResult:
    model_rate = int(system.number("audio.sample_rate_hz"))
    phone_rate = int(system.number("codecs.telephony_sample_rate_hz"))
    frame_ms = int(system.number("audio.frame_ms"))
    chunk_ms = int(system.number("audio.chunk_ms"))
    opus_bps = int(system.number("codecs.opus_speech_bitrate_bps"))
    if CAPTURE_RATE != DECIMATION * model_rate:
        raise ValueError(f"the resampler decimates {CAPTURE_RATE} Hz by {DECIMATION}, not to {model_rate} Hz")

    capture = speech_like(seconds, CAPTURE_RATE, seed)
    wideband = to_int16(speech_like(seconds, model_rate, seed))
    phone = to_int16(speech_like(seconds, phone_rate, seed))

    # Inputs as the transport delivers them.
    phone_frame = phone_rate * frame_ms // 1000
    mulaw_frames = [mulaw_encode(phone[i:i + phone_frame]) for i in range(0, len(phone) - phone_frame + 1,
                                                                             phone_frame)]
    opus_packets = opus_encode(wideband, model_rate, frame_ms, opus_bps)
    capture_chunk = CAPTURE_RATE * chunk_ms // 1000
    capture_chunks = [capture[i:i + capture_chunk].astype(np.float32)
                      for i in range(0, len(capture) - capture_chunk + 1, capture_chunk)]
    pcm_chunk = model_rate * chunk_ms // 1000 * 2
    pcm_bytes = wideband.tobytes()
    pcm_chunks = [pcm_bytes[i:i + pcm_chunk] for i in range(0, len(pcm_bytes) - pcm_chunk + 1, pcm_chunk)]

    # The conversions give back what they should before they are timed.
    decoded = np.concatenate([mulaw_decode(f) for f in mulaw_frames])
    mulaw_error = float(np.abs(decoded.astype(int) - phone[:len(decoded)].astype(int)).max())
    h = lowpass(taps, CAPTURE_RATE, 0.45 * model_rate)
    tone = np.sin(2 * np.pi * ALIAS_TONE_HZ * np.arange(CAPTURE_RATE) / CAPTURE_RATE).astype(np.float32)
    filtered_tone = np.concatenate([Decimator(h, DECIMATION).process(tone[i:i + capture_chunk])
                                    for i in range(0, len(tone), capture_chunk)])
    alias_hz = model_rate - ALIAS_TONE_HZ  # 10 kHz folds to 6 kHz at 16 kHz
    alias_filtered_db = tone_level_db(filtered_tone[taps:], model_rate, alias_hz)
    alias_naive_db = tone_level_db(naive_decimate(tone, DECIMATION), model_rate, alias_hz)

    opus_decoder = OpusDecoder(model_rate, frame_ms)
    decimator = Decimator(h, DECIMATION)
    try:
        timed = {
            "pcm16": (fastest_us(lambda b: np.frombuffer(b, dtype="<i2"), pcm_chunks, repeats), 1000 / chunk_ms),
            "mulaw": (fastest_us(mulaw_decode, mulaw_frames, repeats), 1000 / frame_ms),
            "opus": (fastest_us(opus_decoder.decode, opus_packets, repeats), 1000 / frame_ms),
            "resample": (fastest_us(decimator.process, capture_chunks, repeats), 1000 / chunk_ms),
        }
    finally:
        opus_decoder.close()
    per_stream_s = {k: us * calls / 1000 for k, (us, calls) in timed.items()}  # CPU ms per stream-second

    found: list[tuple[str, Any, str, str]] = [
        ("ingest_cpu.pcm16_us_per_call", timed["pcm16"][0], "us", f"CPU to validate one {chunk_ms} ms LINEAR16 chunk"),
        ("ingest_cpu.mulaw_us_per_call", timed["mulaw"][0], "us",
         f"CPU to decode one {frame_ms} ms mu-law frame to 16-bit PCM by table lookup"),
        ("ingest_cpu.opus_us_per_call", timed["opus"][0], "us",
         f"CPU to decode one {frame_ms} ms Opus packet to {model_rate} Hz PCM with libopus"),
        ("ingest_cpu.resample_us_per_call", timed["resample"][0], "us",
         f"CPU to resample one {chunk_ms} ms chunk from {CAPTURE_RATE} to {model_rate} Hz"),
        ("ingest_cpu.pcm16_ms_per_stream_s", per_stream_s["pcm16"], "ms",
         "CPU per stream-second to validate LINEAR16 (equals cores per 1,000 streams)"),
        ("ingest_cpu.mulaw_ms_per_stream_s", per_stream_s["mulaw"], "ms",
         "CPU per stream-second to decode mu-law (equals cores per 1,000 streams)"),
        ("ingest_cpu.opus_ms_per_stream_s", per_stream_s["opus"], "ms",
         "CPU per stream-second to decode Opus to 16 kHz (equals cores per 1,000 streams)"),
        ("ingest_cpu.resample_ms_per_stream_s", per_stream_s["resample"], "ms",
         "CPU per stream-second to resample 48 kHz to 16 kHz (equals cores per 1,000 streams)"),
        ("ingest_cpu.opus_over_mulaw", per_stream_s["opus"] / per_stream_s["mulaw"], "1",
         "Opus decoding's CPU per stream-second over mu-law decoding's"),
        ("ingest_cpu.opus_bytes_per_packet", float(np.mean([len(p) for p in opus_packets])), "B",
         "Mean size of the Opus packets decoded"),
        ("ingest_cpu.mulaw_max_error", mulaw_error, "1",
         "Largest difference in 16-bit steps between decoded mu-law and the original samples"),
        ("ingest_cpu.filter_taps", taps, "taps", "Length of the resampler's low-pass filter"),
        ("ingest_cpu.alias_tone_hz", ALIAS_TONE_HZ, "Hz", "Test tone above the 8 kHz limit of 16 kHz audio"),
        ("ingest_cpu.alias_hz", alias_hz, "Hz", "Where that tone folds to after decimation to 16 kHz"),
        ("ingest_cpu.alias_filtered_db", round(alias_filtered_db, 1), "dB",
         "Level of the folded tone after filtered decimation, relative to the tone"),
        ("ingest_cpu.alias_naive_db", round(alias_naive_db, 1), "dB",
         "Level of the folded tone after naive decimation (every third sample), relative to the tone"),
        ("ingest_cpu.machine", describe_machine(libopus().opus_get_version_string().decode()), "text", "Where the CPU timings were measured"),
        ("ingest_cpu.method", f"fastest of {repeats} passes over {seconds:g} s of seeded speech-shaped audio per "
         "conversion, perf_counter, garbage collection paused, one thread, called from Python (interpreter and "
         "ctypes overhead included)", "text", "How the CPU timings were measured"),
    ]
    found_map = {k: v for k, v, *_ in found}
    return LabResult(values(*found), (_chart(per_stream_s, found_map, chunk_ms, frame_ms),))


NAMES = {"pcm16": "validating LINEAR16", "mulaw": "mu-law decoding", "opus": "Opus decoding",
         "resample": "resampling from 48 kHz"}


def _chart(per_stream_s: dict, found: dict, chunk_ms: int, frame_ms: int) -> charts.Chart:
    fig, ax = charts.figure(7.2, 3.0)
    rows = (("pcm16", f"LINEAR16 16 kHz: validate ({chunk_ms} ms chunks)"),
            ("mulaw", f"mu-law 8 kHz: table decode ({frame_ms} ms frames)"),
            ("resample", f"PCM 48 kHz: resample to 16 kHz ({chunk_ms} ms chunks)"),
            ("opus", f"Opus: decode to 16 kHz ({frame_ms} ms packets)"))
    for y, (key, label) in enumerate(rows):
        ax.barh(y, per_stream_s[key], height=0.55, color=charts.FILLS[y % 3], hatch=charts.HATCHES[y % 4],
                edgecolor="white")
        ax.annotate(f"{per_stream_s[key]:.3g} ms", (per_stream_s[key], y), xytext=(4, 0),
                    textcoords="offset points", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [label for _, label in rows], fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xscale("log")
    ax.set_xlim(0.001, 10)
    ax.set_xticks([0.001, 0.01, 0.1, 1, 10], ["0.001", "0.01", "0.1", "1", "10"])
    ax.minorticks_off()
    ax.set_xlabel("CPU ms per stream-second, equal to cores per 1,000 streams (log scale; measured)")
    ax.set_title("CPU cost of ingest conversions, per stream-second of audio", loc="left")
    title = "CPU per stream-second of the ingest stage's conversions"
    costliest = max(per_stream_s, key=lambda name: per_stream_s[name])
    alt = (f"Four horizontal bars on a log scale, measured on one machine through Python. Validating LINEAR16 "
           f"costs {per_stream_s['pcm16']:.3g} ms of CPU per stream-second, decoding mu-law by table lookup "
           f"{per_stream_s['mulaw']:.3g} ms, decoding Opus to 16 kHz {per_stream_s['opus']:.3g} ms (about "
           f"{found['ingest_cpu.opus_over_mulaw']:.0f} times mu-law), and resampling 48 kHz to 16 kHz with a "
           f"{found['ingest_cpu.filter_taps']}-tap filter {per_stream_s['resample']:.3g} ms. Milliseconds per "
           f"stream-second equal cores per thousand streams, so the costliest conversion here, "
           f"{NAMES[costliest]}, needs about {per_stream_s[costliest]:.1f} cores per thousand "
           "streams.")
    csv = charts.to_csv(["conversion", "cpu_ms_per_stream_s", "cores_per_1000_streams"],
                        [[key, f"{per_stream_s[key]:.4f}", f"{per_stream_s[key]:.4f}"] for key, _ in rows])
    return charts.Chart("ingest-cpu", title, alt, charts.to_svg(fig, "ingest-cpu", title, alt), csv)
