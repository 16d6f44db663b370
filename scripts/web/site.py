"""The web edition: what a reader of the hosted book sees beyond the chapters themselves.

- the output policy (scripts/shared/safety.py): a page whose HTML holds an unsafe URL, raw HTML that could run or
  fetch something, or a scripted or external-referencing SVG fails the build, naming the chapter's file and line;
- the code palette (scripts/shared/highlight.py), generated into assets/stylesheets/highlight.css;
- reading time and, where the build has git history, the last-updated date of every chapter;
- a description of every page for search engines and link previews, and a social card (PNG) per page, drawn here
  from the vendored fonts so nothing is fetched;
- after the editions, one lxml pass over every written page (`finish_pages`): repairs to Material's own markup that
  an accessibility audit or the HTML validator rejects (THEME_FIXES), and the download buttons, with their sizes,
  only for the editions the build actually wrote.

scripts/hooks.py calls these from MkDocs' events; each takes and returns strings, paths or the page it is given.
"""
import hashlib
import html
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from lxml import etree
from lxml import html as lxml_html
from lxml.html import HtmlElement
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from PIL import Image, ImageDraw, ImageFont

from macros.book import BookConfig
from scripts.shared import highlight, safety
from scripts.shared.addresses import UniqueNames, site_path
from scripts.shared.markup import page_html, restore_svg_case
from scripts.shared.reading import reading_minutes

HIGHLIGHT_CSS = "assets/stylesheets/highlight.css"   # generated: the code palette for both site schemes
DESCRIPTION_LENGTH = 160        # what search engines show of a description
SOCIAL_DIR = "assets/images/social"
SOCIAL_SIZE = (1200, 630)       # the Open Graph size every major site crops to
FONTS = Path(__file__).resolve().parents[2] / "chapters" / "assets" / "fonts"

CARD_VERSION = "1"             # bump when draw_social_card changes, so cached cards are redrawn


@dataclass
class SocialCard:
    path: str                   # site-relative, e.g. "assets/images/social/01-the-serving-problem.png"
    title: str                  # plain text
    eyebrow: str                # "Part I: Foundations · Chapter 1", or the book's subtitle
    footer: str                 # the book's title and author


# ── What scripts/hooks.py calls, event by event ─────────────────────────────────────────────────────────────────

@dataclass
class SiteBuild:
    """What one build of the site collects as its pages render: the social cards to place (named in their own
    namespace, so two pages never share a card), the SVG files checked."""
    cards: dict[str, SocialCard] = field(default_factory=dict)
    card_names: UniqueNames = field(default_factory=UniqueNames)
    svg_checked: dict[tuple[Path, float], list[safety.Problem]] = field(default_factory=dict)


def add_code_palette(config) -> None:
    if HIGHLIGHT_CSS not in config["extra_css"]:
        config["extra_css"].append(HIGHLIGHT_CSS)   # after book.css, so the palette wins over Material's colours


def code_palette_file(config) -> File:
    return File.generated(config, HIGHLIGHT_CSS, content=highlight.web_css())


def prepare_page(html_text: str, page, config, book: BookConfig, state: SiteBuild) -> str:
    """Refuse what the output policy forbids; add reading time, description and social card to the page's meta."""
    source = Path(page.file.abs_src_path) if page.file.abs_src_path else None
    errors = unsafe_output(html_text, page.url, source, Path(config["docs_dir"]),
                           _display_path(source, config) if source else page.file.src_uri, state.svg_checked)
    if errors:
        raise PluginError("\n".join(errors))
    if page.meta.get("book_label") and source:
        page.meta["reading_time"] = reading_minutes(html_text)
    description = page.meta.get("description") or ("" if page.is_homepage else describe(html_text, DESCRIPTION_LENGTH))
    if description:
        page.meta["description"] = attribute_text(str(description))
    card = social_card_for(page, book, state.card_names.claim(page.url or "index"))
    state.cards[card.path] = card
    page.meta["social_card"] = card.path
    return html_text


def add_last_updated(page) -> None:
    updated = git_last_updated(Path(page.file.abs_src_path)) if page.file.abs_src_path else None
    if updated and page.meta.get("book_label"):
        # Material shows this key at the foot of the page, in the aside the print assembly leaves out.
        page.meta["git_revision_date_localized"] = last_updated_html(updated)


def finish_site(site_dir: Path, cache_dir: Path, state: SiteBuild) -> None:
    """After the editions: place the social cards, and offer only the editions that were written, with sizes."""
    for card in state.cards.values():
        place_social_card(card, site_dir / card.path, cache_dir / "social")
    finish_pages(site_dir)


# ── The output policy ───────────────────────────────────────────────────────────────────────────────────────────

def unsafe_output(html_text: str, page_url: str, source: Path | None, docs_dir: Path, display: str,
                  svg_checked: dict) -> list[str]:
    """One line per thing in a page's HTML that scripts/safety.py forbids, as `chapters/x.md:LINE: what`."""
    root = lxml_html.fragment_fromstring(html_text or "<p></p>", create_parent="div")
    problems = safety.html_problems(root) + _used_svg_problems(root, page_url, docs_dir, svg_checked)
    text = source.read_text(encoding="utf-8") if source else ""
    return [f"{display}:{source_line(text, problem.needle)}: {problem.message}" for problem in problems]


def _used_svg_problems(root, page_url: str, docs_dir: Path, svg_checked: dict) -> list[safety.Problem]:
    """The rules for every .svg file under docs_dir the page shows (img, source, image); svg_checked keeps each
    file's findings, so an SVG that many pages show is parsed once."""
    problems = []
    for element in root.iter("img", "source", "image", "input"):
        for address in [element.get("src"), *safety.srcset_urls(element.get("srcset") or "")]:
            if not address or safety.is_remote(address):
                continue   # remote addresses are html_problems' to report
            path = site_path(page_url, address)
            if path is None or not path.lower().endswith(".svg"):
                continue
            file = (docs_dir / path).resolve()
            if not file.is_file() or not file.is_relative_to(docs_dir.resolve()):
                continue   # a missing file is MkDocs' own link validation to report
            key = (file, file.stat().st_mtime)
            if key not in svg_checked:
                svg_checked[key] = safety.svg_file_problems(file)
            problems += [safety.Problem(f"{file.name}: {p.message}", address) for p in svg_checked[key]]
    return problems


def source_line(text: str, needle: str) -> int:
    """The line of the page's Markdown source where `needle` (a URL, a tag) is written; 1 when a macro wrote it.

    MkDocs rewrites a page's relative URLs for its folder ("images/a.svg" is "../images/a.svg" in the HTML), so a
    path is also looked for without its leading "../" and by its last segment."""
    for candidate in dict.fromkeys([needle, re.sub(r"^(\.\./)+", "", needle), needle.rsplit("/", 1)[-1]]):
        offset = text.lower().find(candidate.lower()) if candidate else -1
        if offset >= 0:
            return text.count("\n", 0, offset) + 1
    return 1


def _display_path(source: Path, config) -> str:
    return os.path.relpath(source, Path(config["config_file_path"]).parent)


# ── Description, last update ────────────────────────────────────────────────────────────────────────────────────

def plain_text(html_text: str) -> str:
    """The text of an HTML fragment (a title, a paragraph), its white space collapsed."""
    return _text_of(_fragment(html_text))


def _fragment(html_text: str) -> HtmlElement:
    return lxml_html.fragment_fromstring(html_text or "<p></p>", create_parent="div")


def _text_of(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def attribute_text(text: str) -> str:
    """A description as it may go into an attribute: the one place it is escaped, because Material's base.html and
    overrides/main.html write page.meta.description into <meta content="..."> as it is (like page.title)."""
    return html.escape(text, quote=True)


def describe(html_text: str, limit: int) -> str:
    """The page's first paragraph of prose, cut at a word boundary to fit a search result."""
    for paragraph in _fragment(html_text).iter("p"):
        text = _text_of(paragraph)
        if len(text.split()) >= 8:  # skip one-line labels such as captions and subtitles
            break
    else:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "\u2026"


def git_last_updated(path: Path) -> date | None:
    """The date of the last commit that touched a file; None outside a git checkout or for an uncommitted file."""
    try:
        result = subprocess.run(["git", "log", "-1", "--format=%cs", "--", path.name], cwd=path.parent,
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    stamp = result.stdout.strip()
    return date.fromisoformat(stamp) if result.returncode == 0 and stamp else None


def last_updated_html(day: date) -> str:
    return f'Last updated <time datetime="{day.isoformat()}">{day.day} {day:%B %Y}</time>'


# ── Social cards ────────────────────────────────────────────────────────────────────────────────────────────────

def social_card_for(page: Any, book: BookConfig, name: str) -> SocialCard:
    """The card of a page; `name` is its file's stem, claimed from the build's card names."""
    if page.is_homepage:
        title, eyebrow = book.title, book.subtitle
    else:
        title = plain_text(page.title or "")
        eyebrow = " \u00b7 ".join(filter(None, [page.meta.get("book_part"), page.meta.get("book_label")]))
    return SocialCard(f"{SOCIAL_DIR}/{name}.png", title, eyebrow or book.title, f"{book.title} \u00b7 {book.author}")


def place_social_card(card: SocialCard, target: Path, cache: Path) -> None:
    """Copy the card from the cache, drawing it only when its text is new: PNG encoding cost `mkdocs serve`
    most of a second on every save."""
    key = hashlib.sha256(f"{CARD_VERSION}|{card.title}|{card.eyebrow}|{card.footer}".encode()).hexdigest()[:24]
    cached = cache / f"{key}.png"
    if not cached.is_file():
        draw_social_card(card, cached)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target)


def draw_social_card(card: SocialCard, target: Path) -> None:
    """A 1200x630 PNG: the page's title large on the book's indigo, its place in the book above, the book below."""
    width, height = SOCIAL_SIZE
    image = Image.new("RGB", SOCIAL_SIZE, "#283593")
    draw = ImageDraw.Draw(image)
    small = ImageFont.truetype(str(FONTS / "source-sans-3-600-normal.woff2"), 34)
    large = ImageFont.truetype(str(FONTS / "source-sans-3-700-normal.woff2"), 76)
    draw.rectangle((0, 0, 24, height), fill="#ff7043")  # the accent colour as a spine
    draw.text((90, 80), card.eyebrow.upper(), font=small, fill="#c5cae9")
    y = 160
    for line in wrap_to_width(card.title, large, width - 180)[:4]:
        draw.text((90, y), line, font=large, fill="#ffffff")
        y += 92
    draw.text((90, height - 100), card.footer, font=small, fill="#e8eaf6")
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target, "PNG", optimize=True)


def wrap_to_width(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if line and font.getlength(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines


# ── Every written page, once: Material's markup repaired, the downloads offered ───────────────────────────────

def finish_pages(site_dir: Path) -> None:
    """One lxml pass over every HTML page of the site, after the editions: the theme repairs and the downloads.
    A page is written back only when something changed."""
    downloads = site_dir / "downloads"
    sizes = download_sizes(downloads)
    for path in site_dir.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        document = lxml_html.document_fromstring(text)
        changed = repair_theme(document)
        changed = offer_downloads(document, downloads, sizes) or changed
        if changed:
            path.write_text(page_html(document), encoding="utf-8")


# (what, CSS selector, repair). Each repairs something Material 9.x writes on every page; the browser tests run
# axe-core and the HTML validator over the built site, so a repair that stops matching after an upgrade shows there.
def _name_search_dialog(element: HtmlElement) -> None:
    element.set("aria-label", "Search the book")


def _drop_attribute(name: str) -> Callable[[HtmlElement], None]:
    def drop(element: HtmlElement) -> None:
        del element.attrib[name]
    return drop


def _unescape_label(element: HtmlElement) -> None:
    element.set("aria-label", element.get("aria-label", "").replace("&amp;", "&"))


THEME_FIXES: list[tuple[str, str, Callable[[HtmlElement], None]]] = [
    # The search overlay is a role="dialog" without a name (axe: aria-dialog-name, serious).
    ("search dialog name", 'div.md-search[data-md-component="search"][role="dialog"]:not([aria-label])',
     _name_search_dialog),
    # Section labels in the navigation get tabindex="" when they are not focusable: invalid HTML.
    ("empty tabindex", '[tabindex=""]', _drop_attribute("tabindex")),
    # autocomplete="off" is not allowed on checkboxes (HTML validator); Material's script resets both toggles.
    ("checkbox autocomplete", 'input.md-toggle[type="checkbox"][autocomplete]', _drop_attribute("autocomplete")),
    # The footer's aria-label escapes a title that is already HTML, so "&" is read out as "&amp;" and the label no
    # longer contains the visible text (axe: label-content-name-mismatch, serious).
    ("double-escaped labels", '[aria-label*="&amp;"]', _unescape_label),
]


def repair_theme(document: HtmlElement) -> bool:
    """Apply THEME_FIXES to a page's tree; whether anything was repaired."""
    changed = False
    for _what, selector, repair in THEME_FIXES:
        for element in document.cssselect(selector):
            repair(element)
            changed = True
    return changed


# ── Downloads ───────────────────────────────────────────────────────────────────────────────────────────────────

def download_sizes(downloads: Path) -> dict[str, str]:
    return {path.name: f"{path.stat().st_size / 1e6:.1f} MB" for path in downloads.glob("*")}


def offer_downloads(document: HtmlElement, downloads: Path, sizes: dict[str, str]) -> bool:
    """Only the editions this build wrote, each with its size; whether the page changed."""
    dropped = drop_missing_editions(document, downloads)
    return write_download_sizes(document, sizes) or dropped


def drop_missing_editions(document: HtmlElement, downloads: Path) -> bool:
    """Remove the download buttons for editions this build did not write (a preview, or extra.book.editions false)."""
    missing = [item for item in document.cssselect("li.book-downloads__item[data-download]")
               if not (downloads / item.get("data-download", "")).is_file()]
    for item in missing:
        _drop(item)
    return bool(missing)


def write_download_sizes(document: HtmlElement, sizes: dict[str, str]) -> bool:
    """Each download's size where the page offers it: the files exist only after the pages are written."""
    changed = False
    for span in document.cssselect("span.download-size[data-download]"):
        size = sizes.get(span.get("data-download", ""), "")
        if (span.text or "") != size or len(span):
            for child in list(span):
                span.remove(child)
            span.text = size
            changed = True
    return changed


def _drop(element: HtmlElement) -> None:
    """Remove an element with the white space before it, keeping the text after it."""
    previous, parent = element.getprevious(), element.getparent()
    if previous is not None:
        previous.tail = (previous.tail or "").rstrip() + (element.tail or "")
    else:
        parent.text = (parent.text or "").rstrip() + (element.tail or "")
    parent.remove(element)


# ── The same repairs on HTML text (for a caller holding a fragment rather than a page's tree) ──────────────────

def _edited(text: str, edit: Callable[[HtmlElement], object]) -> str:
    container = lxml_html.fragment_fromstring(text, create_parent="div")
    edit(container)
    restore_svg_case(container)
    return (container.text or "") + "".join(etree.tostring(child, encoding="unicode", method="html")
                                            for child in container)


def fix_theme_markup(text: str) -> str:
    return _edited(text, repair_theme)


def drop_missing_downloads(text: str, downloads: Path) -> str:
    return _edited(text, lambda root: drop_missing_editions(root, downloads))


def fill_download_sizes(text: str, sizes: dict[str, str]) -> str:
    return _edited(text, lambda root: write_download_sizes(root, sizes))
