"""Writing the downloadable editions: a file appears only when it is complete."""
import os
import tempfile
from pathlib import Path


def atomic_write(output: Path, data: bytes) -> None:
    """Write beside the destination, then move into place: a failed build leaves the previous file untouched."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=output.parent, prefix=f".{output.name}.", delete=False) as handle:
        handle.write(data)
    os.chmod(handle.name, 0o644)  # temporary files are private; the published file is for everyone to read
    os.replace(handle.name, output)
