"""Loading the YAML inventories under macros/data, with errors that name the file, the line and the key.

The data files come from pull requests like the chapters: every field is checked for its type (a string where a
list is expected would be read letter by letter) and every URL for its scheme before anything renders from it.
"""
import copy
import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

import yaml

from .errors import DataError

DATA_DIR = Path(__file__).parent / "data"
# The only URLs a data file may hold: a link the reader follows must not run script or reach local files.
WEB_SCHEMES = ("http", "https")
ADDRESS_SCHEMES = (*WEB_SCHEMES, "mailto")


# libyaml's parser when PyYAML has it: the glossary alone took half a second with the pure-Python one.
# libyaml's loader when it is installed (several times faster on the bibliography), PyYAML's own otherwise; the
# type checker sees PyYAML's, whose interface the C one shares.
if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_cache: dict = {}


class LineDict(dict):
    """A mapping from a data file that remembers its line and the line of each of its keys."""
    line: int = 0
    key_lines: dict

    def line_of(self, key=None) -> int:
        return getattr(self, "key_lines", {}).get(key, self.line)


class LineList(list):
    """A sequence from a data file that remembers its line and the line of each item."""
    line: int = 0
    item_lines: list

    def line_of(self, index=None) -> int:
        lines = getattr(self, "item_lines", [])
        return lines[index] if isinstance(index, int) and 0 <= index < len(lines) else self.line


class _DuplicateKey(Exception):
    def __init__(self, line: int, key):
        super().__init__(line, key)
        self.line, self.key = line, key


class _LineLoader(_BaseLoader):
    """Mappings and sequences that keep their line marks; two equal keys in one mapping are an error
    (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: _LineLoader, node):
    mapping = LineDict()
    mapping.line, mapping.key_lines = node.start_mark.line + 1, {}
    yield mapping
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping.key_lines:
            raise _DuplicateKey(key_node.start_mark.line + 1, key)
        mapping.key_lines[key] = key_node.start_mark.line + 1
        mapping[key] = loader.construct_object(value_node, deep=True)


def _construct_sequence(loader: _LineLoader, node):
    sequence = LineList()
    sequence.line = node.start_mark.line + 1
    sequence.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield sequence
    sequence.extend(loader.construct_object(child, deep=True) for child in node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def load_yaml(path: Path):
    """The parsed file, reused while the file is unchanged: `mkdocs serve` rebuilds on every save, and the data
    rarely changes between two saves of a chapter."""
    stat = Path(path).stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _cache:
        _cache[key] = _parse(path)
    return copy.deepcopy(_cache[key])


def _parse(path: Path):
    try:
        with open(path, encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_LineLoader)
    except _DuplicateKey as error:
        raise DataError(f"{shown_path(path)}:{error.line}: duplicate key {error.key!r}") from error
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else 0
        raise DataError(f"{shown_path(path)}:{line}: not valid YAML: {error.problem}") from error
    except yaml.YAMLError as error:
        raise DataError(f"{shown_path(path)}: not valid YAML: {error}") from error


def shown_path(path: Path) -> str:
    """The data file as the author finds it: relative to the working folder when it is inside it."""
    relative = os.path.relpath(path)
    return str(path) if relative.startswith("..") else relative


def where(path: Path, node, key=None) -> str:
    """`file:line` of a mapping or sequence loaded by load_yaml, or of one of its keys or items."""
    line = node.line_of(key) if isinstance(node, (LineDict, LineList)) else 0
    return f"{shown_path(path)}:{line}"


def require(entry, fields, where: str) -> None:
    """Fail unless every field is present and non-empty in a data entry."""
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping (key: value lines), got {_kind(entry)}")
    missing = [field for field in fields if entry.get(field) in (None, "", [])]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")


# ── field types ─────────────────────────────────────────────────────────────
@dataclass(frozen=True)
class FieldType:
    expected: str                    # as the error message says it, with an example
    accepts: Callable[[object], bool]


TEXT = FieldType("a string", lambda v: isinstance(v, str))
TEXT_LIST = FieldType("a list of strings, such as [WER, RTF]",
                      lambda v: isinstance(v, list) and all(isinstance(i, str) for i in v))
FLAG = FieldType("true or false", lambda v: isinstance(v, bool))


def check_fields(entry: dict, types: dict[str, FieldType], path: Path, label: str) -> None:
    """Fail naming the file and line of the first field whose value is not of its type."""
    for field, field_type in types.items():
        if field in entry and entry[field] is not None and not field_type.accepts(entry[field]):
            raise DataError(f"{where(path, entry, field)}: {label}: {field} must be {field_type.expected}, "
                            f"not {_kind(entry[field])} {entry[field]!r}")


def _kind(value) -> str:
    for kind, name in ((bool, "true/false"), (dict, "a mapping"), (list, "a list"), (str, "a string"),
                       ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def check_url(url: str, where: str, schemes: tuple = WEB_SCHEMES) -> None:
    """Fail unless the URL is empty or absolute with one of the schemes (http, https; mailto for an address)."""
    if not url:
        return
    parts = urlsplit(str(url).strip())
    if parts.scheme.lower() not in schemes or (parts.scheme.lower() in WEB_SCHEMES and not parts.netloc):
        raise DataError(f"{where}: unsafe or unsupported URL {url!r}: write a full "
                        f"{' or '.join(s + ':' for s in schemes)} address")


def check_date_parts(parts, where: str) -> None:
    """A CSL date: [[year]], [[year, month]] or [[year, month, day]], a real calendar date."""
    ok = (isinstance(parts, list) and len(parts) == 1 and isinstance(parts[0], list) and 1 <= len(parts[0]) <= 3
          and all(isinstance(p, int) and not isinstance(p, bool) for p in parts[0]))
    if ok:
        year, month, day = (list(parts[0]) + [1, 1])[:3]
        try:
            datetime.date(year, month, day)
        except ValueError:
            ok = False
    if not ok:
        raise DataError(f"{where}: date-parts must be [[year, month, day]] with a real date (month 1 to 12), "
                        f"such as [[2026, 11, 26]] or [[2011]], not {parts!r}")
