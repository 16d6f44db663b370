"""The book's one code-highlighting palette: the colours Pygments' tokens get on the web (both palettes), in the EPUB
and in print, each readable on its background (WCAG AA, 4.5:1, for every token).

pymdownx.highlight marks code up with Pygments' short classes (`.k`, `.c1`, `.s2`...) once, at build time; each
edition only chooses colours for those classes here. A token's colour comes from its role (comment, keyword,
string...), so a new Pygments token type falls back to its parent's role, as Pygments styles do.

    css(".highlight", EPUB)            the rules for code inside `.highlight`
    web_css()                          both site palettes, for Material's `data-md-color-scheme`

Print is grayscale: its palette tells tokens apart by weight and slant as much as by shade, so a black-and-white
printer keeps them legible.
"""
from dataclasses import dataclass

from pygments.token import (STANDARD_TYPES, Comment, Error, Generic, Keyword, Name, Number, Operator, Punctuation,
                            String, Token, _TokenType)

AA_CONTRAST = 4.5   # WCAG 2.2 AA for normal-size text; code is never large text

# Pygments token type -> role; every other token type takes the role of its nearest listed ancestor.
ROLES: dict[_TokenType, str] = {
    Token: "text",
    Error: "error",
    Comment: "comment", Comment.Preproc: "special", Comment.PreprocFile: "string",
    Keyword: "keyword", Keyword.Constant: "constant", Keyword.Type: "constant",
    Operator: "operator", Operator.Word: "keyword",
    Punctuation: "punctuation",
    Name: "text", Name.Builtin: "constant", Name.Builtin.Pseudo: "constant", Name.Constant: "constant",
    Name.Function: "function", Name.Class: "function", Name.Exception: "function", Name.Decorator: "special",
    Name.Tag: "keyword", Name.Attribute: "function", Name.Entity: "special", Name.Label: "special",
    Name.Variable: "variable", Name.Namespace: "text",
    String: "string", String.Escape: "special", String.Regex: "special", String.Interpol: "special",
    String.Symbol: "special", String.Doc: "comment",
    Number: "number",
    Generic: "text", Generic.Deleted: "error", Generic.Error: "error", Generic.Traceback: "error",
    Generic.Inserted: "string", Generic.Heading: "keyword", Generic.Subheading: "function",
    Generic.Prompt: "comment", Generic.Output: "comment", Generic.Emph: "text", Generic.Strong: "text",
}


@dataclass(frozen=True)
class Palette:
    name: str
    background: str                       # the code block's background, what every colour is measured against
    colours: dict[str, str]               # role -> "#rrggbb"
    emphasis: dict[str, str]              # role -> CSS declarations beyond the colour ("font-style: italic")


_EMPHASIS = {"comment": "font-style: italic", "keyword": "font-weight: 600"}

LIGHT = Palette("light", "#f5f5f5", {
    "text": "#36464e", "comment": "#5c6166", "keyword": "#3949ab", "constant": "#5e35b1", "operator": "#4f5b66",
    "punctuation": "#4f5b66", "function": "#8e24aa", "special": "#ad1457", "variable": "#00695c",
    "string": "#1b6e3a", "number": "#b71c1c", "error": "#b71c1c",
}, _EMPHASIS)

# Material's slate code background: hsl(225deg 15% 18%), written out so the contrast can be measured.
DARK = Palette("dark", "#272a35", {
    "text": "#d5d9e3", "comment": "#a3abbd", "keyword": "#94b4f5", "constant": "#b9acf5", "operator": "#b4bccb",
    "punctuation": "#b4bccb", "function": "#dd9ce8", "special": "#f59ac0", "variable": "#7fd6c9",
    "string": "#7ed69b", "number": "#f0877a", "error": "#ff8a80",
}, _EMPHASIS)

# Grays only: what a monochrome printer would make of any colour. Shade, weight and slant carry the distinctions.
PRINT = Palette("print", "#f5f5f5", {
    "text": "#111111", "comment": "#555555", "keyword": "#000000", "constant": "#000000", "operator": "#333333",
    "punctuation": "#333333", "function": "#000000", "special": "#333333", "variable": "#222222",
    "string": "#404040", "number": "#222222", "error": "#000000",
}, {**_EMPHASIS, "keyword": "font-weight: 700", "function": "font-weight: 600", "error": "text-decoration: underline"})

EPUB = LIGHT
SITE_SCHEMES = {"default": LIGHT, "slate": DARK}   # Material's palette names


def role_of(token: _TokenType) -> str:
    while token not in ROLES:
        token = token.parent
    return ROLES[token]


def token_colours(palette: Palette) -> dict[_TokenType, str]:
    """The colour of every token type Pygments knows, as the CSS below gives it."""
    return {token: palette.colours[role_of(token)] for token in STANDARD_TYPES}


def css(selector: str, palette: Palette) -> str:
    """CSS colouring Pygments' markup inside `selector` (e.g. ".highlight") with one palette."""
    by_declaration: dict[str, list[str]] = {}
    for token, short_class in sorted(STANDARD_TYPES.items(), key=lambda item: item[1]):
        if not short_class:
            continue   # Token itself: the block's own colour below
        role = role_of(token)
        declaration = "; ".join(filter(None, [f"color: {palette.colours[role]}", palette.emphasis.get(role)]))
        by_declaration.setdefault(declaration, []).append(f"{selector} .{short_class}")
    rules = [f"{selector} pre {{ color: {palette.colours['text']}; background-color: {palette.background}; }}"]
    rules += [f"{', '.join(selectors)} {{ {declaration}; }}" for declaration, selectors in by_declaration.items()]
    return "\n".join(rules) + "\n"


def web_css() -> str:
    """Both site palettes, keyed on the attribute Material sets on <body>; Material's own code colours are set to
    the palette's too, so inline code and the copy button agree with the blocks."""
    blocks = ["/* Generated by scripts/highlight.py: the book's code palette (do not edit the built file). */"]
    for scheme, palette in SITE_SCHEMES.items():
        scope = f'[data-md-color-scheme="{scheme}"]'
        blocks.append(f"{scope} {{ --md-code-fg-color: {palette.colours['text']}; "
                      f"--md-code-bg-color: {palette.background}; }}")
        blocks.append(css(f"{scope} .highlight", palette))
    return "\n".join(blocks)


# ── WCAG 2.2 contrast ───────────────────────────────────────────────────────────────────────────────────────────

def relative_luminance(colour: str) -> float:
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(foreground: str, background: str) -> float:
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def grayscale(colour: str) -> str:
    """The gray a printer without colour makes of a colour: its luma (ITU-R BT.601), as most drivers compute it."""
    red, green, blue = (int(colour.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
    gray = round(0.299 * red + 0.587 * green + 0.114 * blue)
    return f"#{gray:02x}{gray:02x}{gray:02x}"


if __name__ == "__main__":   # `python -m scripts.shared.highlight`: the palettes' weakest contrasts, to tune them
    for palette in (LIGHT, DARK, PRINT):
        worst = min(palette.colours.items(), key=lambda item: contrast(item[1], palette.background))
        print(f"{palette.name}: weakest {worst[0]} {worst[1]} at {contrast(worst[1], palette.background):.2f}:1")
