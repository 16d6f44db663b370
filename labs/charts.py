"""Charts for the labs: matplotlib set up once for the book, saved as self-contained, byte-identical SVG.

- The book's typeface: Source Sans 3, the UI face of the site, converted from the vendored woff2 to a TTF under
  .cache/fonts (matplotlib cannot read woff2); DejaVu Sans when that fails.
- Text is drawn as paths (`svg.fonttype: path`), so the SVG needs no font, references nothing and runs nothing.
- Deterministic: a fixed `svg.hashsalt` names the clip paths and glyphs, and the metadata (with its date) is
  left out.
- Readable in the site's light and dark modes, in print and in grayscale: the chart carries its own white
  background, and series differ by marker, line style and lightness, not by hue alone.
- Accessible: the root element gets role="img" with a <title> and a <desc> that states the finding.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display, and the same renderer everywhere

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
from matplotlib import font_manager  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FONT_SOURCE = ROOT / "chapters" / "assets" / "fonts"
FONT_CACHE = ROOT / ".cache" / "fonts"
BOOK_FONT = "Source Sans 3"
FALLBACK_FONT = "DejaVu Sans"
FONT_COPY_VERSION = "v1"
FONT_FILES = ("source-sans-3-400-normal", "source-sans-3-600-normal")

# The site's palette (Material's indigo primary, deep orange accent) at three lightness levels, so the series
# stay apart in grayscale: light, medium, dark.
INK = "#1f2937"
GRID = "#d1d5db"
SERIES = (
    {"color": "#7986cb", "linestyle": ":", "marker": "o"},   # light indigo, dotted, circles
    {"color": "#3949ab", "linestyle": "--", "marker": "s"},  # indigo, dashed, squares
    {"color": "#1a237e", "linestyle": "-", "marker": "^"},   # dark indigo, solid, triangles
)
ACCENT = "#bf360c"  # deep orange, dark enough for 4.5:1 on white
# Stacked segments: neighbours differ in lightness, and every other one carries a hatch as well.
FILLS = ("#1a237e", "#3949ab", "#7986cb", "#c5cae9", "#bf360c", "#ff8a65", "#4e342e", "#a1887f", "#e0e0e0",
         "#00695c")
HATCHES = ("", "//", "", "..", "", "\\\\", "", "xx", "", "--")

_configured = False


@dataclass(frozen=True)
class Chart:
    """A lab's chart: the SVG, the data drawn in it as CSV, and the alt text stating what it shows."""

    id: str
    title: str
    alt: str
    svg: str
    csv: str


def setup() -> str:
    """Configure matplotlib for the book once; returns the font family in use."""
    global _configured
    family = _register_book_font()
    if not _configured:
        matplotlib.rcParams.update({
            "svg.fonttype": "path",
            "svg.hashsalt": "book-labs",
            "font.family": family,
            "font.size": 10,
            "axes.edgecolor": INK,
            "axes.labelcolor": INK,
            "axes.titlesize": 11,
            "axes.titleweight": 600,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.grid": True,
            "grid.color": GRID,
            "grid.linewidth": 0.6,
            "xtick.color": INK,
            "ytick.color": INK,
            "text.color": INK,
            "legend.frameon": False,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "lines.linewidth": 1.8,
            "lines.markersize": 5,
            "path.simplify": False,
        })
        _configured = True
    return family


def _register_book_font() -> str:
    """Write TTF copies of the vendored woff2 fonts into .cache and register them; fall back quietly."""
    try:
        from fontTools.ttLib import TTFont

        FONT_CACHE.mkdir(parents=True, exist_ok=True)
        for name in FONT_FILES:
            target = FONT_CACHE / f"{name}.{FONT_COPY_VERSION}.ttf"  # a new version when the conversion changes
            if not target.exists():
                font = TTFont(FONT_SOURCE / f"{name}.woff2")
                font.flavor = None
                _name_family(font, BOOK_FONT)
                partial = target.with_suffix(".tmp")
                font.save(partial)
                partial.replace(target)
            font_manager.fontManager.addfont(str(target))
        return BOOK_FONT
    except Exception:  # no brotli, no fonts folder: the chart is still right, only plainer
        return FALLBACK_FONT


def _name_family(font, family: str) -> None:
    """The vendored files are static instances still named after the variable font's default instance
    ("Source Sans 3 ExtraLight"); give them the family name the site uses and a style from their weight."""
    style = {400: "Regular", 600: "SemiBold", 700: "Bold"}.get(font["OS/2"].usWeightClass, "Regular")
    names = font["name"]
    for name_id in (16, 17):
        names.removeNames(nameID=name_id)
    for name_id, text in ((1, family), (2, style), (4, f"{family} {style}"), (6, f"{family}-{style}".replace(" ", ""))):
        names.setName(text, name_id, 3, 1, 0x409)
        names.setName(text, name_id, 1, 0, 0)


def figure(width: float = 7.2, height: float = 4.0):
    """A new figure and axes in the book's style (inches; 7.2 in is the text width)."""
    setup()
    return plt.subplots(figsize=(width, height), layout="constrained")


def to_svg(fig, chart_id: str, title: str, alt: str) -> str:
    """The figure as a deterministic, self-contained SVG with role, title and description (ids from chart_id,
    so two charts inlined in one page do not share them)."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    plt.close(fig)
    return _with_accessible_name(buffer.getvalue(), chart_id, title, alt)


# matplotlib's one stylesheet rule; inlined in a page, a `*` rule would restyle every SVG on it, so the same
# defaults go on the root element as presentation attributes, which only this chart inherits.
MATPLOTLIB_STYLE = '<style type="text/css">*{stroke-linejoin: round; stroke-linecap: butt}</style>'


EMPTY_GLYPH = re.compile(r"<path((?:\s+(?!d=)[\w:-]+=\"[^\"]*\")*\s*/>)")


def _with_accessible_name(svg: str, chart_id: str, title: str, alt: str) -> str:
    if MATPLOTLIB_STYLE not in svg:
        raise RuntimeError("matplotlib's SVG stylesheet changed; update MATPLOTLIB_STYLE in labs/charts.py")
    svg = svg.replace(MATPLOTLIB_STYLE, "")
    # matplotlib's prolog declares the SVG 1.1 DTD by its public address; EPUB 3 forbids external identifiers, and no
    # reader needs the DTD, so the file starts at the XML declaration and the root element.
    svg = '<?xml version="1.0" encoding="utf-8"?>\n' + svg[svg.index("<svg"):]
    # A glyph with no outline (a space) is written as a path without `d`, which SVG requires: give it an empty one.
    svg = EMPTY_GLYPH.sub(r'<path d=""\1', svg)
    start = svg.index("<svg")
    end = svg.index(">", start)
    opening = svg[start:end].replace("<svg", f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" '
                                     'stroke-linejoin="round" stroke-linecap="butt"', 1)
    name = f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(alt)}</desc>'
    return svg[:start] + opening + ">" + name + svg[end + 1:]


def to_csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()
