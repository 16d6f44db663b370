"""Writing output files: complete or not at all, with nothing left behind and a message naming the file."""
import errno
import os
import subprocess
import sys
import textwrap

import pytest
from mkdocs.exceptions import PluginError

from scripts.shared.files import atomic_write, clear_staging, publish_folder, published_path, staging_folder


def test_a_failed_write_keeps_the_previous_file_leaves_no_temporary_and_names_the_file(tmp_path, monkeypatch):
    downloads = tmp_path / "site" / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "book.pdf").write_bytes(b"previous good PDF")
    monkeypatch.chdir(tmp_path)

    def disk_full(descriptor):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "fsync", disk_full)   # the bytes were written; making them durable fails
    with pytest.raises(PluginError) as error:
        atomic_write(downloads / "book.pdf", b"new PDF" * 1000)
    assert str(error.value) == "cannot write site/downloads/book.pdf: No space left on device"
    assert (downloads / "book.pdf").read_bytes() == b"previous good PDF"
    assert [p.name for p in downloads.iterdir()] == ["book.pdf"]


def test_a_write_cut_short_by_the_file_system_leaves_the_previous_file(tmp_path):
    """A real short write (the file size limit, as a full disk would): a writer that truncated first would fail."""
    output = tmp_path / "book.pdf"
    output.write_bytes(b"previous good PDF")
    script = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        from scripts.shared.files import atomic_write
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        atomic_write(Path({str(output)!r}), b"x" * 100_000)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode != 0
    assert f"cannot write {output}: File too large" in result.stderr
    assert output.read_bytes() == b"previous good PDF"
    assert [p.name for p in tmp_path.iterdir()] == ["book.pdf"]


def test_publishing_a_staged_site_replaces_the_old_one_whole(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "old.html").write_text("old")
    staging = clear_staging(site)
    assert staging == staging_folder(site) == tmp_path / ".site.staging"
    (staging / "new.html").write_text("new")
    assert published_path(staging / "downloads" / "a.pdf") == site / "downloads" / "a.pdf"
    publish_folder(site)
    assert [p.name for p in site.iterdir()] == ["new.html"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
