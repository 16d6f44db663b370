"""The landing page's table of contents, by part, from the navigation."""
from html import escape


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


def macros(session) -> dict:
    def contents():
        return render_contents(session.structure, session.page.src)

    return {"contents": contents}
