"""Keep Jinja away from code, and macros away from what the reader never sees.

mkdocs-macros renders the whole page as a template, so `{{ ... }}` inside a code sample would be evaluated and
`{% if %}...{% endif %}` silently deleted. Before rendering, fenced and indented code blocks, inline code spans,
`<pre>` blocks and HTML comments are swapped for inert placeholders; after rendering they are put back exactly as
written. Code must come out as written; a macro in a comment must not run (it would use up a term's first-use
expansion, or cite a source nobody can see).

Each placeholder is followed by as many newlines as the text it replaces holds, so the protected page has the
source's line numbers: Jinja's errors, and the lines recorded for each macro call, point at the author's file.
"""
import re

FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")
# A code span may wrap onto the next line but never crosses a blank line.
INLINE_CODE = r"(?<!`)(?P<ticks>`+)(?!`)(?P<body>(?:(?!\n[ \t]*\n).)+?)(?<!`)(?P=ticks)(?!`)"
# Whichever starts first wins, as in Markdown: a code span may show `<!--`, a comment may hold backticks.
INLINE_VERBATIM = re.compile(rf"{INLINE_CODE}|<!--.*?-->|<pre\b.*?</pre\s*>", re.S | re.I)
# Lines that open a container whose content is indented by four more spaces: list items, footnotes, definitions,
# admonitions, collapsible blocks and content tabs. Their indented content is prose, not an indented code block.
CONTAINER_OPENER = re.compile(r"^[ ]*(?:[-*+][ \t]|\d+[.)][ \t]|\[\^[^\]]+\]:|:[ \t]|!!!|\?\?\?\+?|===)")
CODE_INDENT = 4
PLACEHOLDER = "\x02code{}\x03"
PLACEHOLDER_RE = re.compile("\x02code(\\d+)\x03(\n*)")


def protect_code(markdown: str) -> tuple[str, list[str]]:
    """Return the markdown with every code block and span replaced by a placeholder, and the originals."""
    saved: list[str] = []

    def stash(text: str) -> str:
        saved.append(text)
        return PLACEHOLDER.format(len(saved) - 1) + "\n" * text.count("\n")

    text = "".join(_stash_blocks(markdown.splitlines(keepends=True), stash))
    return INLINE_VERBATIM.sub(lambda m: stash(m.group(0)), text), saved


def _indent(line: str) -> int:
    expanded = line.expandtabs(CODE_INDENT)
    return len(expanded) - len(expanded.lstrip(" "))


def _stash_blocks(lines: list[str], stash) -> list[str]:
    """Fenced code blocks, and indented code blocks (four spaces deeper than the container they are in)."""
    out: list[str] = []
    block: list[str] = []
    closing = None           # the fence that ends the open fenced block
    containers: list[int] = []  # content indents of the open list items, admonitions, tabs...
    after_blank, indented_code = True, False

    def flush() -> None:
        if block:
            out.append(stash("".join(block)))
            block.clear()

    for line in lines:
        if closing:
            block.append(line)
            if closing.match(line):
                flush()
                closing = None
            continue
        if not line.strip():
            flush()
            out.append(line)
            after_blank = True
            continue
        indent = _indent(line)
        if after_blank:   # a blank line ends the containers this line is not indented into
            while containers and indent < containers[-1]:
                containers.pop()
        base = containers[-1] if containers else 0
        if indented_code and indent >= base + CODE_INDENT or after_blank and indent >= base + CODE_INDENT:
            indented_code = True
            block.append(line)
            after_blank = False
            continue
        flush()
        indented_code, after_blank = False, False
        opened = FENCE_OPEN.match(line)
        if opened:
            fence = opened["fence"]
            closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
            block.append(line)
            continue
        if CONTAINER_OPENER.match(line):
            containers.append(indent + CODE_INDENT)
        out.append(line)
    out.extend(block)  # an unclosed fence runs to the end of the page, as in Markdown
    return out


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


def stash_whole(markdown: str, saved: list[str]) -> str:
    """One placeholder for a whole text that must reach the page untouched (a render reused from the cache)."""
    saved.append(markdown)
    return PLACEHOLDER.format(len(saved) - 1)


def _replace_placeholders(markdown: str, replacement) -> str:
    """Put replacement(index) for each placeholder, dropping the newlines that padded it to the original's lines."""
    def put_back(match: re.Match) -> str:
        original = replacement(int(match.group(1)))
        padding = match.group(2)
        return original + padding[min(len(padding), original.count("\n")):]
    return PLACEHOLDER_RE.sub(put_back, markdown)


def restore_code(markdown: str, saved: list[str]) -> str:
    # Stashed prose holds the placeholders of the code spans inside it: restore until none is left.
    while PLACEHOLDER_RE.search(markdown):
        markdown = _replace_placeholders(markdown, saved.__getitem__)
    return markdown


def without_placeholders(text: str) -> str:
    """A message (a Jinja error) fit to show the author: no placeholder characters."""
    return PLACEHOLDER_RE.sub("\u2026", text).replace("\x02", "").replace("\x03", "")


def mask_code(markdown: str) -> str:
    """The markdown with every character of code blanked out, newlines kept, so positions and lines still match."""
    protected, saved = protect_code(markdown)
    return _replace_placeholders(protected, lambda index: re.sub(r"[^\n]", " ", saved[index]))
