"""Lab: how long deleted audio stays readable, and recoverable, under five deletion designs.

A simulation of one year of deletions of stored recordings (at retention expiry or on request, at uniformly random
moments) against the copies a recording leaves behind:
  - the primary object store, emptied by a nightly purge job at 00:00 that fails on some nights (a failed night
    leaves its deletions to the next run), or by the request handler itself;
  - a cached playback copy, which expires cache_ttl_days after its last read (the last read is uniform over the
    week before the deletion), unless it is purged;
  - daily snapshots at 02:00 of the recording store and of the metadata database, each kept backup_retention_days
    (content_backup_retention_days for the chapter's default design);
  - for crypto-shredding, the recording's data key, whose destruction makes every copy unreadable at once, but
    which stays recoverable as long as a backup of wherever the key was stored survives.

Two durations per deleted recording, from the moment the deletion was due:
  - readable: until neither the primary store nor a cache can serve the audio (what an API call could return);
  - recoverable: until no copy exists that a restore could bring back in readable form.

Designs:
  - in_place: the nightly job deletes from the primary store; caches and backups expire on their own;
  - purge_all: the request path deletes the primary object and purges caches at once (the nightly job retries
    what fails); backups still expire on their own;
  - shred_db_keys: per-recording data keys destroyed at once, but held in the metadata database, whose
    snapshots keep them as long as the recording snapshots keep the audio;
  - shred_key_store: the same keys held in a key store whose destroyed keys are recoverable for only
    key_store_backup_days;
  - purge_short_backups: purge_all with content snapshots kept content_backup_retention_days instead of
    backup_retention_days (the chapter's default: no key machinery, every recovery inside the month).

Key destruction is modelled as never failing (unlike the purge job), which favours the shredding designs slightly.
Asynchronous object expiry and replicas would lengthen every duration; a failed snapshot would shorten it.

The storage figures multiply the simulated mean durations by the reference system's stored audio per day (Little's
law: bytes held = bytes deleted per day x mean days they survive).
"""
from __future__ import annotations

import numpy as np

from macros.reference_system import ReferenceSystem

from . import LabResult, charts, values

TITLE = "Retention and deletion: how long deleted audio survives in caches and backups"
DEPENDS: tuple[str, ...] = ()
PARAMS = {"seed": 20261130, "deletions": 200000, "days": 365}
QUICK_PARAMS = {"seed": 20261130, "deletions": 20000, "days": 120}

DESIGNS = (
    ("in_place", "Delete in place, nightly"),
    ("purge_all", "Delete and purge caches at once"),
    ("shred_db_keys", "Crypto-shred, keys in the backed-up database"),
    ("shred_key_store", "Crypto-shred, keys in a short-lived key store"),
    ("purge_short_backups", "Delete and purge at once, shorter snapshots"),
)
PURGE_HOUR, SNAPSHOT_HOUR = 0.0, 2.0
SYNC_FAILURE_PCT = 0.1  # share of request-path deletions that fail and fall back to the nightly job
ONE_MONTH_DAYS = 30.0   # GDPR Art. 12(3)'s "one month", drawn at 30 days


def nightly_runs(rng: np.random.Generator, days: int, failure_pct: float) -> np.ndarray:
    """Times (in days) of the purge runs that succeed, over the horizon plus a margin for failures."""
    nights = np.arange(days + 60, dtype=float) + PURGE_HOUR / 24
    return nights[rng.random(nights.size) >= failure_pct / 100]


def next_success(runs: np.ndarray, times: np.ndarray) -> np.ndarray:
    """The first successful run at or after each time."""
    index = np.searchsorted(runs, times, side="left")
    return runs[index]


def last_snapshot_before(times: np.ndarray) -> np.ndarray:
    """The last daily snapshot taken strictly before each time (the copy a restore would bring back)."""
    offset = SNAPSHOT_HOUR / 24
    return np.ceil(times - offset) - 1 + offset


def simulate(system: ReferenceSystem, seed: int, deletions: int, days: int) -> dict[str, dict[str, np.ndarray]]:
    rng = np.random.default_rng([seed, 0])
    backup = system.number("governance.backup_retention_days")
    short_backup = system.number("governance.content_backup_retention_days")
    ttl = system.number("governance.cache_ttl_days")
    key_days = system.number("governance.key_store_backup_days")
    runs = nightly_runs(np.random.default_rng([seed, 1]), days, system.number("governance.purge_failure_pct"))
    due = np.sort(rng.uniform(1.0, days, deletions))                 # when each deletion is due
    cache_expiry = due - rng.uniform(0.0, ttl, deletions) + ttl      # last read within a TTL before, plus the TTL
    sync_failed = rng.random(deletions) < SYNC_FAILURE_PCT / 100

    nightly = next_success(runs, due)                                # in_place: the primary goes at the next run
    immediate = np.where(sync_failed, nightly, due)                  # request path, nightly job as the retry
    # The last snapshot taken while the object still existed keeps it for the backup retention.
    backup_of_nightly = last_snapshot_before(nightly) + backup
    backup_of_immediate = last_snapshot_before(immediate) + backup
    short_backup_of_immediate = last_snapshot_before(immediate) + short_backup
    # Keys: destroyed on the request path at once; the database's snapshots keep them like the audio's.
    key_in_db = last_snapshot_before(due) + backup
    key_in_store = due + key_days

    def lasting(*ends: np.ndarray) -> np.ndarray:
        return np.maximum.reduce([np.maximum(end - due, 0.0) for end in ends])

    return {
        "in_place": {"readable": lasting(nightly, cache_expiry),
                     "recoverable": lasting(nightly, cache_expiry, backup_of_nightly)},
        "purge_all": {"readable": lasting(immediate),
                      "recoverable": lasting(immediate, backup_of_immediate)},
        # Once the key is gone nothing can be decrypted; until then a restore of key and audio can.
        "shred_db_keys": {"readable": np.zeros(deletions),
                          "recoverable": lasting(np.minimum(key_in_db, np.maximum(backup_of_immediate, immediate)))},
        "shred_key_store": {"readable": np.zeros(deletions),
                            "recoverable": lasting(np.minimum(key_in_store, np.maximum(backup_of_immediate,
                                                                                        immediate)))},
        "purge_short_backups": {"readable": lasting(immediate),
                                "recoverable": lasting(immediate, short_backup_of_immediate)},
    }


def stored_audio_tb_per_day(system: ReferenceSystem) -> float:
    sessions_per_day = system.number("traffic.mean_session_arrivals_per_s") * 86400
    audio_bytes = sessions_per_day * system.number("sessions.mean_s") * system.number("audio.bytes_per_second")
    return audio_bytes * system.number("governance.stored_audio_pct") / 100 / 1e12


def run(system: ReferenceSystem, deps: dict, *, seed: int, deletions: int, days: int) -> LabResult:
    outcome = simulate(system, seed, deletions, days)
    per_day = stored_audio_tb_per_day(system)
    retention = system.number("governance.audio_retention_days")
    backup = system.number("governance.backup_retention_days")
    entries: list[tuple] = [
        ("retention.stored_audio_tb_per_day", round(per_day, 3), "TB",
         "Raw audio stored per day at the reference traffic's daily mean and the opt-in share"),
        ("retention.primary_audio_tb", round(per_day * retention, 1), "TB",
         "Audio held in the primary store in steady state (stored per day x retention days)"),
        ("retention.deletions_simulated", deletions, "deletions", "Deletions simulated per design"),
        ("retention.days_simulated", days, "days", "Length of the simulated period"),
    ]
    for design, label in DESIGNS:
        for measure in ("readable", "recoverable"):
            days_left = outcome[design][measure]
            key = f"retention.{design}.{measure}"
            entries += [
                (f"{key}_p50_days", round(float(np.percentile(days_left, 50)), 2), "days",
                 f"{label}: median time deleted audio stays {measure}"),
                (f"{key}_p95_days", round(float(np.percentile(days_left, 95)), 2), "days",
                 f"{label}: p95 time deleted audio stays {measure}"),
                (f"{key}_max_days", round(float(days_left.max()), 2), "days",
                 f"{label}: longest time deleted audio stayed {measure}"),
                (f"{key}_mean_days", round(float(days_left.mean()), 2), "days",
                 f"{label}: mean time deleted audio stays {measure}"),
                (f"{key}_over_month_pct", round(float((days_left > ONE_MONTH_DAYS).mean() * 100), 1), "%",
                 f"{label}: share of deletions {measure} for longer than one month (30 days)"),
                (f"{key}_tb", round(float(days_left.mean()) * per_day, 1), "TB",
                 f"{label}: deleted audio held {measure} on an average day (TB deleted per day x mean days)"),
            ]
    entries.append(("retention.backup_audio_tb", round(per_day * backup, 1), "TB",
                    "Audio held only in snapshots on an average day under delete-in-place designs"))
    short_backup = system.number("governance.content_backup_retention_days")
    entries.append(("retention.short_backup_audio_tb", round(per_day * short_backup, 1), "TB",
                    "Audio held only in snapshots on an average day with the shorter content snapshots"))
    found = values(*entries)
    return LabResult(found, (_chart(outcome, found, system),))


def _chart(outcome: dict, found: dict, system: ReferenceSystem) -> charts.Chart:
    fig, ax = charts.figure(7.2, 4.4)
    rows = []
    for row, (design, label) in enumerate(DESIGNS):
        for offset, measure, style in ((-0.17, "readable", charts.SERIES[0]), (0.17, "recoverable", charts.SERIES[2])):
            data = outcome[design][measure]
            p50, p95, top = (float(np.percentile(data, 50)), float(np.percentile(data, 95)), float(data.max()))
            y = row + offset
            ax.barh(y, p95, height=0.3, color=style["color"], hatch="//" if measure == "readable" else "",
                    edgecolor="white", linewidth=0.6, label=f"{measure.capitalize()} (bar to p95)" if row == 0 else None)
            ax.plot([p95, top], [y, y], color=charts.INK, linewidth=1)
            ax.plot([top], [y], marker="|", color=charts.INK, markersize=8,
                    label="Longest" if row == 0 and measure == "recoverable" else None)
            ax.plot([p50], [y], marker="o", color="white", markeredgecolor=charts.INK, markersize=4,
                    label="Median" if row == 0 and measure == "recoverable" else None)
            if top >= 1:
                ax.annotate(f"{p95:.1f}", (top, y), xytext=(6, 0), textcoords="offset points", va="center",
                            fontsize=8)
            rows.append([design, measure, f"{p50:.3f}", f"{p95:.3f}", f"{top:.3f}", f"{float(data.mean()):.3f}"])
    ax.axvline(ONE_MONTH_DAYS, color=charts.ACCENT, linewidth=1.5)
    ax.text(ONE_MONTH_DAYS + 0.5, -0.62, "one month to answer\nan erasure request", ha="left", va="top",
            fontsize=8, color=charts.ACCENT)
    ax.set_yticks(range(len(DESIGNS)), [label.replace(", ", ",\n") for _, label in DESIGNS])
    ax.set_ylim(len(DESIGNS) - 0.45, -0.75)
    ax.set_xlim(0, 44)
    ax.set_xlabel("Days after the deletion was due (p95 printed beside each bar)")
    ax.grid(axis="y", visible=False)
    ax.legend(loc="lower right", fontsize=8)
    backup = system.number("governance.backup_retention_days")
    title = "How long deleted audio survives, by deletion design"
    v = lambda key: found[f"retention.{key}"].value  # noqa: E731
    alt = (f"Horizontal bars for five deletion designs, simulated over {v('days_simulated')} days. Deleting in "
           f"place with a nightly job leaves audio readable for up to {v('in_place.readable_p95_days'):.1f} days "
           f"at the p95 (cached copies) and recoverable from {backup:.0f}-day snapshots for "
           f"{v('in_place.recoverable_p95_days'):.1f} days, past the one-month line. Purging at once makes it "
           f"unreadable within hours but still recoverable for {v('purge_all.recoverable_p95_days'):.1f} days. "
           f"Crypto-shredding with keys in the backed-up database changes nothing about recovery "
           f"({v('shred_db_keys.recoverable_p95_days'):.1f} days); with keys in a key store kept "
           f"{system.number('governance.key_store_backup_days'):.0f} days, recovery ends after "
           f"{v('shred_key_store.recoverable_p95_days'):.1f} days. Purging at once with "
           f"{system.number('governance.content_backup_retention_days'):.0f}-day content snapshots keeps every "
           f"recovery inside the month (longest {v('purge_short_backups.recoverable_max_days'):.1f} days).")
    table = charts.to_csv(["design", "measure", "p50_days", "p95_days", "max_days", "mean_days"], rows)
    return charts.Chart("retention-deletion-survival", title, alt,
                        charts.to_svg(fig, "retention-deletion-survival", title, alt), table)
