"""The landing page: its table of contents, by part, from the navigation, and the book's identity from mkdocs.yml."""
from html import escape

from .book import BookConfig
from .errors import MacroError, closest


def render_contents(structure, from_src: str) -> str:
    out, part = ['<div class="book-contents">'], None
    for page in structure.pages.values():
        if page.src == from_src:
            continue
        if page.part != part:
            if part is not None:
                out.append("</ol>")
            part = page.part
            if part:
                out.append(f'<h3 class="book-contents__part">{escape(part)}</h3><ol class="book-contents__chapters">')
        label = f'<span class="book-contents__number">{page.number}</span> ' if page.number else ""
        item = f'<a href="{structure.href(from_src, page.src)}">{label}{escape(page.title)}</a>'
        out.append(f"<li>{item}</li>" if part else f'<p class="book-contents__page">{item}</p>')
    if part is not None:
        out.append("</ol>")
    out.append("</div>")
    return "\n".join(out)


def book_facts(book: BookConfig, inventory) -> dict[str, str]:
    """What the landing page may print about the two books; chapters never see the configuration itself."""
    return {
        "title": book.title,
        "subtitle": book.subtitle,
        "author": book.author,
        "book1_title": book.book1_title or inventory.title,
        "book1_subtitle": book.book1_subtitle or inventory.subtitle,
    }


def macros(session) -> dict:
    def contents() -> str:
        return render_contents(session.structure, session.page.src)

    def book_info(field: str) -> str:
        facts = book_facts(session.book, session.book1)
        if field not in facts:
            raise MacroError(f"book_info() knows {', '.join(map(repr, facts))}, not {field!r}." + closest(field, facts))
        return escape(str(facts[field]), quote=False)

    return {"contents": contents, "book_info": book_info}
