"""The retention lab: its snapshot and purge-run arithmetic, and the order of its designs' outcomes."""
import numpy as np
import pytest

from labs import run
from labs.retention import last_snapshot_before, next_success, stored_audio_tb_per_day
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("retention", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def test_the_last_snapshot_is_the_one_before_the_deletion():
    # Snapshots at 02:00: a deletion at 01:00 on day 5 was last captured at 02:00 on day 4.
    assert last_snapshot_before(np.array([5 + 1 / 24]))[0] == pytest.approx(4 + 2 / 24)
    assert last_snapshot_before(np.array([5 + 3 / 24]))[0] == pytest.approx(5 + 2 / 24)


def test_a_failed_night_moves_the_deletion_to_the_next_successful_run():
    runs = np.array([0.0, 1.0, 3.0])  # the run of night 2 failed
    assert list(next_success(runs, np.array([0.5, 1.5, 1.0]))) == [1.0, 3.0, 1.0]


def test_stored_audio_follows_the_reference_system():
    system = ReferenceSystem.load()
    expected = (system.number("traffic.mean_session_arrivals_per_s") * 86400 * system.number("sessions.mean_s")
                * system.number("audio.bytes_per_second") * system.number("governance.stored_audio_pct") / 100 / 1e12)
    assert stored_audio_tb_per_day(system) == pytest.approx(expected)


def test_backups_set_recovery_unless_keys_are_shredded_in_a_short_lived_store(result):
    system = ReferenceSystem.load()
    backup = system.number("governance.backup_retention_days")
    key_days = system.number("governance.key_store_backup_days")
    value = lambda key: result.value(f"retention.{key}").value  # noqa: E731
    for design in ("in_place", "purge_all", "shred_db_keys"):
        assert backup - 1 <= value(f"{design}.recoverable_p50_days") <= backup + 1
    assert value("shred_key_store.recoverable_max_days") == pytest.approx(key_days)
    assert value("purge_all.readable_p95_days") == 0
    assert value("in_place.readable_p95_days") > value("purge_all.readable_p95_days")
    assert value("shred_db_keys.readable_max_days") == 0


def test_shorter_content_snapshots_end_every_recovery_inside_the_month(result):
    system = ReferenceSystem.load()
    short = system.number("governance.content_backup_retention_days")
    value = lambda key: result.value(f"retention.{key}").value  # noqa: E731
    # The snapshot retention plus at most a couple of failed purge nights, and never past one month.
    assert short - 1 <= value("purge_short_backups.recoverable_p50_days") <= short + 1
    assert value("purge_short_backups.recoverable_max_days") <= short + 3
    assert value("purge_short_backups.recoverable_over_month_pct") == 0
    assert value("purge_all.recoverable_over_month_pct") == 100
    assert value("short_backup_audio_tb") < value("backup_audio_tb")


def test_the_chart_states_its_finding(result):
    chart = result.chart("retention-deletion-survival")
    assert "five deletion designs" in chart.alt and "<script" not in chart.svg
    assert chart.csv.splitlines()[0] == "design,measure,p50_days,p95_days,max_days,mean_days"
