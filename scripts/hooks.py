"""The book's one MkDocs hook module: thin handlers, in event order, that delegate to the code that does the work.

- The build (`mkdocs build`, with or without `-d`, and every `book` verb) writes into a staging folder beside the
  site folder, which replaces the site only when the whole build succeeded (strict warnings included): a failed or
  interrupted build leaves the last good site, PDF and EPUB in place. One build per project at a time.
- `mkdocs serve` keeps its own temporary folder and is a preview: not strict, a failing page shown as its errors.
- The web edition's additions to each page (scripts/web/site.py), then the PDF and EPUB (scripts/editions.py), then
  the download buttons for what was written, then publishing.

The book's settings come from one object, macros.book.BookConfig, read from mkdocs.yml in on_config.
"""
import fcntl
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any, NoReturn

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import CountHandler

from macros import complete_index
from macros.book import BookConfig
from macros.errors import DataError
from scripts import editions
from scripts.shared.files import clear_staging, discard_staging, publish_folder
from scripts.web import site

if TYPE_CHECKING:
    from scripts.pdf.fonts import FontCoverage

LOCK_FILE = Path(".cache") / "build.lock"   # relative to the folder of mkdocs.yml


@dataclass
class BuildRun:
    """What this process is doing: set by on_startup and on_config, read by the later events."""
    command: str = "build"
    dirty: bool = False               # `--dirty` rebuilds only changed pages into the existing folder: no staging
    site_dir: Path | None = None      # the published folder, while a staging folder is being built
    lock: IO | None = None
    book: BookConfig | None = None
    web: site.SiteBuild = field(default_factory=site.SiteBuild)
    fonts: "FontCoverage | None" = None   # the print fonts' characters, read once per process (`serve` rebuilds)


_run = BuildRun()


# ── Event handlers ──────────────────────────────────────────────────────────────────────────────────────────────
def on_startup(command: str, dirty: bool) -> None:
    _run.command, _run.dirty = command, dirty
    # `kill` must not leave a half-built staging folder, a held lock or (serve) MkDocs' temporary site behind:
    # exit through the normal clean-up path, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


@event_priority(100)   # before any other plugin reads site_dir
def on_config(config: MkDocsConfig) -> MkDocsConfig:
    editions.build_moment()     # an invalid SOURCE_DATE_EPOCH fails here, in one line, whatever the build makes
    try:
        _run.book = BookConfig.from_mkdocs(config)
    except DataError as error:
        raise PluginError(str(error)) from None
    _run.web = site.SiteBuild()     # `mkdocs serve` rebuilds in the same process
    site.add_code_palette(config)
    if _run.command == "serve":
        return preview_config(config)
    project = Path(config["config_file_path"]).parent
    if _run.lock is None:
        _run.lock = acquire_build_lock(project / LOCK_FILE, project)
    if not _run.dirty:
        _run.site_dir = Path(config["site_dir"]).resolve()
        config["site_dir"] = str(clear_staging(_run.site_dir))
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    files.append(site.code_palette_file(config))
    return files


def on_env(env: Any, config: MkDocsConfig, files: Files) -> Any:
    # Every page is rendered and none is written or indexed for search yet: the moment to make the Index page.
    complete_index(config, [file.page for file in files.documentation_pages() if file.page is not None])
    return env


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    return site.prepare_page(html, page, config, _book(), _run.web)


def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Navigation) -> dict[str, Any]:
    site.add_last_updated(page)
    context["book"] = _book()
    return context


def on_template_context(context: dict[str, Any], template_name: str, config: MkDocsConfig) -> dict[str, Any]:
    context["book"] = _book()       # 404.html and other pages without a Markdown source show the downloads too
    return context


def preview_config(config: MkDocsConfig) -> MkDocsConfig:
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


def _make_editions(config: MkDocsConfig) -> None:
    if _book().writes_editions(_run.command):
        from scripts.pdf.fonts import FontCoverage   # here, not at the top: a preview rarely makes the editions
        _run.fonts = _run.fonts or FontCoverage()
        editions.render_editions(Path(config["site_dir"]), _book(), _project(config) / ".cache" / "pdf",
                                 fonts=_run.fonts)


def _finish_site(config: MkDocsConfig) -> None:
    site.finish_site(Path(config["site_dir"]), _project(config) / ".cache", _run.web)


def _publish(config: MkDocsConfig) -> None:
    if _run.site_dir is None:
        return
    if _strict_warnings_logged():
        return          # MkDocs aborts the build right after this event; on_build_error discards the staging
    publish_folder(_run.site_dir)
    _run.site_dir = None


# In this order: the editions, then the download buttons for what was written, then publishing the whole site.
on_post_build = CombinedEvent(event_priority(-90)(_make_editions), event_priority(-95)(_finish_site),
                              event_priority(-100)(_publish))


def on_build_error(error: Exception) -> None:
    _discard()


def on_shutdown() -> None:
    _discard()          # an interrupted build (Ctrl-C, kill) publishes nothing
    if _run.lock is not None:
        _run.lock.close()   # closing the file releases the lock (so does any exit)
        _run.lock = None


def _discard() -> None:
    if _run.site_dir is not None:
        discard_staging(_run.site_dir)
        _run.site_dir = None


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
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


def _book() -> BookConfig:
    assert _run.book is not None, "on_config reads the book's settings before any page is built"
    return _run.book


def _project(config: MkDocsConfig) -> Path:
    return Path(config["config_file_path"]).parent
