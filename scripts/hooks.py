"""Build-wide MkDocs hooks: the site is built aside and published whole; the editions are made after it.

- A build (`mkdocs build`, with or without `-d`, and every `book` verb) writes into a staging folder beside the site
  folder, which replaces the site only when the whole build succeeded (strict warnings included): a failed or
  interrupted build leaves the last good site, PDF and EPUB in place. `mkdocs serve` keeps its own temporary folder.
- One build per project at a time: a second one is refused, naming the lock file and the pid that holds it.
- The downloadable editions (PDF and EPUB) are made after the site is built. `mkdocs serve` skips them, so previews
  stay fast, unless BOOK_PDF=1 is set in the environment; BOOK_PDF=0 skips them in any build (the test suite's
  fixture books that are not about the editions).
"""
import fcntl
import logging
import os
import signal
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import IO

from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.utils import CountHandler

from scripts.files import clear_staging, discard_staging, publish_folder
from scripts.print_book import PAGE_SIZES, BookMeta, PrintError

PDF_NAME = "productionizing-ml-inference-apis.pdf"
EPUB_NAME = "productionizing-ml-inference-apis.epub"
LOCK_FILE = Path(".cache") / "build.lock"   # relative to the folder of mkdocs.yml


@dataclass
class BuildRun:
    """What this process is doing: set by on_startup and on_config, read by the later events."""
    command: str = "build"
    dirty: bool = False               # `--dirty` rebuilds only changed pages into the existing folder: no staging
    site_dir: Path | None = None      # the published folder, while a staging folder is being built
    lock: IO | None = None


_run = BuildRun()


# ── Event handlers ──────────────────────────────────────────────────────────────────────────────────────────────
def on_startup(command, dirty):
    _run.command, _run.dirty = command, dirty
    # `kill` must not leave a half-built staging folder, a held lock or (serve) MkDocs' temporary site behind:
    # exit through the normal clean-up path, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


@event_priority(100)   # before any other plugin reads site_dir
def on_config(config):
    build_moment()     # an invalid SOURCE_DATE_EPOCH fails here, in one line, whatever the build makes
    if _run.command == "serve":
        return preview_config(config)
    project = Path(config["config_file_path"]).parent
    if _run.lock is None:
        _run.lock = acquire_build_lock(project / LOCK_FILE, project)
    if not _run.dirty:
        _run.site_dir = Path(config["site_dir"]).resolve()
        config["site_dir"] = str(clear_staging(_run.site_dir))
    return config


def preview_config(config):
    """`mkdocs serve` only refreshes the browser after a build that succeeded, so a strict failure leaves the author
    looking at a stale page with no word of what went wrong. A preview is therefore not strict, and a page whose
    macros fail is shown as its list of errors (macros/preview.py); `mkdocs build` and `book check` stay strict."""
    config["strict"] = False
    config["extra"]["book_preview"] = True
    # MkDocs attached its strict-mode counter before this event, from mkdocs.yml's `strict: true`: detach it.
    mkdocs_log = logging.getLogger("mkdocs")
    for handler in [h for h in mkdocs_log.handlers if isinstance(h, CountHandler)]:
        mkdocs_log.removeHandler(handler)
    return config


def _make_editions(config):
    wanted = os.environ.get("BOOK_PDF", "0" if _run.command == "serve" else "1")
    if wanted != "1":
        return
    # Imported here, not at the top: WeasyPrint takes a second to load, and `mkdocs serve` rarely needs it.
    from scripts.epub import render_epub
    from scripts.pdf import render_pdf
    site_dir, meta = Path(config["site_dir"]), book_meta(config)
    downloads = site_dir / "downloads"
    try:
        started = time.perf_counter()
        rendered = render_pdf(site_dir, downloads / PDF_NAME, meta,
                              cache_dir=Path(config["config_file_path"]).parent / ".cache" / "pdf")
        _log(f"{'Rendered' if rendered else 'Reused the unchanged'} PDF", started, PDF_NAME)
        started = time.perf_counter()
        render_epub(site_dir, downloads / EPUB_NAME, meta, build_moment())
        _log("Wrote EPUB", started, EPUB_NAME)
    except PrintError as error:
        raise PluginError(f"The downloadable editions were not written:\n{error}") from error


@event_priority(-100)   # after every other post-build step (site_hooks fills in the download sizes)
def _publish(config):
    if _run.site_dir is None:
        return
    if _strict_warnings_logged():
        return          # MkDocs aborts the build right after this event; on_build_error discards the staging
    publish_folder(_run.site_dir)
    _run.site_dir = None


on_post_build = CombinedEvent(_make_editions, _publish)


def on_build_error(error):
    _discard()


def on_shutdown():
    _discard()          # an interrupted build (Ctrl-C, kill) publishes nothing
    if _run.lock is not None:
        _run.lock.close()   # closing the file releases the lock (so does any exit)
        _run.lock = None


def _discard() -> None:
    if _run.site_dir is not None:
        discard_staging(_run.site_dir)
        _run.site_dir = None


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def _strict_warnings_logged() -> bool:
    """Whether `--strict` has counted a warning: MkDocs' own counter, on its logger while a strict build runs."""
    return any(isinstance(handler, CountHandler) and handler.get_counts()
               for handler in logging.getLogger("mkdocs").handlers)


# ── One build at a time ─────────────────────────────────────────────────────────────────────────────────────────
def acquire_build_lock(path: Path, project: Path) -> IO:
    """An exclusive lock on the project for this process's lifetime, or a PluginError naming its holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise PluginError(f"another build of this book is running (pid {holder} holds "
                          f"{path.relative_to(project)} in {project}); wait for it to finish") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def _log(what: str, started: float, name: str) -> None:
    print(f"INFO    -  {what} in {time.perf_counter() - started:.1f} s: downloads/{name}")


def book_meta(config) -> BookMeta:
    extra = config.get("extra") or {}
    book, book1, print_options = extra.get("book") or {}, extra.get("book1") or {}, extra.get("print") or {}
    page_size = print_options.get("page_size", "7in 9.25in")
    if page_size not in PAGE_SIZES:
        raise PluginError(f"mkdocs.yml: extra.print.page_size {page_size!r} is not one of {sorted(PAGE_SIZES)}")
    return BookMeta(
        title=config["site_name"],
        subtitle=book.get("subtitle", ""),
        author=config.get("site_author") or book.get("author", ""),
        companion=f"A companion to {book1.get('title', '')}: {book1.get('subtitle', '')}",
        copyright=config.get("copyright") or "",
        edition=version("productionizing-ml-inference-apis"),
        date=build_moment().strftime("%Y-%m-%d"),
        description=config.get("site_description") or "",
        keywords=", ".join(book.get("keywords", [])),
        page_size=page_size,
    )


def build_moment() -> datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds), otherwise now."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if not epoch:
        return datetime.now(timezone.utc).replace(microsecond=0)
    try:
        return datetime.fromtimestamp(int(epoch), timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise PluginError(f"SOURCE_DATE_EPOCH={epoch!r} is not a time: set it to whole seconds since 1970-01-01 UTC "
                          "(e.g. $(git log -1 --format=%ct)), or unset it") from None
