"""Numbered figures and tables: the captions that define them and the references to them."""
import posixpath
from html import escape

from .errors import MacroError
from .structure import Numbered

LABELS = {"figure": "Figure", "table": "Table"}


def call_line(page) -> int:
    """The source line of the macro call being run, 0 if unknown: the call that PageState.line_of_call matched
    last (macros.session.reported asks it before running the macro), so a scratch page (no calls) gives 0."""
    if page is None or not page.next_call or page.next_call > len(page.calls):
        return 0
    return int(page.file_line(page.calls[page.next_call - 1].line))


def line_attribute(line: int) -> str:
    """` data-line="N"`: where in its chapter a piece of markup comes from, so `book check` can name file:line
    from the built HTML. Empty when the line is unknown."""
    return f' data-line="{line}"' if line > 0 else ""


def render_figure(item: Numbered, image_href: str, caption: str, alt: str, line: int = 0) -> str:
    return (
        f'\n<figure class="numbered-figure" id="fig-{escape(item.id)}" data-number="{item.number}"'
        f'{line_attribute(line)}>\n'
        f'<img src="{escape(image_href)}" alt="{escape(alt)}">\n'
        f'<figcaption><span class="caption-label">Figure {item.number}</span> {escape(caption)}</figcaption>\n'
        "</figure>\n"
    )


def render_table_caption(item: Numbered, caption: str, line: int = 0) -> str:
    # A paragraph before the Markdown table: Markdown tables cannot carry a <caption>, and print keeps it with them.
    return (
        f'\n<p class="table-caption" id="table-{escape(item.id)}" data-number="{item.number}"'
        f'{line_attribute(line)}>'
        f'<span class="caption-label">Table {item.number}</span> {escape(caption)}</p>\n'
    )


def anchor(item: Numbered) -> str:
    return f"{'fig' if item.kind == 'figure' else 'table'}-{item.id}"


def render_reference(item: Numbered, href: str, line: int = 0) -> str:
    return (
        f'<a class="xref-{item.kind}" href="{escape(href)}" data-ref="{escape(anchor(item))}"{line_attribute(line)}>'
        f"{LABELS[item.kind]} {item.number}</a>"
    )


def _inside_docs(src: str) -> bool:
    """A relative path that stays under docs_dir (symbolic links there are refused for the whole build)."""
    normal = posixpath.normpath(src.replace("\\", "/"))
    return not (normal.startswith(("/", "../")) or normal == ".." or ":" in normal.split("/")[0])


def macros(session) -> dict:
    def figure(item_id: str, src: str, caption: str, alt: str = "") -> str:
        item = session.numbered("figure", item_id)
        if not alt:
            raise MacroError(f"figure {item_id!r} needs alt text: figure(..., alt=\"what the diagram shows\")")
        if not _inside_docs(src):
            raise MacroError(f"figure {item_id!r}: image {src!r} is outside {session.docs_dir.name}/; "
                             "give a path under it, such as images/ch01/pipeline.svg")
        if not (session.docs_dir / src).is_file():
            raise MacroError(f"figure {item_id!r}: image {src!r} not found under {session.docs_dir.name}/")
        return render_figure(item, session.structure.asset_href(session.page.src, src), caption, alt,
                             call_line(session.page))

    def table_caption(item_id: str, caption: str) -> str:
        return render_table_caption(session.numbered("table", item_id), caption, call_line(session.page))

    def fig(item_id: str) -> str:
        item = session.numbered("figure", item_id)
        return render_reference(item, session.href(item.page, anchor(item)), call_line(session.page))

    def table(item_id: str) -> str:
        item = session.numbered("table", item_id)
        return render_reference(item, session.href(item.page, anchor(item)), call_line(session.page))

    return {"figure": figure, "table_caption": table_caption, "fig": fig, "table": table}
