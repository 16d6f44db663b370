"""Loading the YAML inventories under macros/data, with errors that name the file and the key."""
import copy
from pathlib import Path

import yaml

from .errors import DataError

DATA_DIR = Path(__file__).parent / "data"


# libyaml's parser when PyYAML has it: the glossary alone took half a second with the pure-Python one.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_cache: dict = {}


class _DuplicateKey(Exception):
    def __init__(self, line: int, key):
        super().__init__(line, key)
        self.line, self.key = line, key


class _UniqueKeyLoader(_BaseLoader):
    """PyYAML silently keeps the last of two equal mapping keys; a data file must not."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise _DuplicateKey(key_node.start_mark.line + 1, key)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


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
            return yaml.load(stream, Loader=_UniqueKeyLoader)
    except _DuplicateKey as error:
        raise DataError(f"{path}:{error.line}: duplicate key {error.key!r}") from error
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML: {error}") from error


def require(entry: dict, fields, where: str) -> None:
    """Fail unless every field is present and non-empty in a data entry."""
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping, got {type(entry).__name__}")
    missing = [field for field in fields if entry.get(field) in (None, "", [])]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")
