"""The build as a whole: a failed or interrupted build publishes nothing, one build at a time, no orphans."""
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bookbuild import MKDOCS, REAL_BOOK, ROOT, build_book, clean_env, write_book

BOOK = str(Path(sys.executable).parent / "book")
PAGES = {"index.md": "# Home\n", "one.md": "# One\n\nSome {{ term(\"RTF\") }} text.\n", "two.md": "# Two\n"}
OUTPUTS = ("index.html", "one/index.html", f"downloads/{REAL_BOOK.pdf_name}", f"downloads/{REAL_BOOK.epub_name}")


def snapshot(site: Path) -> dict:
    return {name: (site / name).read_bytes() for name in OUTPUTS}


@pytest.fixture
def built_book(tmp_path):
    root = write_book(tmp_path / "book", PAGES)
    first = build_book(root, pdf=True)
    assert first.ok, first.log
    return root, snapshot(first.site)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text` (our own test's paths)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = next((line for line in (entry / "status").read_text().splitlines()
                              if line.startswith("State:")), "")
            except OSError:
                continue
            if text in command and "zombie" not in state:
                found.append(int(entry.name))
    return found


def stop(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_failed_build_keeps_the_last_good_site_pdf_and_epub(built_book):
    root, before = built_book
    (root / "docs" / "one.md").write_text("# One\n\n{{ term(\"NO-SUCH-TERM\") }}\n", encoding="utf-8")
    second = build_book(root, pdf=True)
    assert not second.ok
    assert snapshot(root / "site") == before
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".site")) == []


def test_a_build_with_a_strict_warning_publishes_nothing(built_book):
    root, before = built_book
    (root / "docs" / "one.md").write_text("# One\n\nSee [nowhere](two.md#no-such-anchor).\n", encoding="utf-8")
    second = build_book(root, pdf=True)
    assert not second.ok and "no-such-anchor" in second.log
    assert snapshot(root / "site") == before


def test_a_failed_build_into_another_folder_keeps_that_folder(built_book, tmp_path):
    root, _ = built_book
    elsewhere = tmp_path / "elsewhere"
    command = [MKDOCS, "build", "--strict", "-f", str(root / "mkdocs.yml"), "-d", str(elsewhere)]
    environment = clean_env({"BOOK_EDITIONS": "false"})
    assert subprocess.run(command, cwd=root, env=environment, capture_output=True).returncode == 0
    index = (elsewhere / "index.html").read_bytes()
    (root / "docs" / "one.md").write_text("# One\n\n{{ term(\"NO-SUCH-TERM\") }}\n", encoding="utf-8")
    assert subprocess.run(command, cwd=root, env=environment, capture_output=True).returncode != 0
    assert (elsewhere / "index.html").read_bytes() == index


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["kill", "ctrl-c"])
def test_an_interrupted_build_publishes_nothing(built_book, stop_signal):
    """Stopped while the editions are being made: the previous site stays, with editions that exist."""
    root, before = built_book
    (root / "docs" / "one.md").write_text("# One\n\nChanged text.\n", encoding="utf-8")
    build = subprocess.Popen([MKDOCS, "build", "--strict", "-f", str(root / "mkdocs.yml")], cwd=root,
                             env=clean_env({"BOOK_EDITIONS": "true"}),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staged_page = root / ".site.staging" / "one" / "index.html"
    deadline = time.monotonic() + 120
    while not staged_page.exists() and build.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    build.send_signal(stop_signal)
    assert build.wait(60) != 0
    assert snapshot(root / "site") == before
    assert not (root / ".site.staging").exists()
    assert not processes_mentioning(str(root / "mkdocs.yml"))


def test_a_second_build_at_once_is_refused_naming_the_lock_and_its_holder(built_book):
    root, before = built_book
    with open(root / ".cache" / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("4242\n")
        lock.flush()
        second = build_book(root, pdf=True)
    assert not second.ok
    assert ".cache/build.lock" in second.log and "pid 4242" in second.log
    assert "Traceback" not in second.log
    assert snapshot(root / "site") == before
    assert build_book(root).ok   # the lock is released with its holder


def test_killing_scripts_build_stops_mkdocs(tmp_path):
    root = write_book(tmp_path / "book", PAGES)
    config = str(root / "mkdocs.yml")
    build = subprocess.Popen([str(ROOT / "scripts" / "build"), "-f", config], env=clean_env({"BOOK_EDITIONS": "true"}),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not [p for p in processes_mentioning(config) if p != build.pid] and build.poll() is None \
                and ".venv/bin/mkdocs" not in Path(f"/proc/{build.pid}/cmdline").read_text(errors="replace") \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        assert build.poll() is None, "the build finished before it could be stopped"
        build.send_signal(signal.SIGTERM)
        build.wait(60)
        time.sleep(0.5)
        assert not processes_mentioning(config)
    finally:
        stop(processes_mentioning(config))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_stopping_book_serve_stops_the_preview_server_and_frees_its_port(tmp_path):
    root = write_book(tmp_path / "book", PAGES)
    config, port = str(root / "mkdocs.yml"), free_port()
    serve = subprocess.Popen([BOOK, "-f", config, "serve", "-a", f"127.0.0.1:{port}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not port_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert port_open(port), "book serve never listened"
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        deadline = time.monotonic() + 10
        while (processes_mentioning(config) or port_open(port)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_mentioning(config)
        assert not port_open(port)
    finally:
        stop(processes_mentioning(config))


def test_an_invalid_source_date_epoch_is_one_clear_error(tmp_path):
    built = build_book(write_book(tmp_path / "book", PAGES), env={"SOURCE_DATE_EPOCH": "yesterday"})
    assert not built.ok
    assert "SOURCE_DATE_EPOCH='yesterday' is not a time" in built.log
    assert "Traceback" not in built.log


def fake_commands(folder: Path, apt_get: str) -> dict:
    """A PATH on which setup finds a missing system package, runs as root, and meets this apt-get."""
    folder.mkdir()
    scripts = {"dpkg-query": "exit 1", "id": "echo 0",
               "apt-get": f'echo "$@" >> "{folder}/apt-get.log"\n{apt_get}'}
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    return {**os.environ, "PATH": f"{folder}:{os.environ['PATH']}"}


def test_setup_waits_for_the_package_lock_and_fails_clearly_when_apt_cannot_run(tmp_path):
    locked = 'echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 77 (apt-get)" >&2; exit 100'
    result = subprocess.run([str(ROOT / "scripts" / "setup")], env=fake_commands(tmp_path / "bin", locked),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "setup: could not install the system packages" in result.stderr
    assert "Could not get lock" in result.stderr
    assert "DPkg::Lock::Timeout=" in (tmp_path / "bin" / "apt-get.log").read_text()


def test_book_pdf_and_epub_build_once_and_say_where_the_edition_is(tmp_path):
    root = write_book(tmp_path / "book", PAGES)
    for verb, name in (("pdf", REAL_BOOK.pdf_name), ("epub", REAL_BOOK.epub_name)):
        result = subprocess.run([BOOK, "-f", str(root / "mkdocs.yml"), verb], cwd=root, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip().endswith(f"wrote {root / 'site' / 'downloads' / name}")
        assert (root / "site" / "downloads" / name).is_file()
