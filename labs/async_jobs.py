"""Lab: the asynchronous transcription path of the reference system, as a seeded simulation.

Two questions Chapter 7 has to answer with numbers, each simulated on the same population of jobs:

- How does a client learn that a long-running operation has finished? Each job is a recording whose length is
  drawn from the reference system's lognormal session lengths (a recorded call is as long as a live one). It runs
  through the recogniser as one stream at full speed, one model step at a time, so its processing time is its
  audio length times a real-time factor between t(1) / chunk (an idle GPU) and t(max batch) / chunk (a full one),
  drawn uniformly per job. Upload and queueing before the first step are left out: they add to every strategy
  alike. A client that polls at fixed intervals, one that doubles its wait up to a cap, and a webhook delivered on
  the Standard Webhooks example schedule (each attempt failing independently at the lost-response rate) are
  compared by status requests per job and by the delay between the job finishing and the client knowing.
- What does retrying a submission do? Each attempt to POST a job times out at the lost-response rate: half of
  those before the server sees the request, half after it has created the job (the response is lost). The client
  retries up to the reference system's retry count. Three policies share the same random draws: no retry, retry
  without an idempotency key (every attempt that reaches the server creates a job) and retry with a key (only
  the first does). The lab counts duplicate jobs, orphaned jobs (created, but the client never learned their id)
  and submissions the client gave up on, per thousand, and the GPU time the duplicates and orphans burn.
"""
from __future__ import annotations

import math

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Async jobs: polling against webhooks, and retried submissions with and without an idempotency key"
DEPENDS = ()
PARAMS = {"seed": 17, "jobs": 40000}
QUICK_PARAMS = {"seed": 17, "jobs": 4000}


def processing_times(system: ReferenceSystem, rng: np.random.Generator, jobs: int) -> tuple[np.ndarray, np.ndarray]:
    """(audio seconds, processing seconds) of each job."""
    mean_s = system.number("sessions.mean_s")
    sigma = system.number("sessions.lognormal_sigma")
    audio = rng.lognormal(math.log(mean_s) - sigma ** 2 / 2, sigma, jobs)
    low, high = rtf_range(system)
    return audio, audio * rng.uniform(low, high, jobs)


def rtf_range(system: ReferenceSystem) -> tuple[float, float]:
    """Real-time factor of one job run step by step: alone on the GPU, and in full batches."""
    chunk_ms = system.number("audio.chunk_ms")
    full = int(system.number("batcher.max_batch_size"))
    return system.service_time_ms(1) / chunk_ms, system.service_time_ms(full) / chunk_ms


def poll_fixed(done_s: np.ndarray, interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(polls, delay after completion) for a client polling every interval_s from submission."""
    polls = np.maximum(1, np.ceil(done_s / interval_s))
    return polls, polls * interval_s - done_s


def backoff_times(initial_s: float, cap_s: float, horizon_s: float) -> np.ndarray:
    """Poll instants of a client that waits initial_s, doubles each wait, and caps it at cap_s."""
    instants, t, wait = [], 0.0, initial_s
    while t < horizon_s:
        t += wait
        instants.append(t)
        wait = min(cap_s, wait * 2)
    return np.array(instants)


def poll_backoff(done_s: np.ndarray, initial_s: float, cap_s: float) -> tuple[np.ndarray, np.ndarray]:
    instants = backoff_times(initial_s, cap_s, float(done_s.max()) + cap_s)
    index = np.searchsorted(instants, done_s, side="left")  # first poll at or after completion
    return index + 1.0, instants[index] - done_s


def webhook(rng: np.random.Generator, jobs: int, schedule_s: tuple[float, ...],
            failure_rate: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(delivery attempts, delay after completion, undelivered count) on a retry schedule."""
    offsets = np.cumsum(np.array(schedule_s, dtype=float))
    failed = rng.random((jobs, len(offsets))) < failure_rate
    delivered = ~failed
    first = np.where(delivered.any(axis=1), delivered.argmax(axis=1), len(offsets) - 1)
    attempts = first + 1.0
    delay = offsets[first]
    undelivered = int((~delivered.any(axis=1)).sum())
    return attempts, delay, undelivered


def submissions(rng: np.random.Generator, jobs: int, lost_rate: float, retries: int) -> dict[str, dict[str, int]]:
    """Outcome counts of three retry policies on the same draws.

    duplicates: jobs beyond the one whose id the client received; orphans: jobs created for a submission the
    client gave up on and cannot find again (with a key it can: a later retry with the same key returns the job,
    so those count as recoverable); lost: submissions the client gave up on that created no job at all."""
    u = rng.random((jobs, retries + 1))
    ok = u >= lost_rate
    reached = u >= lost_rate / 2          # below lost_rate / 2 the request itself was lost; above, the job exists
    outcomes = {}
    for policy, attempts in (("no_retry", 1), ("retry_without_key", retries + 1), ("retry_with_key", retries + 1)):
        got_id = ok[:, :attempts].any(axis=1)
        last = np.where(got_id, ok[:, :attempts].argmax(axis=1), attempts - 1)   # the client stops at a success
        made = np.arange(attempts)[None, :] <= last[:, None]
        reaching = (reached[:, :attempts] & made).sum(axis=1)
        created = np.minimum(reaching, 1) if policy == "retry_with_key" else reaching  # a key makes repeats lookups
        keyed = policy == "retry_with_key"
        outcomes[policy] = {
            "attempts": int(made.sum()),
            "duplicates": int(np.where(got_id, created - 1, 0).sum()),
            "orphans": 0 if keyed else int(np.where(got_id, 0, created).sum()),
            "recoverable": int(np.where(got_id, 0, created).sum()) if keyed else 0,
            "lost": int(((created == 0) & ~got_id).sum()),
        }
    return outcomes


def run(system: ReferenceSystem, deps: dict, seed: int, jobs: int) -> LabResult:
    rng = np.random.default_rng([seed, 1])
    audio, done = processing_times(system, rng, jobs)
    low, high = rtf_range(system)
    intervals = system.numbers("api.poll_intervals_s")
    initial = system.number("api.poll_backoff_initial_s")
    cap = system.number("api.poll_backoff_cap_s")
    schedule = system.numbers("api.webhook_retry_schedule_s")
    lost = system.number("api.lost_response_rate")
    retries = int(system.number("api.client_max_retries"))
    sync_limit_s = system.number("api.sync_max_processing_s")

    strategies: list[tuple[str, str, np.ndarray, np.ndarray]] = []
    for interval in intervals:
        polls, delay = poll_fixed(done, interval)
        strategies.append((f"poll_{int(interval)}s", f"Poll every {interval:g} s", polls, delay))
    polls, delay = poll_backoff(done, initial, cap)
    strategies.append(("backoff", f"Poll, doubling {initial:g} s to {cap:g} s", polls, delay))
    attempts, delay, undelivered = webhook(np.random.default_rng([seed, 2]), jobs, schedule, lost)
    strategies.append(("webhook", "Webhook", attempts, delay))

    entries = [
        ("async_jobs.jobs", jobs, "jobs", "Jobs simulated (recordings with the reference session-length distribution)"),
        ("async_jobs.audio_mean_s", float(audio.mean()), "s", "Mean audio length of the simulated jobs"),
        ("async_jobs.rtf_alone", low, "1", "Real-time factor of a job run step by step on an idle GPU, t(1) / chunk"),
        ("async_jobs.rtf_full", high, "1", "Real-time factor of a job whose steps share full batches"),
        ("async_jobs.processing_mean_s", float(done.mean()), "s", "Mean processing time of a job"),
        ("async_jobs.processing_p95_s", float(np.percentile(done, 95)), "s", "p95 processing time of a job"),
        ("async_jobs.sync_audio_limit_s", sync_limit_s / high, "s",
         "Longest audio a synchronous request can hold and still finish within the sync limit on a full GPU"),
        ("async_jobs.share_over_sync_limit_pct", float((audio > sync_limit_s / high).mean() * 100), "%",
         "Share of the simulated recordings longer than the synchronous audio limit (the API gates on audio length)"),
        ("async_jobs.webhook_undelivered", undelivered, "jobs", "Webhooks never delivered after the whole schedule"),
    ]
    for key, _, requests, delay in strategies:
        entries += [
            (f"async_jobs.{key}.requests_per_job", float(requests.mean()), "requests",
             f"Mean status requests (or delivery attempts) per job, {key}"),
            (f"async_jobs.{key}.delay_p50_s", float(np.percentile(delay, 50)), "s",
             f"Median delay from completion to the client knowing, {key}"),
            (f"async_jobs.{key}.delay_p95_s", float(np.percentile(delay, 95)), "s",
             f"p95 delay from completion to the client knowing, {key}"),
            (f"async_jobs.{key}.delay_p99_s", float(np.percentile(delay, 99)), "s",
             f"p99 delay from completion to the client knowing, {key}"),
        ]

    outcomes = submissions(np.random.default_rng([seed, 3]), jobs, lost, retries)
    mean_processing_h = float(done.mean()) / 3600
    per_k = 1000 / jobs
    for policy, counts in outcomes.items():
        entries += [
            (f"async_jobs.{policy}.duplicates_per_1000", counts["duplicates"] * per_k, "jobs",
             f"Duplicate jobs per 1,000 submissions, {policy}"),
            (f"async_jobs.{policy}.orphans_per_1000", counts["orphans"] * per_k, "jobs",
             f"Jobs created whose id the client never received, per 1,000 submissions, {policy}"),
            (f"async_jobs.{policy}.lost_per_1000", counts["lost"] * per_k, "submissions",
             f"Submissions the client gave up on that created no job, per 1,000, {policy}"),
            (f"async_jobs.{policy}.recoverable_per_1000", counts["recoverable"] * per_k, "jobs",
             f"Jobs the client gave up on but can retrieve by retrying with the same key, per 1,000, {policy}"),
            (f"async_jobs.{policy}.attempts_per_1000", counts["attempts"] * per_k, "requests",
             f"Submission requests sent per 1,000 submissions, {policy}"),
            (f"async_jobs.{policy}.wasted_gpu_h_per_1000", (counts["duplicates"] + counts["orphans"]) * per_k
             * mean_processing_h, "GPU h", f"GPU hours spent on duplicates and orphans per 1,000 submissions, {policy}"),
        ]
    entries.append(("async_jobs.lost_response_pct", lost * 100, "%", "Share of submission attempts that time out"))

    chart = polling_chart(strategies, outcomes, jobs, lost, retries)
    return LabResult(values(*entries), (chart,))


def polling_chart(strategies, outcomes, jobs: int, lost: float, retries: int) -> charts.Chart:
    charts.setup()
    fig, (left, right) = charts.plt.subplots(1, 2, figsize=(7.2, 3.8), layout="constrained")
    rows = []
    markers = ("o", "s", "^", "D", "*")
    for i, (key, label, requests, delay) in enumerate(strategies):
        x, y = float(requests.mean()), float(np.percentile(delay, 95))
        style = charts.SERIES[i % len(charts.SERIES)]
        left.scatter([x], [y], color=charts.ACCENT if key == "webhook" else style["color"], marker=markers[i],
                     s=60, zorder=3)
        offset, align = {"backoff": ((4, -15), "left"), "poll_2s": ((-4, 8), "right"),
                         "poll_30s": ((-8, -3), "right")}.get(key, ((8, -3), "left"))
        left.annotate(label, (x, y), xytext=offset, textcoords="offset points", fontsize=8, ha=align)
        rows.append(["polling", label, round(x, 2), round(y, 2), round(float(np.percentile(delay, 50)), 2)])
    left.set_xscale("log")
    left.set_xlim(0.7, 60)
    left.set_xticks([1, 2, 5, 10, 20, 50], ["1", "2", "5", "10", "20", "50"])
    left.set_xlabel("Status requests per job (mean, log scale)")
    left.set_ylabel("p95 delay after completion (s)")
    left.set_title("Learning that a job is done")
    names = {"no_retry": "No retry", "retry_without_key": "Retry, no key", "retry_with_key": "Retry with key"}
    per_k = 1000 / jobs
    xs = np.arange(len(outcomes))
    dup = [outcomes[p]["duplicates"] * per_k for p in outcomes]
    orph = [outcomes[p]["orphans"] * per_k for p in outcomes]
    gave = [outcomes[p]["lost"] * per_k for p in outcomes]
    right.bar(xs - 0.27, dup, width=0.26, color=charts.FILLS[0], label="Duplicate jobs")
    right.bar(xs, orph, width=0.26, color=charts.FILLS[2], hatch="//", label="Orphaned jobs")
    right.bar(xs + 0.27, gave, width=0.26, color=charts.FILLS[4], label="Lost submissions")
    right.set_xticks(xs, [names[p] for p in outcomes], fontsize=8)
    for i in range(len(outcomes)):
        if dup[i] + orph[i] + gave[i] == 0:
            right.annotate("none", (float(xs[i]), 0.0), xytext=(0, 6), textcoords="offset points", ha="center",
                           fontsize=8)
    right.set_ylabel("Per 1,000 submissions")
    right.set_title(f"Submissions at {lost * 100:g}% timeouts, {retries} retries")
    right.legend(loc="upper right", fontsize=7.5)
    for p in outcomes:
        rows.append(["submissions", names[p], round(outcomes[p]["duplicates"] * per_k, 2),
                     round(outcomes[p]["orphans"] * per_k, 2), round(outcomes[p]["lost"] * per_k, 2)])
    fixed = [s for s in strategies if s[0].startswith("poll_")]
    back = next(s for s in strategies if s[0] == "backoff")
    hook = next(s for s in strategies if s[0] == "webhook")
    alt = (f"Left: polling every {fixed[0][1].split()[-2]} s costs {fixed[0][2].mean():.0f} status requests per job "
           f"for a p95 delay of {np.percentile(fixed[0][3], 95):.1f} s after the job finishes; polling every "
           f"{fixed[-1][1].split()[-2]} s costs {fixed[-1][2].mean():.1f} requests and {np.percentile(fixed[-1][3], 95):.0f} s; "
           f"doubling waits cost {back[2].mean():.1f} requests and {np.percentile(back[3], 95):.0f} s; a webhook costs "
           f"{hook[2].mean():.2f} delivery attempts with a p95 delay of {np.percentile(hook[3], 95):.0f} s. Right: at "
           f"{lost * 100:g}% timed-out submissions and {retries} retries, retrying without a key creates "
           f"{dup[1]:.1f} duplicate jobs per 1,000 submissions and retrying with a key none; not retrying loses "
           f"{gave[0]:.1f} submissions per 1,000 and orphans {orph[0]:.1f} jobs.")
    title = "Polling against webhooks, and retried submissions with and without an idempotency key"
    csv = charts.to_csv(["part", "strategy", "x", "y", "z"], rows)
    return charts.Chart("async-jobs", title, alt, charts.to_svg(fig, "async-jobs", title, alt), csv)
