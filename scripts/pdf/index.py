"""The printed index: the Index page's locators become the pages their marks land on.

The web Index (macros/indexing.py) lists, for each entry, links labelled "Chapter 4: Section", each carrying in
`data-marks` every mark it stands for ("ix-3:ix-7" for a range). Which page a mark lands on is known only once the
book is laid out, so the PDF is made in two passes (scripts/pdf/render.py): the book is laid out with an empty Index
(the Index is the last section, so nothing before it moves), the pages of every anchor are read, and the Index alone
is then laid out with those page numbers and put in place of the empty one. Here: the folios, and the rewriting.
"""
from dataclasses import dataclass

from lxml.html import HtmlElement
from lxml.html import builder as E

from .document import BODY_START_PAGE, ROMAN_PAGES

EN_DASH = "\u2013"


@dataclass(frozen=True)
class Folio:
    """The number a page prints: lower-roman in the front matter (counted from the cover), arabic from the first
    body page on (print.css's rule; the PDF's page labels follow it too)."""
    number: int
    roman: bool

    @property
    def label(self) -> str:
        return roman(self.number) if self.roman else str(self.number)


def page_folios(pages) -> list[Folio]:
    """The folio of each laid-out WeasyPrint page, from the @page names print.css gives them."""
    folios: list[Folio] = []
    roman_now: bool | None = None
    base = -1
    for index, page in enumerate(pages):
        page_type = page._page_box.page_type   # WeasyPrint has no public accessor for a page's @page name
        wanted = page_type.name in ROMAN_PAGES
        if page_type.blank and roman_now is not None:
            wanted = roman_now   # a blank page left to start the next part on the right counts on with its neighbours
        if page_type.name == BODY_START_PAGE:
            wanted, base = False, index - 1
        elif wanted != roman_now:
            base = -1
        roman_now = wanted
        folios.append(Folio(index - base, wanted))
    return folios


def anchor_pages(pages) -> dict[str, int]:
    """{anchor: index of the page it is on} for a laid-out document."""
    return {anchor: index for index, page in enumerate(pages) for anchor in page.anchors}


@dataclass(frozen=True)
class PageSpan:
    first: int          # page indexes in the laid-out document
    last: int
    href: str           # the first mark's anchor, "#one--ix-3"
    definition: bool


def print_locators(index: HtmlElement, pages: dict[str, int], folios: list[Folio]) -> list[str]:
    """Replace each entry's locator links with its pages ("12, 15–17, **31**"), consecutive pages collapsed into
    one range; return the marks that landed on no page (a problem for the build to report)."""
    for jump in index.cssselect("nav.index-jump"):
        jump.drop_tree()
    missing: list[str] = []
    for locators in index.cssselect("span.index-locators"):
        spans = [span for link in locators.cssselect("a.index-locator")
                 for span in _spans(link, pages, missing)]
        for child in list(locators):
            locators.remove(child)
        locators.text = ", "
        _write_spans(locators, _merged(spans, folios), folios)
    return missing


def _spans(link: HtmlElement, pages: dict[str, int], missing: list[str]) -> list[PageSpan]:
    prefix = link.get("href", "#").lstrip("#").split("--")[0]
    definition = "index-locator--definition" in link.get("class", "")
    spans = []
    for mark in link.get("data-marks", "").split():
        start, _, end = mark.partition(":")
        first, last = pages.get(f"{prefix}--{start}"), pages.get(f"{prefix}--{end or start}")
        if first is None or last is None:
            missing.append(f"{prefix}--{start}")
            continue
        spans.append(PageSpan(first, max(first, last), f"#{prefix}--{start}", definition))
    return spans


def _merged(spans: list[PageSpan], folios: list[Folio]) -> list[PageSpan]:
    """Spans in page order, those that touch or overlap joined: 12, 13 and 13-14 print as 12-14. A definition keeps
    its own locator, so its bold page stays apart; front matter (roman) pages are never joined to body pages."""
    merged: list[PageSpan] = []
    for span in sorted(spans, key=lambda s: (s.first, s.last, not s.definition)):
        previous = merged[-1] if merged else None
        if (previous is not None and not span.definition and not previous.definition
                and span.first <= previous.last + 1 and folios[span.first].roman == folios[previous.last].roman):
            merged[-1] = PageSpan(previous.first, max(previous.last, span.last), previous.href, False)
        elif previous is not None and (span.first, span.last) == (previous.first, previous.last):
            if span.definition and not previous.definition:
                merged[-1] = span     # one page, marked twice: the definition wins
        else:
            merged.append(span)
    return merged


def _write_spans(locators: HtmlElement, spans: list[PageSpan], folios: list[Folio]) -> None:
    for number, span in enumerate(spans):
        label = folios[span.first].label
        if span.last != span.first:
            label += EN_DASH + folios[span.last].label
        link = E.A(E.STRONG(label) if span.definition else label, href=span.href)
        link.set("class", "index-page")
        link.set("data-internal", "")
        if number:
            link.tail = None
            locators[-1].tail = ", "
        locators.append(link)


def roman(number: int) -> str:
    numerals = (("m", 1000), ("cm", 900), ("d", 500), ("cd", 400), ("c", 100), ("xc", 90), ("l", 50), ("xl", 40),
                ("x", 10), ("ix", 9), ("v", 5), ("iv", 4), ("i", 1))
    out = []
    for numeral, value in numerals:
        while number >= value:
            out.append(numeral)
            number -= value
    return "".join(out)
