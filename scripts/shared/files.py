"""Writing the build's output: a file, or the whole site, appears only when it is complete.

- `atomic_write`: one file (an edition), written beside its destination and moved into place;
- `staging_folder` / `publish_folder`: the whole site, built into a sibling folder that replaces the published one
  only when the build succeeded, so a failed or interrupted build leaves the last good site, PDF and EPUB in place.
"""
import os
import shutil
import tempfile
from pathlib import Path

STAGING_MARK = ".staging"   # site/ is built as .site.staging/ beside it
RETIRED_MARK = ".retired"   # the previous site/ while the new one moves in

from mkdocs.exceptions import PluginError


def atomic_write(output: Path, data: bytes) -> None:
    """Write beside the destination, then move into place: a failed write leaves the previous file untouched.

    The data is flushed to disk before the rename (and the rename before returning), so a crash cannot leave an
    empty or partial file under the final name; on any failure, a kill included, the temporary file is removed,
    so a deploy of the folder never publishes it.
    """
    output = Path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.")
    except OSError as error:
        raise PluginError(f"cannot write {_shown(output)}: {error.strerror or error}") from error
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)  # temporary files are private; the published file is for everyone to read
        os.replace(temporary, output)
        _fsync_folder(output.parent)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise PluginError(f"cannot write {_shown(output)}: {error.strerror or error}") from error
        raise


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX keeps directory entries in the folder's own data)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _shown(path: Path) -> str:
    """The path as the author sees it: where it will be published (site/downloads/<name>, not the staging folder),
    relative to where the command runs when inside it."""
    path = published_path(path.resolve())
    try:
        return path.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


# ── the site as a whole ──────────────────────────────────────────────────────
def staging_folder(site_dir: Path) -> Path:
    """Where a build of `site_dir` writes: a hidden sibling (same file system, so publishing is a rename)."""
    return site_dir.parent / f".{site_dir.name}{STAGING_MARK}"


def published_path(path: Path) -> Path:
    """The path a file in a staging folder will have once published."""
    parts = [part[1:-len(STAGING_MARK)] if part.startswith(".") and part.endswith(STAGING_MARK) and
             len(part) > len(STAGING_MARK) + 1 else part for part in path.parts]
    return Path(*parts)


def clear_staging(site_dir: Path) -> Path:
    """An empty staging folder for `site_dir`, removing what an interrupted earlier build left there."""
    staging = staging_folder(site_dir)
    for leftover in (staging, _retired(site_dir)):
        if leftover.exists():
            shutil.rmtree(leftover)
    staging.mkdir(parents=True)
    return staging


def publish_folder(site_dir: Path) -> None:
    """Replace `site_dir` with its finished staging folder: two renames, the old site removed only afterwards."""
    staging, retired = staging_folder(site_dir), _retired(site_dir)
    if site_dir.exists():
        os.replace(site_dir, retired)
    os.replace(staging, site_dir)
    _fsync_folder(site_dir.parent)
    if retired.exists():
        shutil.rmtree(retired)


def discard_staging(site_dir: Path) -> None:
    shutil.rmtree(staging_folder(site_dir), ignore_errors=True)


def _retired(site_dir: Path) -> Path:
    return site_dir.parent / f".{site_dir.name}{RETIRED_MARK}"
