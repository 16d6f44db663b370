"""The author macros (mkdocs-macros-plugin module): term(), cite(), book1(), recap(), figure(), fig(), table()...

Each concern lives in its own module; this file only wires them to the plugin. The README documents every macro.
"""
from pathlib import Path

from mkdocs.exceptions import PluginError

from . import book1, citations, contents, figures, glossary, indexing, preview, reference
from .manifest import write_manifest
from .session import LABS_DIR, BookSession, reported

MACRO_MODULES = (book1, glossary, citations, figures, contents, reference, indexing)


def define_env(env):
    session = env.book_session = BookSession(env.conf)
    # `mkdocs serve` rebuilds when the data the pages are made from changes, not only the pages.
    for folder in (session.data_dir, LABS_DIR):   # value() and chart() print what the labs compute
        if str(folder) not in map(str, env.conf["watch"]):
            env.conf["watch"].append(str(folder))
    for module in MACRO_MODULES:
        for name, macro in module.macros(session).items():
            session.macros[name] = macro
            env.macro(reported(macro, name, session), name)
            # mkdocs.yml's extra.book1 configures book1(); as a page variable it would shadow the macro.
            env.variables.pop(name, None)


def on_pre_page_macros(env):
    env.book_page_failed = False
    try:
        env.markdown = env.book_session.start_page(env.page, env.markdown, env.env)
    except PluginError as error:
        _show_in_preview(env, error)


def on_post_page_macros(env):
    if env.book_page_failed:
        return
    try:
        env.markdown = env.book_session.finish_page(env.markdown)
    except PluginError as error:
        _show_in_preview(env, error)


def _show_in_preview(env, error: PluginError) -> None:
    """Raise, so the build fails; under `mkdocs serve`, show the page as its errors instead (macros/preview.py)."""
    if not preview.is_preview(env.conf):
        raise error
    preview.log_errors(error)
    env.markdown = preview.error_page(env.page.title or env.page.file.src_path, error)
    env.book_page_failed = True


def complete_index(config, pages) -> None:
    """Called by scripts/hooks.py once every page is rendered (MkDocs' `env` event): the Index page is made from the
    marks in all the others. A problem fails the build; a preview shows it on the Index page and in the log."""
    session = getattr(config["plugins"].get("macros"), "book_session", None)
    if session is None:
        return
    problems = indexing.complete_index_page(session, pages)
    if not problems:
        return
    error = PluginError("\n".join(problems))
    if not preview.is_preview(config):
        raise error
    preview.log_errors(error)


def on_post_build(env):
    reference.write_site_charts(env.book_session, Path(env.conf["site_dir"]))
    nav = env.variables.get("navigation")
    write_manifest(env.book_session, nav.pages if nav else [], Path(env.conf["site_dir"]), env.conf["site_url"] or "")
