"""The framing lab: RFC 6455 header arithmetic, byte counts that are exact and repeatable, frames that round-trip,
and CPU timings that are measured (so only their direction is tested, never their size)."""
import base64
import json

import pytest
from lxml import etree

from labs import run
from labs.framing import (RFC, Sizes, client_send_base64, client_send_binary, event_type, grpc_message_bytes,
                          json_message, server_receive_base64, server_receive_binary, spread, summarise,
                          ws_header_bytes)
from macros.reference_system import REFERENCE_FILE, ReferenceSystem

SVG = "{http://www.w3.org/2000/svg}"


def test_websocket_header_sizes_follow_rfc_6455():
    assert ws_header_bytes(125, masked=False) == 2
    assert ws_header_bytes(126, masked=False) == 4
    assert ws_header_bytes(65535, masked=True) == 8
    assert ws_header_bytes(65536, masked=True) == 14


def test_sizes_come_from_the_reference_system_and_match_the_rfc():
    sizes = Sizes.from_reference(ReferenceSystem.load(REFERENCE_FILE))
    assert (sizes.base_header, sizes.mask_key) == (RFC.base_header, RFC.mask_key)
    assert len(json_message(b"", sizes.json_envelope)) == sizes.json_envelope
    assert event_type(47) == "input_audio_buffer.append"


def test_frames_round_trip_and_carry_the_header_the_arithmetic_counts():
    audio = bytes(range(256)) * 12 + bytes(128)  # 3,200 bytes, the reference chunk
    mask = b"\x12\x34\x56\x78"
    binary = client_send_binary(audio, mask)
    text = client_send_base64(audio, mask)
    assert len(binary) == len(audio) + ws_header_bytes(len(audio), masked=True)
    assert len(text) == len(json_message(audio)) + 8 == 47 + 4268 + 8
    assert binary[2 + 2 + 4:] != audio  # masked on the wire
    assert server_receive_binary(binary) == audio and server_receive_base64(text) == audio
    message = json.loads(json_message(audio))
    assert base64.b64decode(message["audio"]) == audio and len(message["audio"]) == 4268


def test_grpc_message_counts_prefix_frame_header_and_protobuf_fields():
    # 9 (HTTP/2) + 5 (gRPC) + tag 1 + length varint 2 + 3,200 + tag 1 + seq varint 2
    assert grpc_message_bytes(3200, 1200) == 9 + 5 + 1 + 2 + 3200 + 1 + 2


def test_byte_values_are_exact_and_repeatable(tmp_path):
    first = run("framing", quick=True, cache_dir=tmp_path / "one").result
    second = run("framing", quick=True, cache_dir=tmp_path / "two").result
    for key in ("framing.binary_client_b_per_s", "framing.base64_client_b_per_s", "framing.grpc_client_b_per_s",
                "framing.telephony_json_b_per_s"):
        assert first.value(key).value == second.value(key).value
    system = ReferenceSystem.load(REFERENCE_FILE)
    chunk_ms = system.value("audio.chunk_ms")
    raw = round(system.value("audio.bytes_per_second") * chunk_ms / 1000)
    text = -(-raw // 3) * 4 + system.value("framing.json_envelope_bytes")
    per_second = 1000 / chunk_ms
    assert first.value("framing.binary_client_b_per_s").value == pytest.approx((raw + 8) * per_second)
    assert first.value("framing.base64_client_b_per_s").value == pytest.approx((text + 8) * per_second)
    assert first.value("framing.base64_overhead_pct").value > 33.3
    assert first.value("framing.extra_b_per_s").value == pytest.approx((text - raw) * per_second)
    assert first.value("framing.binary_overhead_pct").value == pytest.approx(100 * 8 / raw)
    assert first.chart("framing-overhead").svg == second.chart("framing-overhead").svg


def test_cpu_values_are_measured_and_base64_costs_more(tmp_path):
    result = run("framing", quick=True, cache_dir=tmp_path).result
    assert result.value("framing.cpu_decode_ratio").value > 1
    assert result.value("framing.cpu_encode_ratio").value > 1
    for op in ("encode", "decode"):
        low, mid, high = (result.value(f"framing.cpu_{op}_ratio{s}").value for s in ("_min", "", "_max"))
        assert low <= mid <= high
    assert "Python" in result.value("framing.machine").value
    assert "fastest of" in result.value("framing.method").value


def test_summary_gives_median_and_range_of_the_trials():
    trials = [{"encode_binary": 1.0, "encode_base64": r, "decode_binary": 2.0, "decode_base64": 2 * r} for r in (6, 8, 7)]
    summary = summarise(trials)
    assert summary["encode_ratio"] == (7.0, 6.0, 8.0) and summary["decode_ratio"] == (7.0, 6.0, 8.0)
    assert summary["decode_base64"] == (14.0, 12.0, 16.0)
    assert spread(summary) == pytest.approx(8 / 6)


def test_charts_are_self_contained_accessible_svg(tmp_path):
    for chart in run("framing", quick=True, cache_dir=tmp_path).result.charts:
        root = etree.fromstring(chart.svg.encode())
        assert root.get("role") == "img" and len(chart.alt) > 80
        assert not root.findall(f".//{SVG}text") and not root.findall(f".//{SVG}script")
