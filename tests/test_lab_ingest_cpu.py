"""The ingest CPU lab: its conversions are correct before they are timed (mu-law table, Opus round trip, a
decimator with no seams at chunk boundaries that rejects what would alias), and its timings are measured, so only
their sign and their record of machine and method are tested, never their size."""
import numpy as np
import pytest

from labs import run
from labs.ingest_cpu import (CAPTURE_RATE, Decimator, OpusDecoder, lowpass, mulaw_decode, mulaw_encode,
                             mulaw_table, naive_decimate, opus_encode, speech_like, to_int16, tone_level_db)


def test_the_mulaw_table_inverts_the_encoder_for_every_code():
    codes = np.arange(256, dtype=np.uint8)
    again = np.frombuffer(mulaw_encode(mulaw_table()), dtype=np.uint8)
    assert ((again == codes) | (codes == 0x7F)).all()  # 0x7F is negative zero, which encodes back as 0xFF
    assert mulaw_decode(bytes([0x00, 0x80, 0xFF])).tolist() == [-32124, 32124, 0]  # G.711's extremes and zero


def test_opus_decodes_20_ms_packets_straight_to_16_khz():
    audio = to_int16(speech_like(1, 16000, seed=1))
    packets = opus_encode(audio, 16000, 20, 16000)
    decoder = OpusDecoder(16000, 20)
    try:
        out = [decoder.decode(p) for p in packets]
    finally:
        decoder.close()
    assert len(packets) == 50 and {len(o) for o in out} == {320}
    decoded = np.concatenate(out).astype(float)
    lag = max(range(400), key=lambda k: float(np.dot(audio[:len(audio) - k], decoded[k:])))
    assert np.corrcoef(audio[:len(audio) - lag], decoded[lag:])[0, 1] > 0.6  # the speech came back, a little late
    assert np.mean([len(p) for p in packets]) <= 16000 / 8 / 50 * 1.2  # about the target bit rate


def test_the_decimator_has_no_seams_and_keeps_speech_but_not_what_would_alias():
    h = lowpass(96, CAPTURE_RATE, 7200)
    x = speech_like(0.5, CAPTURE_RATE, seed=2).astype(np.float32)
    whole = Decimator(h, 3).process(x)
    chunked = Decimator(h, 3)
    pieces = np.concatenate([chunked.process(x[i:i + 3840]) for i in range(0, len(x), 3840)])
    assert np.allclose(whole, pieces, atol=1e-5)
    t = np.arange(CAPTURE_RATE) / CAPTURE_RATE
    speech_tone = Decimator(h, 3).process(np.sin(2 * np.pi * 1000 * t).astype(np.float32))[96:]
    alias_tone = np.sin(2 * np.pi * 10000 * t).astype(np.float32)
    assert tone_level_db(speech_tone, 16000, 1000) == pytest.approx(0, abs=0.2)
    assert tone_level_db(Decimator(h, 3).process(alias_tone)[96:], 16000, 6000) < -40
    assert tone_level_db(naive_decimate(alias_tone, 3), 16000, 6000) == pytest.approx(0, abs=0.5)


def test_the_lab_measures_and_says_where(tmp_path):
    result = run("ingest_cpu", quick=True, cache_dir=tmp_path).result
    for key in ("pcm16", "mulaw", "opus", "resample"):
        assert result.value(f"ingest_cpu.{key}_ms_per_stream_s").value > 0
    assert result.value("ingest_cpu.opus_over_mulaw").value > 1
    assert result.value("ingest_cpu.alias_naive_db").value > -1 > -40 > result.value("ingest_cpu.alias_filtered_db").value
    assert "libopus" in result.value("ingest_cpu.machine").value
    assert "fastest of" in result.value("ingest_cpu.method").value
    assert "cores per thousand streams" in result.chart("ingest-cpu").alt
