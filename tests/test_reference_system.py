"""The reference system: the real data file validates, derived values are right, and a malformed file is refused
with the file, line and key."""
import base64
from pathlib import Path

import pytest
import yaml

from macros.citations import Bibliography
from macros.errors import DataError, MacroError
from macros.reference_system import DERIVATIONS, REFERENCE_FILE, ReferenceSystem

GOOD_ENTRY = {"value": 100, "unit": "ms", "description": "Audio per chunk", "source": "google-stt-best-practices",
              "as_of": "2026-11"}


@pytest.fixture(scope="module")
def system() -> ReferenceSystem:
    return ReferenceSystem.load()


def write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "reference-system.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def real_data() -> dict:
    return yaml.safe_load(REFERENCE_FILE.read_text(encoding="utf-8"))


# --- the real file ----------------------------------------------------------------------------------------------

def test_the_data_file_validates_and_every_value_has_its_provenance(system):
    citation_keys = set(Bibliography.load().sources)
    data_entries = [q for q in system.entries.values() if not q.derived]
    assert len(data_entries) >= 35
    for quantity in data_entries:
        assert quantity.unit and quantity.description
        assert (quantity.source is None) == quantity.assumption
        if quantity.source:
            assert quantity.source in citation_keys and quantity.as_of
        else:
            assert quantity.why
    assert set(DERIVATIONS) <= set(system.entries)


def test_get_returns_a_typed_value_that_formats_with_its_unit(system):
    chunk = system.get("audio.chunk_ms")
    assert (chunk.value, chunk.unit, chunk.assumption) == (80, "ms", True)  # Chapter 4's choice: one model step
    assert chunk.format() == "80 ms"
    rate = system.get("audio.sample_rate_hz")
    assert (rate.value, rate.source) == (16000, "google-stt-best-practices")
    assert system.get("audio.sample_rate_hz").format() == "16,000 Hz"
    assert system.get("slo.availability").format() == "99.9%"
    assert system.get("prices.gpu_instance_usd_per_hour").format(decimals=2) == "1.00 USD/h"
    assert system.get("gpu.name").format() == "NVIDIA L4"


def test_an_unknown_key_names_the_close_match(system):
    with pytest.raises(MacroError, match=r"unknown reference-system key 'audio.chunk_msec'.*'audio.chunk_ms'"):
        system.get("audio.chunk_msec")


def test_derived_audio_sizes_by_hand(system):
    # 16,000 samples/s x 2 bytes x 1 channel = 32,000 B/s = 256,000 bit/s
    assert system.value("audio.bytes_per_second") == 32_000
    assert system.value("audio.bits_per_second") == 256_000
    # per 20 ms: 32,000 x 0.020 = 640 B; 640 = 3 x 213 + 1, so 214 base64 groups of 4 = 856 characters
    assert system.value("audio.frame_bytes_raw") == 640
    assert system.value("audio.frame_bytes_base64") == 856
    # per 80 ms chunk: 2,560 B; 2,560 = 3 x 853 + 1, so 854 groups = 3,416 characters, two '=' of padding
    assert system.value("audio.chunk_bytes_raw") == 2_560
    assert system.value("audio.chunk_bytes_base64") == 3_416
    assert system.value("audio.chunk_base64_padding") == 2
    # 12.5 chunks/s x 3,416 = 42,700 B/s of base64 on the wire, 4/3 of 32,000 plus padding
    assert system.value("audio.base64_bytes_per_second") == 42_700
    encoded = base64.b64encode(bytes(2_560))  # the standard library agrees
    assert len(encoded) == 3_416 and encoded.endswith(b"==")
    assert len(base64.b64encode(bytes(640))) == 856


def test_derived_capacity_traffic_and_cost_by_hand(system):
    assert system.value("model.weights_gb") == pytest.approx(0.228)  # 114 M parameters x 2 B
    assert system.value("inference.max_batch_ms") == pytest.approx(32.5)  # 10 + 1.5 x (16 - 1)
    assert system.value("batcher.capacity_chunks_per_s") == pytest.approx(16 / 0.0325)  # 492.3 chunks/s
    assert system.value("capacity.chunks_per_s_at_target") == pytest.approx(400)  # 32 streams x 12.5 chunks/s
    assert system.value("capacity.load_at_target") == pytest.approx(400 / (16 / 0.0325))  # 0.81 of capacity
    assert system.value("traffic.mean_fraction_of_peak") == pytest.approx(0.6)
    assert system.value("traffic.peak_concurrent_streams") == pytest.approx(792)  # 3.3/s x 240 s
    assert system.value("fleet.gpus_at_peak") == 25  # ceil(792 / 32)
    assert system.value("costs.usd_per_audio_hour") == pytest.approx(1.00 / (32 * 0.6))  # $0.052
    assert system.value("slo.error_budget_min_per_30d") == pytest.approx(43.2)  # 0.1% of 43,200 min
    assert system.get("audio.chunk_bytes_base64").uses == ("audio.chunk_bytes_raw",)


# --- a malformed file -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change, message", [
    (lambda e: e.pop("unit"), r"needs a unit"),
    (lambda e: e.update(assumption=True, why="x"), r"needs exactly one of source: <bibliography key> or assumption"),
    (lambda e: e.pop("source"), r"needs exactly one of source"),
    (lambda e: e.update(sourse="x"), r"unknown field 'sourse'. Did you mean: 'source'"),
    (lambda e: e.update(source="google-stt-best-practice"), r"unknown bibliography key .*'google-stt-best-practices'"),
    (lambda e: e.pop("as_of"), r"a sourced value needs as_of"),
    (lambda e: e.update(as_of="Nov 2026"), r"as_of must be YYYY-MM"),
    (lambda e: e.update(value="a hundred"), r"value must be a number"),
    (lambda e: e.update(description="two\nlines"), r"description must be one line"),
])
def test_a_malformed_entry_is_refused_with_file_line_and_key(tmp_path, change, message):
    data = real_data()
    change(data["audio"]["sample_rate_hz"])  # a sourced entry
    path = write(tmp_path, data)
    with pytest.raises(DataError, match=message) as caught:
        ReferenceSystem.load(path)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if text.strip() == "sample_rate_hz:")
    assert str(caught.value).startswith(f"{path}:{line}: audio.sample_rate_hz: ")


def test_an_assumption_needs_its_why(tmp_path):
    data = real_data()
    del data["audio"]["channels"]["why"]
    with pytest.raises(DataError, match=r"audio.channels: an assumption needs why"):
        ReferenceSystem.load(write(tmp_path, data))


def test_a_price_needs_its_date(tmp_path):
    data = real_data()
    del data["prices"]["gpu_instance_usd_per_hour"]["as_of"]
    with pytest.raises(DataError, match=r"prices.gpu_instance_usd_per_hour: a price needs as_of"):
        ReferenceSystem.load(write(tmp_path, data))


def test_a_derived_value_typed_into_the_file_is_refused(tmp_path):
    data = real_data()
    data["audio"]["bytes_per_second"] = {**GOOD_ENTRY, "value": 32000, "unit": "B/s"}
    with pytest.raises(DataError, match=r"audio.bytes_per_second: is derived from .*remove it from the file"):
        ReferenceSystem.load(write(tmp_path, data))


def test_a_missing_input_of_a_derived_value_is_named(tmp_path):
    data = real_data()
    del data["audio"]["sample_rate_hz"]
    with pytest.raises(DataError, match=r"derived value audio.bytes_per_second: needs audio.sample_rate_hz"):
        ReferenceSystem.load(write(tmp_path, data))


def test_a_chunk_that_holds_no_whole_number_of_bytes_is_refused(tmp_path):
    data = real_data()
    data["audio"]["chunk_ms"]["value"] = 0.01  # 0.32 bytes
    with pytest.raises(DataError, match=r"audio.chunk_bytes_raw: cannot be computed .* not a whole number"):
        ReferenceSystem.load(write(tmp_path, data))


def test_an_entry_without_a_value_is_named(tmp_path):
    data = real_data()
    del data["audio"]["chunk_ms"]["value"]
    with pytest.raises(DataError, match=r"audio.chunk_ms: an entry needs a value"):
        ReferenceSystem.load(write(tmp_path, data))
