"""Lab: what per-key limits cost the key's owner and what they leave an attacker who holds the key.

A seeded simulation, plus arithmetic on hostile uploads.

The owner. One large customer sends security.tenant_share_of_traffic of the reference traffic through one API key:
sessions arrive as a Poisson process whose rate follows traffic.daily_profile hour by hour (thinning), and last a
lognormal time with the reference mean and sigma. The simulation runs `days` days and replays the same arrivals
against each per-key cap on concurrent streams (security.concurrency_cap_multiples times the key's mean concurrency
in the peak hour, by Little's law). A session that arrives when the key already holds `cap` streams is refused (a
loss system: refused sessions do not wait or retry). It reports the share of sessions refused and the worst
hour's share.

The attacker. Someone who holds a copy of the key and wants to spend as much as possible, sending audio (noise or
speech, so that silence gating does not help) on every slot the limits allow, around the clock. The worst case per
day is arithmetic, not simulation, for each stack of limits:
  - a session-start rate limit alone: session_starts_per_min streams a minute, each held until max_session_s, so
    the steady state holds rate x max_session streams;
  - a concurrent-stream cap: cap streams for 24 hours;
  - the cap plus a daily audio quota: at most the quota a day, and the owner's own traffic shares that quota.
Under the cap, the key's whole day is the attacker's streams and the owner's together: the lab reports both the
key's bill for that day and the increase over the owner's mean day, which is what the attack adds. The rate-limit-only
case needs more GPUs than the reference fleet runs at its peak (fleet.gpus_at_peak), so its stream-hours are demand
the fleet refuses, not a bill; the lab reports the ratio to the fleet.
Stream-hours become GPU cost at the reference price with capacity.streams_per_gpu streams per GPU, which assumes
the attacker's audio averages real time. Without pacing, a client can push audio as fast as its uplink allows;
the lab states how many real-time streams one such connection is worth.

Hostile uploads. How much audio the byte limit admits at 6 kbit/s, the low end of Opus's normal range (an encoder
accepts less, and a crafted file obeys no encoder setting, so this is an ordinary file, not the worst case), what it
decodes to as float32 at the decoder's full rate and at the model's rate, and what the decoded-duration limit bounds
it to instead.
"""
from __future__ import annotations

import heapq
import math

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Per-key limits against a leaked key: refused owner sessions and the attacker's worst day"
DEPENDS: tuple[str, ...] = ()
PARAMS = {"days": 28, "seed": 9}
QUICK_PARAMS = {"days": 2, "seed": 9}

FLOAT32_BYTES = 4
HOUR_S = 3600


def tenant_arrivals(system: ReferenceSystem, days: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Arrival times (s) and session lengths (s) of the key's own sessions over `days` days, seeded."""
    share = system.number("security.tenant_share_of_traffic")
    peak = system.number("traffic.peak_session_arrivals_per_s") * share
    profile = np.array(system.numbers("traffic.daily_profile"))
    mean_s, sigma = system.number("sessions.mean_s"), system.number("sessions.lognormal_sigma")
    rng = np.random.default_rng([seed, 0])
    horizon = days * 86400
    count = rng.poisson(peak * horizon)
    times = np.sort(rng.uniform(0, horizon, count))
    hour = (times // HOUR_S).astype(int) % len(profile)
    kept = times[rng.uniform(0, 1, count) < profile[hour]]  # thinning to the hourly profile
    mu = math.log(mean_s) - sigma ** 2 / 2
    lengths = np.random.default_rng([seed, 1]).lognormal(mu, sigma, len(kept))
    return kept, lengths


def refused(times: np.ndarray, lengths: np.ndarray, cap: int) -> np.ndarray:
    """Loss system with `cap` slots: a boolean per arrival, True when every slot was taken."""
    ends: list[float] = []
    out = np.zeros(len(times), dtype=bool)
    for i, (t, length) in enumerate(zip(times.tolist(), lengths.tolist())):
        while ends and ends[0] <= t:
            heapq.heappop(ends)
        if len(ends) >= cap:
            out[i] = True
        else:
            heapq.heappush(ends, t + length)
    return out


def worst_hour_pct(times: np.ndarray, refused_mask: np.ndarray) -> float:
    hours = (times // HOUR_S).astype(int)
    total = np.bincount(hours)
    lost = np.bincount(hours, weights=refused_mask.astype(float), minlength=len(total))
    busy = total >= 1
    return float(100 * np.max(lost[busy] / total[busy]))


def run(system: ReferenceSystem, deps: dict, *, days: int, seed: int) -> LabResult:
    share = system.number("security.tenant_share_of_traffic")
    mean_s = system.number("sessions.mean_s")
    peak_rate = system.number("traffic.peak_session_arrivals_per_s") * share
    mean_rate = system.number("traffic.mean_session_arrivals_per_s") * share
    peak_concurrency = peak_rate * mean_s
    daily_hours = mean_rate * mean_s * 24  # stream-hours a day, Little's law over the day
    per_gpu = system.number("capacity.streams_per_gpu")
    price = system.number("prices.gpu_instance_usd_per_hour")
    usd_per_stream_hour = price / per_gpu
    list_price = system.number("metering.price_usd_per_audio_hour")
    quota_hours = daily_hours * system.number("security.daily_audio_quota_multiple")
    starts_per_min = system.number("security.session_starts_per_min")
    max_session = system.number("security.max_session_s")
    chosen = system.number("security.concurrency_cap_multiple")
    fleet_gpus = system.number("fleet.gpus_at_peak")

    times, lengths = tenant_arrivals(system, days, seed)
    rows = []
    for multiple in system.numbers("security.concurrency_cap_multiples"):
        cap = math.ceil(multiple * peak_concurrency)
        mask = refused(times, lengths, cap)
        attacker_cap_hours = cap * 24.0
        rows.append({
            "multiple": multiple, "cap": cap,
            "refused_pct": float(100 * mask.mean()), "worst_hour_pct": worst_hour_pct(times, mask),
            "attacker_cap_hours": attacker_cap_hours,
            "attacker_quota_hours": min(attacker_cap_hours, quota_hours),
        })
    at = next(r for r in rows if r["multiple"] == chosen)

    rate_only_streams = starts_per_min * max_session / 60
    rate_only_hours = rate_only_streams * 24
    stream_bps = system.number("audio.bits_per_second")
    uplink_bps = system.number("security.attacker_uplink_mbit_s") * 1e6
    realtime_multiple = uplink_bps / stream_bps

    # Hostile uploads: the byte limit against the decoded size.
    limit_bytes = system.number("security.upload_limit_mb") * 1e6
    opus_bps = system.number("security.opus_min_bitrate_bps")
    admitted_s = limit_bytes * 8 / opus_bps
    full_rate = system.number("security.opus_decode_rate_hz")
    model_rate = system.number("audio.sample_rate_hz")
    decoded_full = admitted_s * full_rate * FLOAT32_BYTES
    decoded_model = admitted_s * model_rate * FLOAT32_BYTES
    max_decoded_s = system.number("security.max_decoded_audio_s")
    bounded = max_decoded_s * model_rate * FLOAT32_BYTES
    pcm_bytes_per_s = system.number("audio.bytes_per_second")
    pcm_limit_s = limit_bytes / pcm_bytes_per_s

    found = [
        ("cost_attack.days", days, "days", "Days of the key owner's traffic simulated"),
        ("cost_attack.sessions", int(len(times)), "sessions", "Sessions of the key's owner in the simulation"),
        ("cost_attack.tenant_share_pct", round(100 * share), "%",
         "Share of the reference traffic the key's owner sends, in every hour of the day"),
        ("cost_attack.tenant_peak_concurrency", round(peak_concurrency, 1), "streams",
         "Mean concurrent streams of the key in the peak hour (Little's law)"),
        ("cost_attack.tenant_daily_hours", round(daily_hours), "h",
         "Stream-hours the key's owner uses on a mean day"),
        ("cost_attack.tenant_daily_usd", round(daily_hours * usd_per_stream_hour), "USD",
         "GPU cost of the owner's mean day at the reference price, every slot in use"),
        ("cost_attack.cap_streams", at["cap"], "streams", "Per-key concurrent-stream cap at the chosen multiple"),
        ("cost_attack.refused_pct_at_cap", round(at["refused_pct"], 3), "%",
         "Share of the owner's sessions refused at the chosen cap over the whole simulation"),
        ("cost_attack.worst_hour_pct_at_cap", round(at["worst_hour_pct"], 2), "%",
         "Share of the owner's sessions refused in the worst hour at the chosen cap"),
        ("cost_attack.attacker_hours_cap", round(at["attacker_cap_hours"]), "h",
         "Stream-hours a day an attacker holding the key gets under the concurrent-stream cap alone"),
        ("cost_attack.attacker_usd_cap", round(at["attacker_cap_hours"] * usd_per_stream_hour), "USD",
         "GPU cost a day of that attack at the reference price"),
        ("cost_attack.attacker_over_owner_cap", round(at["attacker_cap_hours"] / daily_hours, 1), "times",
         "The attack under the cap alone as a multiple of the owner's mean day"),
        ("cost_attack.attacker_bill_cap_usd", round(at["attacker_cap_hours"] * list_price), "USD",
         "The key's bill for a day with every slot the cap allows in use (attacker and owner together), at the list price"),
        ("cost_attack.attacker_added_cap_usd", round((at["attacker_cap_hours"] - daily_hours) * list_price), "USD",
         "What that day adds to the key's bill over the owner's mean day, at the list price"),
        ("cost_attack.owner_bill_usd", round(daily_hours * list_price), "USD",
         "The key owner's bill for a mean day at the reference list price"),
        ("cost_attack.quota_hours", round(quota_hours), "h", "Per-key daily audio quota"),
        ("cost_attack.quota_hours_year", round(quota_hours * 365), "h",
         "Audio a key can send in a year at its daily quota, every day: the transcribed pairs it can collect"),
        ("cost_attack.quota_headroom_hours", round(quota_hours - daily_hours), "h",
         "Audio hours a day the quota leaves above the owner's mean day, which is all an attacker can add"),
        ("cost_attack.attacker_bill_quota_usd", round((quota_hours - daily_hours) * list_price), "USD",
         "What an attacker can add to the owner's bill in a day under the quota, at the list price"),
        ("cost_attack.attacker_usd_quota", round(quota_hours * usd_per_stream_hour), "USD",
         "GPU cost a day with the quota, whoever spends it"),
        ("cost_attack.rate_only_streams", round(rate_only_streams), "streams",
         "Concurrent streams an attacker holds under a session-start rate limit and the session length limit alone"),
        ("cost_attack.rate_only_hours", round(rate_only_hours), "h",
         "Stream-hours a day under the session-start rate limit alone"),
        ("cost_attack.rate_only_usd", round(rate_only_hours * usd_per_stream_hour), "USD",
         "GPU cost a day under the session-start rate limit alone"),
        ("cost_attack.rate_only_bill_usd", round(rate_only_hours * list_price), "USD",
         "The rate-limit-only attack's demand a day at the list price; the fleet cannot serve it, so it is not a bill"),
        ("cost_attack.rate_only_gpus", math.ceil(rate_only_streams / per_gpu), "GPUs",
         "GPUs that attack would need at the per-GPU stream target"),
        ("cost_attack.rate_only_over_fleet", round(math.ceil(rate_only_streams / per_gpu) / fleet_gpus, 1), "times",
         "GPUs the rate-limit-only attack would need, as a multiple of the reference fleet at its peak"),
        ("cost_attack.realtime_multiple", round(realtime_multiple), "streams",
         "Real-time streams' worth of audio one unpaced connection can push through the attacker's uplink"),
        ("cost_attack.upload_limit_audio_h", round(admitted_s / HOUR_S, 1), "h",
         "Hours of audio the upload byte limit admits at 6 kbit/s, the low end of Opus's normal range"),
        ("cost_attack.decoded_full_gb", round(decoded_full / 1e9, 1), "GB",
         "That audio decoded to float32 at the decoder's full rate"),
        ("cost_attack.decoded_model_gb", round(decoded_model / 1e9, 1), "GB",
         "That audio decoded to float32 at the model's sample rate"),
        ("cost_attack.amplification_full", round(decoded_full / limit_bytes), "times",
         "Decoded bytes per uploaded byte at the decoder's full rate"),
        ("cost_attack.bounded_mb", round(bounded / 1e6, 1), "MB",
         "Most float32 audio at the model's rate the decoded-duration limit lets one request hold"),
        ("cost_attack.pcm_limit_min", round(pcm_limit_s / 60, 1), "min",
         "Minutes of the reference PCM the same byte limit admits"),
    ]
    for r in rows:
        tag = f"{r['multiple']:g}".replace(".", "_")
        found += [
            (f"cost_attack.refused_pct_at_{tag}", round(r["refused_pct"], 3), "%",
             f"Share of the owner's sessions refused with the cap at {r['multiple']:g} x peak concurrency"),
            (f"cost_attack.worst_hour_pct_at_{tag}", round(r["worst_hour_pct"], 2), "%",
             f"Worst hour's share refused with the cap at {r['multiple']:g} x peak concurrency"),
        ]
    chart = _chart(rows, daily_hours, quota_hours, rate_only_hours, chosen, dict((k, v) for k, v, *_ in found))
    return LabResult(values(*found), (chart,))


def _share(pct: float, sessions: int) -> str:
    return f"none of the {sessions:,} sessions" if pct == 0 else f"{pct:.3f}% of the {sessions:,} sessions"


def _chart(rows: list[dict], daily_hours: float, quota_hours: float, rate_only_hours: float, chosen: float,
           found: dict) -> charts.Chart:
    charts.setup()
    fig, (left, right) = charts.plt.subplots(1, 2, figsize=(7.2, 3.6), layout="constrained")
    x = [r["multiple"] for r in rows]
    left.plot(x, [r["worst_hour_pct"] for r in rows], label="Worst hour", **charts.SERIES[0])
    left.plot(x, [r["refused_pct"] for r in rows], label="Whole period", **charts.SERIES[2])
    left.axvline(chosen, color=charts.ACCENT, linewidth=1.2)
    left.annotate(f"chosen cap {chosen:g}x", (chosen, 0), xytext=(4, 60), textcoords="offset points",
                  color=charts.ACCENT, fontsize=8)
    left.set_yscale("symlog", linthresh=0.1)
    left.set_ylim(0, 100)
    left.set_xlabel("Per-key stream cap (x mean peak concurrency)")
    left.set_ylabel("Owner's sessions refused (%)")
    left.set_title("What the cap costs the owner", loc="left")
    left.legend(fontsize=7, loc="upper right")

    right.plot(x, [r["attacker_cap_hours"] for r in rows], label="Stream cap alone", **charts.SERIES[1])
    right.plot(x, [r["attacker_quota_hours"] for r in rows], label="Cap and daily quota", **charts.SERIES[2])
    right.axhline(daily_hours, color=charts.INK, linewidth=1, linestyle=(0, (1, 2)))
    right.annotate("owner's mean day", (x[-1], daily_hours), xytext=(0, -11), textcoords="offset points",
                   ha="right", fontsize=8)
    right.axvline(chosen, color=charts.ACCENT, linewidth=1.2)
    right.set_ylim(0, None)
    right.set_xlabel("Per-key stream cap (x mean peak concurrency)")
    right.set_ylabel("Attacker's stream-hours per day")
    right.set_title("What the cap leaves an attacker", loc="left")
    right.legend(fontsize=7, loc="upper left")

    title = "Per-key stream caps: owner sessions refused against the attacker's worst day"
    g = lambda key: found[key]  # noqa: E731
    alt = (f"Two panels against the per-key cap on concurrent streams, from {x[0]:g} to {x[-1]:g} times the key's "
           f"mean peak-hour concurrency of {g('cost_attack.tenant_peak_concurrency'):.0f} streams. Left: a cap at "
           f"the mean refuses {g('cost_attack.refused_pct_at_1'):.1f}% of the owner's sessions, "
           f"{g('cost_attack.worst_hour_pct_at_1'):.0f}% in the worst hour; at {chosen:g} times it refuses "
           f"{_share(g('cost_attack.refused_pct_at_cap'), g('cost_attack.sessions'))} over "
           f"{g('cost_attack.days')} days. Right: under the cap alone an attacker holding the key runs {g('cost_attack.attacker_hours_cap'):,}"
           f" stream-hours a day at {chosen:g} times, {g('cost_attack.attacker_over_owner_cap'):.1f} times the "
           f"owner's mean day of {g('cost_attack.tenant_daily_hours'):,}; a daily quota holds it at "
           f"{g('cost_attack.quota_hours'):,} whatever the cap. A session-start rate limit alone would allow "
           f"{g('cost_attack.rate_only_hours'):,} stream-hours a day, off this scale.")
    header = ["cap_multiple", "cap_streams", "refused_pct", "worst_hour_refused_pct", "attacker_hours_cap_only",
              "attacker_hours_cap_and_quota", "owner_mean_day_hours", "rate_limit_only_hours"]
    table = charts.to_csv(header, [[f"{r['multiple']:g}", r["cap"], f"{r['refused_pct']:.4f}",
                                    f"{r['worst_hour_pct']:.3f}", f"{r['attacker_cap_hours']:.0f}",
                                    f"{r['attacker_quota_hours']:.0f}", f"{daily_hours:.0f}",
                                    f"{rate_only_hours:.0f}"] for r in rows])
    return charts.Chart("cost-attack-caps", title, alt, charts.to_svg(fig, "cost-attack-caps", title, alt), table)
