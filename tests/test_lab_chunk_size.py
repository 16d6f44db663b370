"""The chunk-size lab: its protocol arithmetic, its alignment rule, and that its figures close with the reference
system and the latency_budget lab."""
import pytest

from labs import run
from labs.chunk_size import Framing, aligned_wait_ms, model_step_ms
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


def test_an_80_ms_binary_chunk_costs_two_packets_and_their_headers():
    f = framing()
    frame = 2560 + 2 + 2 + 4
    assert f.websocket_only(2560) == frame                    # what Chapter 5's framing lab counts
    assert f.on_the_wire(2560) == (frame + 5 + 1 + 16 + 2 * 40, 2)


def test_the_model_steps_one_frame_plus_its_look_ahead():
    assert model_step_ms(0, 80) == 80       # [70, 0]: a chunk of one encoder frame
    assert model_step_ms(80, 80) == 160     # [70, 1]: two frames
    assert model_step_ms(1040, 80) == 1120  # [70, 13]: fourteen frames
    with pytest.raises(ValueError, match="whole number"):
        model_step_ms(100, 80)


def test_smaller_chunks_than_the_model_step_save_nothing_and_misaligned_ones_cost_more():
    assert aligned_wait_ms(20, 80)[0] == 80
    assert aligned_wait_ms(80, 80) == (80, 40)           # worst a full step, average half (the model card's rule)
    assert aligned_wait_ms(100, 80)[0] == 160            # the step that completes may wait for a late chunk
    assert aligned_wait_ms(80, 160)[0] == 160            # the 80 ms look-ahead doubles the step
    assert aligned_wait_ms(20, 100)[0] == 100


def test_the_format_arithmetic_matches_the_reference_system(result):
    system = ReferenceSystem.load()
    key = "chunk_size.format.pcm16_16k"
    assert result.value(f"{key}.bytes_per_second").value == system.value("audio.bytes_per_second")
    assert result.value(f"{key}.frame_bytes_base64").value == system.value("audio.frame_bytes_base64")
    assert result.value(f"{key}.chunk_bytes_base64").value == system.value("audio.chunk_bytes_base64")
    assert result.value("chunk_size.format.mulaw_8k.kbit_per_second").value == 64


def test_the_budget_at_the_reference_chunk_is_the_latency_budget_labs(result, tmp_path):
    budget = run("latency_budget", quick=True, cache_dir=tmp_path).result
    assert result.value("chunk_size.budget_ms_at_80").value == pytest.approx(
        budget.value("latency_budget.word_to_text_total_ms").value)
    assert result.value("chunk_size.largest_chunk_within_target_ms").value == 80
    assert result.value("chunk_size.budget_ms_at_100").value > 300                 # 100 ms misses the target
    assert result.value("chunk_size.budget_next_lookahead_min_ms").value > 300      # and so does 80 ms look-ahead
    assert (result.value("chunk_size.json_overhead_pct_at_80").value
            > result.value("chunk_size.ws_json_overhead_pct_at_80").value > 100 / 3
            > result.value("chunk_size.binary_overhead_pct_at_20").value)
    assert result.value("chunk_size.ws_binary_overhead_pct_at_100").value == pytest.approx(0.25)  # Chapter 5's


def test_the_chart_states_its_finding(result):
    chart = result.chart("chunk-size-tradeoff")
    assert "over the target" in chart.alt and "<script" not in chart.svg
