"""The cost_attack lab: the loss system refuses only when every slot is taken, looser caps refuse no more, the
attacker's arithmetic follows the reference system, and the run is repeatable."""
import math

import numpy as np
import pytest

from labs import run
from labs.cost_attack import refused, tenant_arrivals
from macros.reference_system import REFERENCE_FILE, ReferenceSystem


def test_loss_system_refuses_only_when_full():
    times = np.array([0.0, 1.0, 2.0, 10.0])
    lengths = np.array([5.0, 5.0, 5.0, 5.0])
    assert refused(times, lengths, 2).tolist() == [False, False, True, False]  # the third finds both slots held
    assert not refused(times, lengths, 3).any()
    assert refused(np.array([0.0, 5.0]), np.array([5.0, 1.0]), 1).tolist() == [False, False]  # a slot frees at its end


def test_arrivals_are_seeded_and_follow_the_profile():
    system = ReferenceSystem.load(REFERENCE_FILE)
    a, la = tenant_arrivals(system, 2, 9)
    b, lb = tenant_arrivals(system, 2, 9)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    expected = (system.number("traffic.mean_session_arrivals_per_s")
                * system.number("security.tenant_share_of_traffic") * 2 * 86400)
    assert len(a) == pytest.approx(expected, rel=0.05)
    assert la.mean() == pytest.approx(system.number("sessions.mean_s"), rel=0.1)


def test_values_follow_the_reference_system_and_looser_caps_refuse_less(tmp_path):
    system = ReferenceSystem.load(REFERENCE_FILE)
    first = run("cost_attack", quick=True, cache_dir=tmp_path / "one").result
    second = run("cost_attack", quick=True, cache_dir=tmp_path / "two").result
    v = lambda key: first.value(f"cost_attack.{key}").value  # noqa: E731
    refusals = [v(f"refused_pct_at_{f'{m:g}'.replace('.', '_')}")
                for m in system.numbers("security.concurrency_cap_multiples")]
    assert refusals == sorted(refusals, reverse=True)
    peak = (system.number("traffic.peak_session_arrivals_per_s") * system.number("security.tenant_share_of_traffic")
            * system.number("sessions.mean_s"))
    assert v("cap_streams") == math.ceil(peak * system.number("security.concurrency_cap_multiple"))
    assert v("attacker_hours_cap") == v("cap_streams") * 24
    assert v("rate_only_streams") == (system.number("security.session_starts_per_min")
                                      * system.number("security.max_session_s") / 60)
    assert v("quota_hours") < v("attacker_hours_cap")
    # the cap's whole day is the key's, owner included: the attack adds only the excess over the owner's mean day
    price = system.number("metering.price_usd_per_audio_hour")
    assert v("attacker_added_cap_usd") == pytest.approx(v("attacker_bill_cap_usd") - v("owner_bill_usd"), abs=1)
    assert v("attacker_added_cap_usd") == pytest.approx((v("attacker_hours_cap") - v("tenant_daily_hours")) * price, abs=1)
    # a session-start limit alone asks for more GPUs than the reference fleet runs at its peak
    assert v("rate_only_over_fleet") == pytest.approx(v("rate_only_gpus") / system.number("fleet.gpus_at_peak"), abs=0.05)
    assert v("rate_only_over_fleet") > 1
    assert v("tenant_share_pct") == round(100 * system.number("security.tenant_share_of_traffic"))
    assert v("quota_hours_year") == pytest.approx(v("quota_hours") * 365, rel=1e-3)
    assert v("refused_pct_at_cap") == 0  # the prose says the chosen cap refused none of the owner's sessions
    hours = system.number("security.upload_limit_mb") * 1e6 * 8 / system.number("security.opus_min_bitrate_bps") / 3600
    assert v("upload_limit_audio_h") == pytest.approx(hours, abs=0.05)
    assert v("decoded_full_gb") > v("decoded_model_gb") > v("bounded_mb") / 1000
    assert first.chart("cost-attack-caps").svg == second.chart("cost-attack-caps").svg
    assert "sessions" in first.chart("cost-attack-caps").alt
