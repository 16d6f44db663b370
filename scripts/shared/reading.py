"""What a reader reads of a page, from its built HTML: the prose words and the minutes they take.

One definition for the site's "N min read" (scripts/web/site.py, over the page content as MkDocs renders it) and
for `book stats` and `book check` (scripts/authoring, over the article of a built page), so the numbers agree.
"""
import copy
import math
import re
from pathlib import Path

from lxml import html as lxml_html
from lxml.html import HtmlElement

WORDS_PER_MINUTE = 230          # an estimate for reading prose; not a measurement
WORD = re.compile(r"[A-Za-z0-9][\w'’.-]*")
# The theme's additions around a page's content inside <article>: the eyebrow, edit buttons, the last-updated aside.
THEME_CHROME = (".chapter-eyebrow", ".md-content__button", ".md-source-file", ".md-feedback", "script", "form")
# What the macros generate rather than the author writes: the chapter's reference list (macros/citations.py).
GENERATED = ("h2#references", "ol.references")
# Not read as prose: code (samples and pseudocode), heading permalinks (¶).
NOT_PROSE = ("pre", "code", ".headerlink", *GENERATED)


def page_article(path: Path) -> HtmlElement:
    """The content of a built page: its <article>, without the theme's additions around the page's own HTML."""
    article = lxml_html.parse(str(path)).getroot().cssselect("article.md-content__inner")[0]
    drop(article, THEME_CHROME)
    return article


def page_file(site_dir: Path, url: str) -> Path:
    """The built file of a page from its site URL ("01-x/" is 01-x/index.html; "" is the landing page)."""
    return Path(site_dir) / (url + "index.html" if url.endswith("/") or not url else url)


def content_element(content_html: str) -> HtmlElement:
    """A page's content HTML (as MkDocs' on_page_content sees it) as one element, like page_article's."""
    return lxml_html.fragment_fromstring(content_html or "<p></p>", create_parent="article")


def prose_text(article: HtmlElement) -> str:
    """The text a reader reads as prose: code, permalinks and the generated reference list left out."""
    prose = copy.deepcopy(article)
    drop(prose, NOT_PROSE)
    return prose.text_content()


def prose_words(article: HtmlElement) -> int:
    return len(WORD.findall(prose_text(article)))


def minutes_for(words: int) -> int:
    """Whole minutes to read so many words at WORDS_PER_MINUTE, at least one."""
    return max(1, math.ceil(words / WORDS_PER_MINUTE))


def reading_minutes(content_html: str) -> int:
    """Minutes to read a page, from its content HTML: what the site shows and `book stats` reports."""
    return minutes_for(prose_words(content_element(content_html)))


def drop(root: HtmlElement, selectors: tuple[str, ...]) -> None:
    """Remove the elements matching any selector, keeping the text that follows each (lxml's tail)."""
    for selector in selectors:
        for element in root.cssselect(selector):
            element.drop_tree()
