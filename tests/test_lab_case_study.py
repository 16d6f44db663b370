"""The case-study lab: its closed forms agree with the reference system, and the queue-wait rule never keeps more
streams than the cap or than saturation allows."""
import math

import pytest

from labs import run
from labs.batching import BatcherConfig
from labs.case_study import kept_streams, saturation_streams
from macros.reference_system import ReferenceSystem


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run("case_study", quick=True, cache_dir=tmp_path_factory.mktemp("cache")).result


def test_saturation_at_reference_speed_is_the_reference_systems():
    system = ReferenceSystem.load()
    assert saturation_streams(0.0, system) == pytest.approx(system.number("capacity.streams_at_saturation"))


def test_the_cap_saturates_where_capacity_meets_the_caps_chunk_rate(result):
    system = ReferenceSystem.load()
    cap = system.number("capacity.streams_per_gpu")
    pct = result.value("case_study.saturation_slowdown_pct").value
    assert saturation_streams(pct / 100, system) == pytest.approx(cap)


def test_the_healthy_gpu_is_inside_the_allowance_and_the_incident_is_past_saturation(result):
    system = ReferenceSystem.load()
    assert result.value("case_study.queue_p95_ms_healthy").value <= system.number("budget.queue_p95_ms")
    assert result.value("case_study.incident_saturation_streams").value < system.number("capacity.streams_per_gpu")
    assert result.value("case_study.incident_wait_growth_ms_per_s").value > 0


def test_the_rule_keeps_no_more_than_the_cap_or_saturation():
    system = ReferenceSystem.load()
    config = BatcherConfig.from_reference(system)
    for slowdown in (0.0, 0.4, 1.0):
        kept = kept_streams(slowdown, system, config, 3000, 1, 0, 0.1)
        assert kept <= system.number("capacity.streams_per_gpu")
        assert kept < saturation_streams(slowdown, system)


def test_the_frozen_fleet_holds_its_slots_share_of_the_peak(result):
    system = ReferenceSystem.load()
    gpus = result.value("case_study.frozen_gpus").value
    peak = system.number("traffic.peak_concurrent_streams") * max(system.numbers("traffic.daily_profile"))
    share = gpus * system.number("capacity.streams_per_gpu") / peak
    assert result.value("case_study.frozen_share_of_peak_pct").value == pytest.approx(100 * share)
    assert gpus == math.ceil(system.numbers("traffic.daily_profile")[5] * system.number(
        "traffic.peak_concurrent_streams") / (system.number("capacity.streams_per_gpu")
                                              * system.number("scaling.target_slot_utilisation")))
