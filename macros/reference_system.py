"""The reference system: the running example's numbers (macros/data/reference-system.yml), validated, typed, and
the values derived from them.

    system = ReferenceSystem.load()
    system.get("audio.chunk_ms").format()            -> "100 ms"
    system.get("audio.chunk_bytes_base64").value     -> 4268 (computed here, never typed into the data file)

A derived value is a small function registered with @derived: it names the entries it reads, so a reader of the
book can be told where a number comes from, and it is computed when the file is loaded, so an inconsistent file
fails at once with the key that cannot be computed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Union

import yaml

from .citations import BIBLIOGRAPHY_DIR, Bibliography
from .datafiles import DATA_DIR, load_yaml
from .errors import DataError, MacroError, closest

REFERENCE_FILE = DATA_DIR / "reference-system.yml"
ENTRY_FIELDS = ("value", "unit", "description", "source", "as_of", "assumption", "why")
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
AS_OF_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
PRICE_UNIT = re.compile(r"\b(USD|EUR|GBP)\b")
TEXT_UNIT = "text"
PURE_NUMBER_UNIT = "1"

Value = Union[int, float, str, tuple]


@dataclass(frozen=True)
class Quantity:
    """One value of the reference system with its unit and provenance: data (sourced or assumed) or derived."""

    key: str
    value: Value
    unit: str
    description: str
    source: str | None = None
    as_of: str | None = None
    why: str | None = None
    uses: tuple[str, ...] = ()  # for a derived value: the keys it is computed from

    @property
    def derived(self) -> bool:
        return bool(self.uses)

    @property
    def assumption(self) -> bool:
        return self.source is None and not self.derived

    def format(self, decimals: int | None = None) -> str:
        """The value as prose prints it: "100 ms", "32,000 B/s", "99.9%", "0.0417 USD/h"."""
        return format_quantity(self.value, self.unit, decimals)


def format_quantity(value: Value, unit: str, decimals: int | None = None) -> str:
    """One rule for printing a value with its unit, shared by the reference system and the labs' values."""
    if unit == TEXT_UNIT:
        return str(value)
    if isinstance(value, tuple):
        number = ", ".join(format_number(v, decimals) for v in value) or "none"
    elif isinstance(value, str):
        number = value   # a text value under a unit of its own: printed as written
    else:
        number = format_number(value, decimals)
    if unit == PURE_NUMBER_UNIT:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def format_number(value: float | int, decimals: int | None = None) -> str:
    """Thousands separators; floats to three significant figures unless told how many decimals."""
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 100:
        # Half away from zero, as readers round and as the calculators' JavaScript does (262.5 ms is 263 ms), not
        # Python's round-half-to-even.
        return f"{int(math.copysign(math.floor(abs(value) + 0.5), value)):,}"
    return f"{value:.3g}"


# --- derived values -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Derivation:
    key: str
    unit: str
    description: str
    uses: tuple[str, ...]
    compute: Callable[..., Value]


DERIVATIONS: dict[str, Derivation] = {}


def derived(key: str, unit: str, description: str, *uses: str):
    """Register fn(*values of `uses`) as the derived value `key`."""
    def register(compute: Callable[..., Value]) -> Callable[..., Value]:
        DERIVATIONS[key] = Derivation(key, unit, description, uses, compute)
        return compute
    return register


def base64_length(raw_bytes: int) -> int:
    """Base64 writes every 3 bytes as 4 characters and pads the last group to 4 with '='."""
    return 4 * math.ceil(raw_bytes / 3)


def base64_padding(raw_bytes: int) -> int:
    return (3 - raw_bytes % 3) % 3


def whole_bytes(byte_count: float, what: str) -> int:
    if not float(byte_count).is_integer():
        raise ValueError(f"{what} is {byte_count} bytes, not a whole number: the duration does not hold whole samples")
    return int(byte_count)


@derived("audio.bytes_per_second", "B/s", "Bytes per second of the raw stream",
         "audio.sample_rate_hz", "audio.bits_per_sample", "audio.channels")
def _bytes_per_second(rate: int, bits: int, channels: int) -> int:
    return whole_bytes(rate * bits / 8 * channels, "one second of audio")


@derived("audio.bits_per_second", "bit/s", "Bit rate of the raw stream", "audio.bytes_per_second")
def _bits_per_second(bytes_per_second: int) -> int:
    return bytes_per_second * 8


@derived("audio.chunks_per_second", "chunks/s", "Chunks one stream sends per second", "audio.chunk_ms")
def _chunks_per_second(chunk_ms: float) -> float:
    return 1000 / chunk_ms


@derived("audio.frame_bytes_raw", "B", "Raw audio bytes in one frame (per 20 ms)",
         "audio.bytes_per_second", "audio.frame_ms")
def _frame_bytes_raw(bytes_per_second: int, frame_ms: float) -> int:
    return whole_bytes(bytes_per_second * frame_ms / 1000, "one frame")


@derived("audio.frame_bytes_base64", "B", "Base64 characters for one frame of audio sent on its own",
         "audio.frame_bytes_raw")
def _frame_bytes_base64(raw: int) -> int:
    return base64_length(raw)


@derived("audio.chunk_bytes_raw", "B", "Raw audio bytes in one chunk", "audio.bytes_per_second", "audio.chunk_ms")
def _chunk_bytes_raw(bytes_per_second: int, chunk_ms: float) -> int:
    return whole_bytes(bytes_per_second * chunk_ms / 1000, "one chunk")


@derived("audio.chunk_bytes_base64", "B", "Base64 characters for one chunk (4 per 3 bytes, padded to a multiple of 4)",
         "audio.chunk_bytes_raw")
def _chunk_bytes_base64(raw: int) -> int:
    return base64_length(raw)


@derived("audio.chunk_base64_padding", "characters", "'=' characters padding one chunk's base64 text",
         "audio.chunk_bytes_raw")
def _chunk_base64_padding(raw: int) -> int:
    return base64_padding(raw)


@derived("audio.base64_bytes_per_second", "B/s", "Audio bytes per second on the wire as base64, chunk by chunk",
         "audio.chunk_bytes_base64", "audio.chunks_per_second")
def _base64_bytes_per_second(chunk_base64: int, chunks_per_second: float) -> float:
    return chunk_base64 * chunks_per_second


@derived("model.weights_gb", "GB", "Weights of the recogniser at its serving precision",
         "model.parameters", "model.bytes_per_parameter")
def _weights_gb(parameters: int, bytes_per_parameter: float) -> float:
    return parameters * bytes_per_parameter / 1e9


@derived("inference.max_batch_ms", "ms", "GPU time of a full batch, t(max_batch_size)",
         "inference.batch_fixed_ms", "inference.batch_per_chunk_ms", "batcher.max_batch_size")
def _max_batch_ms(fixed: float, per_chunk: float, max_batch: int) -> float:
    return service_time_ms(max_batch, fixed, per_chunk)


@derived("batcher.capacity_chunks_per_s", "chunks/s",
         "Most chunks per second the instances can serve, every batch full",
         "batcher.max_batch_size", "inference.max_batch_ms", "batcher.instances")
def _capacity(max_batch: int, max_batch_ms: float, instances: int) -> float:
    return instances * max_batch * 1000 / max_batch_ms


@derived("capacity.chunks_per_s_at_target", "chunks/s", "Chunks per second one GPU receives at its stream target",
         "capacity.streams_per_gpu", "audio.chunks_per_second")
def _chunks_at_target(streams: int, chunks_per_second: float) -> float:
    return streams * chunks_per_second


@derived("capacity.load_at_target", PURE_NUMBER_UNIT,
         "Offered load at the stream target as a fraction of the batcher's full-batch capacity",
         "capacity.chunks_per_s_at_target", "batcher.capacity_chunks_per_s")
def _load_at_target(offered: float, capacity: float) -> float:
    return offered / capacity


@derived("capacity.streams_at_saturation", "streams", "Streams per GPU at which every batch must be full to keep up",
         "batcher.capacity_chunks_per_s", "audio.chunks_per_second")
def _streams_at_saturation(capacity: float, chunks_per_second: float) -> float:
    return capacity / chunks_per_second


@derived("traffic.mean_fraction_of_peak", PURE_NUMBER_UNIT, "Daily mean arrival rate as a fraction of the peak hour",
         "traffic.daily_profile")
def _mean_fraction(profile: tuple) -> float:
    return sum(profile) / len(profile)


@derived("traffic.mean_session_arrivals_per_s", "sessions/s", "New sessions per second averaged over the day",
         "traffic.peak_session_arrivals_per_s", "traffic.mean_fraction_of_peak")
def _mean_arrivals(peak: float, fraction: float) -> float:
    return peak * fraction


@derived("traffic.peak_concurrent_streams", "streams", "Concurrent streams at the peak hour (Little's law)",
         "traffic.peak_session_arrivals_per_s", "sessions.mean_s")
def _peak_streams(peak: float, mean_s: float) -> float:
    return peak * mean_s


@derived("traffic.mean_concurrent_streams", "streams", "Concurrent streams averaged over the day (Little's law)",
         "traffic.mean_session_arrivals_per_s", "sessions.mean_s")
def _mean_streams(arrivals: float, mean_s: float) -> float:
    return arrivals * mean_s


@derived("fleet.gpus_at_peak", "GPUs", "GPUs needed at the peak hour at the stream target, before headroom",
         "traffic.peak_concurrent_streams", "capacity.streams_per_gpu")
def _gpus_at_peak(streams: float, per_gpu: int) -> int:
    return math.ceil(streams / per_gpu)


@derived("sessions.median_s", "s", "Median session length of the lognormal distribution",
         "sessions.mean_s", "sessions.lognormal_sigma")
def _median_session(mean_s: float, sigma: float) -> float:
    return mean_s / math.exp(sigma ** 2 / 2)


@derived("costs.usd_per_audio_hour", "USD/h", "GPU cost per hour of audio at the daily mean utilisation",
         "prices.gpu_instance_usd_per_hour", "capacity.streams_per_gpu", "traffic.mean_fraction_of_peak")
def _cost_per_audio_hour(price: float, streams: int, utilisation: float) -> float:
    return price / (streams * utilisation)


@derived("costs.usd_per_audio_hour_full", "USD/h", "GPU cost per hour of audio with every stream slot in use",
         "prices.gpu_instance_usd_per_hour", "capacity.streams_per_gpu")
def _cost_full(price: float, streams: int) -> float:
    return price / streams


@derived("slo.error_budget_min_per_30d", "min", "Minutes of a 30-day window the availability target allows to miss",
         "slo.availability")
def _error_budget(availability: float) -> float:
    return (1 - availability / 100) * 30 * 24 * 60


def service_time_ms(batch: int, fixed_ms: float, per_chunk_ms: float) -> float:
    """t(b): the GPU time of a batch of b chunks, linear in b (the shape Chapter 3 uses)."""
    return fixed_ms + per_chunk_ms * (batch - 1)


# --- loading and validation -----------------------------------------------------------------------------------

@dataclass
class ReferenceSystem:
    path: Path
    entries: dict[str, Quantity] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = REFERENCE_FILE, citation_keys: Iterable[str] | None = None) -> "ReferenceSystem":
        """Read and validate the file; `citation_keys` defaults to the book's bibliography."""
        path = Path(path)
        keys = set(citation_keys) if citation_keys is not None else set(Bibliography.load(BIBLIOGRAPHY_DIR).sources)
        lines = _key_lines(path)
        system = cls(path)
        for key, entry in _leaves(load_yaml(path), path, lines):
            system.entries[key] = _validated(key, entry, keys, f"{path}:{lines.get(key, 1)}: {key}")
        system._derive(lines)
        return system

    def get(self, key: str) -> Quantity:
        if key not in self.entries:
            raise MacroError(f"unknown reference-system key {key!r} (in {self.path.name})."
                             + closest(key, self.entries))
        return self.entries[key]

    def value(self, key: str) -> Value:
        return self.get(key).value

    def number(self, key: str) -> float:
        """A numeric value, for arithmetic; a key that holds text or a list is a mistake in the caller."""
        value = self.value(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MacroError(f"reference-system key {key!r} holds {value!r}, not a number")
        return value

    def numbers(self, key: str) -> tuple[float, ...]:
        """A list of numbers (an empty value is an empty tuple)."""
        value = self.value(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return (value,)
        if not isinstance(value, tuple) or not all(isinstance(v, (int, float)) for v in value):
            raise MacroError(f"reference-system key {key!r} holds {value!r}, not a list of numbers")
        return value

    def service_time_ms(self, batch: int) -> float:
        """t(b) of the reference system's recogniser, in ms."""
        return service_time_ms(batch, self.number("inference.batch_fixed_ms"),
                               self.number("inference.batch_per_chunk_ms"))

    def _derive(self, lines: dict) -> None:
        for key, rule in DERIVATIONS.items():  # registered in dependency order
            where = f"{self.path}: derived value {key}"
            if key in self.entries:
                raise DataError(f"{self.path}:{lines.get(key, 1)}: {key}: is derived from "
                                f"{', '.join(rule.uses)}; remove it from the file")
            missing = [use for use in rule.uses if use not in self.entries]
            if missing:
                raise DataError(f"{where}: needs {', '.join(missing)}, which the file does not define")
            try:
                value = rule.compute(*(self.entries[use].value for use in rule.uses))
            except (ArithmeticError, ValueError, TypeError) as error:
                raise DataError(f"{where}: cannot be computed from {', '.join(rule.uses)}: {error}") from error
            self.entries[key] = Quantity(key, value, rule.unit, rule.description, uses=rule.uses)


def _leaves(tree, path: Path, lines: dict, prefix: str = ""):
    """(dotted key, entry) for every mapping that has a `value`; groups are mappings without one."""
    if not isinstance(tree, dict) or not tree:
        raise DataError(f"{path}:{lines.get(prefix.rstrip('.'), 1)}: {prefix.rstrip('.') or 'top level'}: "
                        "expected a group of entries (a mapping)")
    for name, node in tree.items():
        key = f"{prefix}{name}"
        if not KEY_PATTERN.match(str(name)):
            raise DataError(f"{path}:{lines.get(key, 1)}: {key}: keys are lower_snake_case")
        line = lines.get(key, 1)
        if isinstance(node, dict) and "value" in node:
            yield key, node
        elif isinstance(node, dict) and any(name in ENTRY_FIELDS for name in node):
            raise DataError(f"{path}:{line}: {key}: an entry needs a value")
        elif isinstance(node, dict):
            yield from _leaves(node, path, lines, key + ".")
        else:
            raise DataError(f"{path}:{line}: {key}: expected an entry (value, unit, description, and source or "
                            "assumption) or a group of entries")


def _validated(key: str, entry: dict, citation_keys: set, where: str) -> Quantity:
    unknown = [name for name in entry if name not in ENTRY_FIELDS]
    if unknown:
        raise DataError(f"{where}: unknown field {unknown[0]!r}." + closest(unknown[0], ENTRY_FIELDS))
    for name in ("unit", "description"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise DataError(f"{where}: needs a {name} (a non-empty string)")
    if "\n" in entry["description"].strip():
        raise DataError(f"{where}: description must be one line")
    source, assumption = entry.get("source"), entry.get("assumption")
    if (source is None) == (assumption is None):
        raise DataError(f"{where}: needs exactly one of source: <bibliography key> or assumption: true")
    if source is not None:
        if source not in citation_keys:
            raise DataError(f"{where}: unknown bibliography key {source!r}." + closest(source, citation_keys))
        if "why" in entry:
            raise DataError(f"{where}: why is for assumptions; a sourced value's reason is its source")
        if "as_of" not in entry:
            raise DataError(f"{where}: a sourced value needs as_of: YYYY-MM, the month it was checked")
    else:
        if assumption is not True:
            raise DataError(f"{where}: assumption must be true (or give a source instead)")
        if not isinstance(entry.get("why"), str) or not entry["why"].strip() or "\n" in entry["why"].strip():
            raise DataError(f"{where}: an assumption needs why: <one line>")
    if PRICE_UNIT.search(entry["unit"]) and "as_of" not in entry:
        raise DataError(f"{where}: a price needs as_of: YYYY-MM")
    as_of = entry.get("as_of")
    if as_of is not None and not AS_OF_PATTERN.match(str(as_of)):
        raise DataError(f"{where}: as_of must be YYYY-MM, got {as_of!r}")
    return Quantity(key, _typed_value(entry["value"], entry["unit"], where), entry["unit"].strip(),
                    entry["description"].strip(), source, str(as_of) if as_of is not None else None,
                    entry.get("why"))


def _typed_value(value, unit: str, where: str) -> Value:
    if unit == TEXT_UNIT:
        if not isinstance(value, str) or not value.strip():
            raise DataError(f"{where}: a value with unit text must be a non-empty string")
        return value.strip()
    if isinstance(value, list):
        if not all(_is_number(v) for v in value):
            raise DataError(f"{where}: a list value must hold only numbers")
        return tuple(value)
    if not _is_number(value):
        raise DataError(f"{where}: value must be a number (or use unit: text), got {value!r}")
    return value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _key_lines(path: Path) -> dict[str, int]:
    """The line of every dotted key, so an error points at the entry it is about."""
    lines: dict[str, int] = {}

    def walk(node, prefix: str) -> None:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = f"{prefix}{key_node.value}"
                lines.setdefault(key, key_node.start_mark.line + 1)
                walk(value_node, key + ".")
    try:
        walk(yaml.compose(path.read_text(encoding="utf-8")), "")
    except yaml.YAMLError:
        pass  # load_yaml reports the syntax error with its position
    return lines
