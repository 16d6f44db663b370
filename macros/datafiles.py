"""Loading the YAML inventories under macros/data, with errors that name the file and the key."""
from pathlib import Path

import yaml

from .errors import DataError

DATA_DIR = Path(__file__).parent / "data"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML silently keeps the last of two equal mapping keys; a data file must not."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise DataError(f"{self.name}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_yaml(path: Path):
    try:
        with open(path, encoding="utf-8") as stream:
            return yaml.load(stream, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as error:
        raise DataError(f"{path}: not valid YAML: {error}") from error


def require(entry: dict, fields, where: str) -> None:
    """Fail unless every field is present and non-empty in a data entry."""
    if not isinstance(entry, dict):
        raise DataError(f"{where}: expected a mapping, got {type(entry).__name__}")
    missing = [field for field in fields if entry.get(field) in (None, "", [])]
    if missing:
        raise DataError(f"{where}: missing {', '.join(missing)}")
