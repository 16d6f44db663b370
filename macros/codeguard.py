"""Keep Jinja away from code.

mkdocs-macros renders the whole page as a template, so `{{ ... }}` inside a code sample would be evaluated and
`{% if %}...{% endif %}` silently deleted. Before rendering, fenced blocks and inline code spans are swapped for
inert placeholders; after rendering they are put back exactly as written.
"""
import re

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
# A code span may wrap onto the next line but never crosses a blank line.
INLINE_CODE = re.compile(r"(?<!`)(?P<ticks>`+)(?!`)(?P<body>(?:(?!\n[ \t]*\n).)+?)(?<!`)(?P=ticks)(?!`)", re.S)
PLACEHOLDER = "\x02code{}\x03"
PLACEHOLDER_RE = re.compile("\x02code(\\d+)\x03")


def protect_code(markdown: str) -> tuple[str, list[str]]:
    """Return the markdown with every code block and span replaced by a placeholder, and the originals."""
    saved: list[str] = []

    def stash(text: str) -> str:
        saved.append(text)
        return PLACEHOLDER.format(len(saved) - 1)

    out, block, closing = [], [], None
    for line in markdown.splitlines(keepends=True):
        if closing:
            block.append(line)
            if closing.match(line):
                out.append(stash("".join(block)))
                block, closing = [], None
            continue
        opened = FENCE_OPEN.match(line)
        if opened:
            fence = opened["fence"]
            closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            block = [line]
        else:
            out.append(line)
    out.extend(block)  # an unclosed fence runs to the end of the page, as in Markdown
    text = "".join(out)
    text = INLINE_CODE.sub(lambda m: stash(m.group(0)), text)
    return text, saved


JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{##.*?##\}", re.S)


def stash_prose(markdown: str, saved: list[str]) -> str:
    """Swap the plain text between Jinja constructs for placeholders too, one per line.

    Jinja then compiles a template of macro calls and short placeholders instead of a whole chapter, which is
    most of the cost of re-rendering the page being edited under `mkdocs serve`. Lines stay lines, so a
    recap() body is still indented line by line and Jinja's line numbers still match the source.
    """
    def stash_lines(text: str) -> str:
        parts = []
        for line in text.split("\n"):
            if line.strip():
                saved.append(line)
                parts.append(PLACEHOLDER.format(len(saved) - 1))
            else:
                parts.append(line)
        return "\n".join(parts)

    out, position = [], 0
    for match in JINJA.finditer(markdown):
        out.append(stash_lines(markdown[position:match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(stash_lines(markdown[position:]))
    return "".join(out)


def restore_code(markdown: str, saved: list[str]) -> str:
    # Stashed prose holds the placeholders of the code spans inside it: restore until none is left.
    while PLACEHOLDER_RE.search(markdown):
        markdown = PLACEHOLDER_RE.sub(lambda m: saved[int(m.group(1))], markdown)
    return markdown


def strip_code(markdown: str) -> str:
    """The markdown without its code, for scanning macro calls that really are macro calls."""
    return PLACEHOLDER_RE.sub("", protect_code(markdown)[0])


def mask_code(markdown: str) -> str:
    """The markdown with every character of code blanked out, newlines kept, so positions and lines still match."""
    protected, saved = protect_code(markdown)
    blank = [re.sub(r"[^\n]", " ", original) for original in saved]
    return PLACEHOLDER_RE.sub(lambda m: blank[int(m.group(1))], protected)
