"""The build-or-buy lab: its arithmetic closes with the reference system."""
import pytest

from labs import run
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("build_buy", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def test_the_month_is_the_mean_streams_around_the_clock(result):
    system = ReferenceSystem.load()
    hours = system.number("traffic.mean_concurrent_streams") * 730
    assert result.value("build_buy.audio_hours_per_month").value == pytest.approx(hours, rel=0.01)


def test_the_margin_is_the_api_bill_less_the_gpu_bill(result):
    api = result.value("build_buy.api_usd_per_month").value
    gpu = result.value("build_buy.gpu_usd_per_month").value
    assert result.value("build_buy.margin_usd_per_month").value == pytest.approx(api - gpu, abs=200)
    assert result.value("build_buy.api_to_gpu_ratio").value == pytest.approx(api / gpu, abs=0.1)


def test_the_break_even_scales_with_the_margin(result):
    system = ReferenceSystem.load()
    margin = system.number("serving.managed_api_streaming_usd_per_hour") - system.number("costs.usd_per_audio_hour")
    assert result.value("build_buy.audio_hours_per_10k_usd").value == pytest.approx(10_000 / margin, rel=0.01)
    assert result.value("build_buy.streams_per_10k_usd").value == pytest.approx(10_000 / margin / 730, abs=1)


def test_the_break_even_gpu_price_equalises_the_two_costs(result):
    system = ReferenceSystem.load()
    price = system.number("prices.gpu_instance_usd_per_hour")
    ratio = system.number("serving.managed_api_streaming_usd_per_hour") / system.number("costs.usd_per_audio_hour")
    assert result.value("build_buy.breakeven_gpu_usd_per_hour").value == pytest.approx(price * ratio, abs=0.01)
    assert result.value("build_buy.breakeven_gpu_usd_per_hour").value > price


def test_the_reference_peak_exceeds_the_published_concurrency_cap(result):
    system = ReferenceSystem.load()
    peak = system.number("traffic.peak_concurrent_streams")
    cap = system.number("serving.managed_api_concurrent_sessions")
    assert result.value("build_buy.peak_to_api_cap_ratio").value == pytest.approx(peak / cap, abs=0.05)
    assert result.value("build_buy.peak_to_api_cap_ratio").value > 1
