"""The chunk-size lab: its protocol arithmetic, its alignment rule, and that its figures close with the reference
system and the latency_budget lab."""
import pytest

from labs import run
from labs.chunk_size import Framing, aligned_wait_ms
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("chunk_size", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def framing() -> Framing:
    return Framing.from_reference(ReferenceSystem.load())


def test_websocket_frames_follow_rfc6455_length_rules():
    f = framing()
    assert f.websocket_frame(125) == 2 + 4 + 125         # 7-bit length
    assert f.websocket_frame(640) == 2 + 2 + 4 + 640     # 16-bit extended length
    assert f.websocket_frame(70000) == 2 + 8 + 4 + 70000  # 64-bit extended length


def test_a_100_ms_binary_chunk_costs_three_packets_and_their_headers():
    f = framing()
    tls = 3200 + 8 + 5 + 1 + 16
    assert f.on_the_wire(3200) == (tls + 3 * 40, 3)


def test_smaller_chunks_than_the_server_step_save_nothing_and_misaligned_ones_cost_more():
    assert aligned_wait_ms(20, 100)[0] == 100
    assert aligned_wait_ms(100, 100) == (100, 50)
    assert aligned_wait_ms(80, 100)[0] == 160
    assert aligned_wait_ms(250, 100)[0] == 300


def test_the_format_arithmetic_matches_the_reference_system(result):
    system = ReferenceSystem.load()
    key = "chunk_size.format.pcm16_16k"
    assert result.value(f"{key}.bytes_per_second").value == system.value("audio.bytes_per_second")
    assert result.value(f"{key}.frame_bytes_base64").value == system.value("audio.frame_bytes_base64")
    assert result.value(f"{key}.chunk_bytes_base64").value == system.value("audio.chunk_bytes_base64")
    assert result.value("chunk_size.format.mulaw_8k.kbit_per_second").value == 64


def test_the_budget_at_the_reference_chunk_is_the_latency_budget_labs(result, tmp_path):
    budget = run("latency_budget", quick=True, cache_dir=tmp_path).result
    assert result.value("chunk_size.budget_ms_at_100").value == pytest.approx(
        budget.value("latency_budget.word_to_text_total_ms").value)
    assert result.value("chunk_size.largest_chunk_within_target_ms").value == 100
    assert (result.value("chunk_size.json_overhead_pct_at_100").value
            > 100 / 3 > result.value("chunk_size.binary_overhead_pct_at_20").value)


def test_the_chart_states_its_finding(result):
    chart = result.chart("chunk-size-tradeoff")
    assert "crosses the 300 ms target" in chart.alt and "<script" not in chart.svg
