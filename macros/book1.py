"""References to Book 1 ("Before the 3 AM Alert") and the "From Book 1" recap box."""
import re
from dataclasses import dataclass
from html import escape

from markdown.extensions.toc import slugify, unique

from .datafiles import DATA_DIR, TEXT, TEXT_LIST, FieldType, check_fields, load_yaml, require, where
from .errors import DataError, MacroError, closest
from .figures import call_line, line_attribute

BOOK1_FILE = DATA_DIR / "book1.yml"
# A stem becomes a path in links to the hosted Book 1, so it may only be a plain slug (no scheme, no "..").
STEM = re.compile(r"^[a-z0-9][a-z0-9-]*$")
BOOK_FIELDS = {"title": TEXT, "subtitle": TEXT}
CHAPTER_FIELDS = {
    "title": TEXT,
    "stem": FieldType("a slug of lower-case letters, digits and hyphens, such as 05-network-connections",
                      lambda v: isinstance(v, str) and bool(STEM.match(v))),
    "sections": TEXT_LIST,
    "number": FieldType("a chapter number or an appendix letter, such as 5 or A",
                        lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, str) and v.isalpha()),
}


@dataclass(frozen=True)
class Book1Chapter:
    label: str          # "5", "A" or "Preface"
    title: str
    stem: str
    sections: dict      # section title -> anchor, in order

    @property
    def heading(self) -> str:
        if self.label == "Preface":
            return "Preface"
        kind = "Appendix" if self.label.isalpha() else "Chapter"
        return f"{kind} {self.label}, {self.title}"


class Book1Inventory:
    """Book 1's chapters and sections, as published, so that every reference to it can be checked."""

    def __init__(self, title: str, subtitle: str, chapters: dict):
        self.title, self.subtitle, self.chapters = title, subtitle, chapters

    @classmethod
    def load(cls, path=BOOK1_FILE) -> "Book1Inventory":
        data = load_yaml(path)
        require(data, ("title", "chapters"), where(path, data))
        check_fields(data, BOOK_FIELDS, path, "Book 1")
        if not isinstance(data["chapters"], list):
            raise DataError(f"{where(path, data, 'chapters')}: chapters must be a list of chapters (- title: ...)")
        chapters = {}
        for index, raw in enumerate(data["chapters"]):
            label = f"chapters[{index}]"
            require(raw, ("title", "stem", "sections"), f"{where(path, data['chapters'], index)}: {label}")
            check_fields(raw, CHAPTER_FIELDS, path, label)
            number = "Preface" if raw.get("number") is None else str(raw["number"])
            if number in chapters:
                raise DataError(f"{where(path, raw, 'number')}: {label}: duplicate chapter {number!r}")
            chapters[number] = Book1Chapter(number, raw["title"], raw["stem"],
                                            _anchors(raw["sections"], f"{where(path, raw, 'sections')}: {label}"))
        return cls(data["title"], data.get("subtitle", ""), chapters)

    def chapter(self, label) -> Book1Chapter:
        key = str(label)
        if key not in self.chapters:
            raise MacroError(f"unknown Book 1 chapter {label!r}; it has {', '.join(self.chapters)}.")
        return self.chapters[key]

    def anchor(self, chapter: Book1Chapter, section: str) -> str:
        if section not in chapter.sections:
            raise MacroError(
                f"Book 1 {chapter.heading} has no section {section!r}." + closest(section, chapter.sections)
            )
        return chapter.sections[section]


def _anchors(sections, where: str) -> dict:
    """Section anchors as MkDocs makes them: slugified titles, de-duplicated in order."""
    seen: set[str] = set()
    anchors: dict[str, str] = {}
    for title in sections:
        if title in anchors:
            raise DataError(f"{where}: duplicate section {title!r}")
        anchors[title] = unique(slugify(title, "-"), seen)
    return anchors


def render_reference(inventory: Book1Inventory, base_url: str, label: int | str, section: str | None = None,
                     line: int = 0) -> str:
    """The inline reference: a link to the hosted Book 1 when its URL is known, a styled citation otherwise."""
    chapter = inventory.chapter(label)
    anchor = inventory.anchor(chapter, section) if section else ""
    text = f"<cite>{escape(inventory.title)}</cite>, {escape(chapter.heading)}"
    if section:
        text += f", section \u201c{escape(section)}\u201d"
    attributes = f'class="xref-book1" data-chapter="{escape(chapter.label)}"'
    if section:
        attributes += f' data-section="{escape(anchor)}"'
    attributes += line_attribute(line)
    if base_url:
        href = f"{base_url.rstrip('/')}/{chapter.stem}/" + (f"#{anchor}" if anchor else "")
        return f'<a {attributes} href="{escape(href)}">{text}</a>'
    return f"<span {attributes}>{text}</span>"


def render_recap(reference_html: str, body: str, title: str) -> str:
    """A 'From Book 1' admonition: the recap body, closed by the cross-reference to where Book 1 teaches it."""
    lines = [f'!!! book1-recap "From Book 1: {title.replace(chr(34), chr(39))}"', ""]
    lines += [f"    {line}" if line.strip() else "" for line in body.strip("\n").splitlines()]
    lines += ["", f'    <span class="recap-source">Read more in {reference_html}.</span>']
    return "\n" + "\n".join(lines) + "\n"


def macros(session) -> dict:
    def book1(chapter: int | str, section: str | None = None) -> str:
        return render_reference(session.book1, session.book1_url, chapter, section, call_line(session.page))

    def recap(chapter: int | str, section: str | None = None, title: str | None = None, caller=None) -> str:
        if caller is None:
            raise MacroError("recap() is a block: write {% call recap(5, \"Section\") %} ... {% endcall %}")
        found = session.book1.chapter(chapter)
        heading = title or section or found.title
        reference = book1(chapter, section)   # first: its data-line is the recap's, not a call in the body
        return render_recap(reference, caller(), heading)

    return {"book1": book1, "recap": recap}
