"""Lab: build against buy for the reference system's traffic, a managed streaming API's list price against the GPU
cost of serving the same audio yourself.

Deterministic arithmetic, no randomness. The reference traffic's daily mean of concurrent streams, times the hours
in an average month (8,760 / 12 = 730), is the audio hours a month the service transcribes. Buying costs those
hours at the managed API's dated list price (serving.managed_api_streaming_usd_per_hour). Building costs them at
the reference system's GPU cost per audio hour (costs.usd_per_audio_hour: the GPU instance price over streams per
GPU times mean utilisation), which counts the GPUs only: no CPU gateway, network, storage, monitoring, spare
capacity or people. The difference is what a month of traffic leaves to pay for those; the lab states it as the
audio hours a month (and the mean concurrent streams) that each 10,000 USD a month of such fixed cost needs before
building pays for itself.

The GPU instance price (prices.gpu_instance_usd_per_hour) is an assumption of the reference system, so the lab also
states the instance price at which the GPUs alone would cost as much as the API (the break-even price), which rests
only on the dated API price and the reference utilisation, and the reference peak as a multiple of the API's published
cap on concurrent sessions (serving.managed_api_concurrent_sessions): above 1, the list-price tier cannot carry the
traffic without a negotiated limit.
"""
from __future__ import annotations

from macros.reference_system import ReferenceSystem

from . import LabResult, values

TITLE = "Build or buy: a managed streaming API's list price against the reference system's GPU cost"
DEPENDS = ()
PARAMS: dict = {}
QUICK_PARAMS: dict = {}
HOURS_PER_MONTH = 8760 / 12
FIXED_COST_UNIT_USD = 10_000


def run(system: ReferenceSystem, deps: dict) -> LabResult:
    api = system.number("serving.managed_api_streaming_usd_per_hour")
    gpu = system.number("costs.usd_per_audio_hour")
    streams = system.number("traffic.mean_concurrent_streams")
    gpu_price = system.number("prices.gpu_instance_usd_per_hour")
    peak = system.number("traffic.peak_concurrent_streams")
    cap = system.number("serving.managed_api_concurrent_sessions")
    if api <= gpu:
        raise ValueError(f"the API price ({api}) is at or below the GPU cost ({gpu}): building never pays")
    hours = streams * HOURS_PER_MONTH
    margin = api - gpu
    hours_per_unit = FIXED_COST_UNIT_USD / margin
    found = values(
        ("build_buy.audio_hours_per_month", round(hours, -3), "h",
         "Audio hours a month at the reference traffic (daily mean concurrent streams x 730 h)"),
        ("build_buy.api_usd_per_month", round(api * hours, -2), "USD",
         "What a month of that audio costs at the managed API's list price"),
        ("build_buy.gpu_usd_per_month", round(gpu * hours, -2), "USD",
         "What it costs in GPU time on the reference system (GPUs only)"),
        ("build_buy.margin_usd_per_month", round(margin * hours, -2), "USD",
         "The difference: what is left each month for everything else a self-hosted service costs"),
        ("build_buy.api_to_gpu_ratio", round(api / gpu, 1), "1",
         "API list price per audio hour over the reference GPU cost per audio hour"),
        ("build_buy.audio_hours_per_10k_usd", round(hours_per_unit, -2), "h",
         "Audio hours a month needed to cover each 10,000 USD a month of fixed self-hosting cost"),
        ("build_buy.streams_per_10k_usd", round(hours_per_unit / HOURS_PER_MONTH), "streams",
         "The same as mean concurrent streams around the clock"),
        ("build_buy.breakeven_gpu_usd_per_hour", round(gpu_price * api / gpu, 2), "USD/h",
         "GPU instance price at which the reference GPUs alone cost as much per audio hour as the API's list price"),
        ("build_buy.peak_to_api_cap_ratio", round(peak / cap, 1), "1",
         "Reference peak concurrent streams over the API's published cap on concurrent sessions at its list price"),
    )
    return LabResult(found)
