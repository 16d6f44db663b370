"""What `mkdocs serve` shows in place of a page whose macros fail.

A failed build leaves the live-reloading browser on the previous page with no message (MkDocs reloads only after a
build that succeeded). In a preview the page becomes the list of its errors, `file:line: message` as the strict
build prints them, and the same lines go to the terminal; the preview reloads, and the author sees what to fix.
"""
import logging
from html import escape

from mkdocs.exceptions import PluginError

log = logging.getLogger("mkdocs.plugins.book")


def is_preview(config) -> bool:
    """Set by scripts/hooks.py under `mkdocs serve` only."""
    return bool((config.get("extra") or {}).get("book_preview"))


def error_page(title: str, error: PluginError) -> str:
    """Markdown holding no Jinja (the plugin renders it next), only an inert HTML box with the error lines."""
    return f"# {escape(title)}\n\n{error_box(str(error))}"


def error_box(message: str) -> str:
    """The box of error lines, as HTML with no Jinja left in it."""
    lines = escape(message).replace("{", "&#123;").replace("}", "&#125;")
    return ('<div class="admonition failure book-build-error" role="alert">\n'
            '<p class="admonition-title">This page did not build</p>\n'
            "<p>The strict build (<code>mkdocs build</code>, <code>book check</code>) fails on these lines:</p>\n"
            f"<pre>{lines}</pre>\n</div>\n")


def log_errors(error: PluginError) -> None:
    for line in str(error).splitlines():
        log.error(line)
