"""What may come out of a chapter: the book's URL and raw-HTML policy, in one place (ARCHITECTURE.md: chapters
are untrusted input). The site hook checks every page's HTML with it; the EPUB checks its links and the SVG files
it packs with it, so a file that reaches neither edition unchecked cannot make either unsafe or invalid.

The policy:
- URLs: only http, https, mailto and relative URLs, in every attribute that holds one (href, src, srcset,
  xlink:href, action, formaction, poster, data, cite...) and in CSS url() in style attributes and <style>.
- Nothing runs: no <script>, <iframe>, <frame>, <object>, <embed>, <applet>, <base>, <link>, <meta>, no <form>
  with an action, no event-handler attribute (on...).
- Nothing is fetched from another host: no remote src, srcset, poster or data, no remote url() in CSS.
- SVG (inline, or a .svg file a page uses) is well-formed XML, runs nothing (no <script>, <foreignObject>, on...,
  javascript: links) and is self-contained: its href and xlink:href point only inside the drawing (#id).

Each check returns Problems; the caller adds where (file and line) and fails the build.
"""
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

SAFE_SCHEMES = {"http", "https", "mailto"}
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Attributes whose value is a URL (or, for srcset, a list of them).
URL_ATTRIBUTES = {"href", "src", "srcset", "xlink:href", XLINK_HREF, "action", "formaction", "poster", "data",
                  "cite", "background", "longdesc", "manifest", "ping", "itemtype"}
# Attributes that make the reader's browser fetch something as soon as the page is shown.
FETCHING_ATTRIBUTES = {"src", "srcset", "poster", "data", "background"}
FORBIDDEN_ELEMENTS = {
    "script": "it would run code in the reader's browser",
    "iframe": "it would embed another site", "frame": "it would embed another site",
    "frameset": "it would embed another site",
    "object": "it would embed a plugin or another document", "embed": "it would embed a plugin",
    "applet": "it would run a plugin",
    "base": "it would change where every link of the page points",
    "link": "it would load a resource into the page", "meta": "it could redirect or refresh the page",
}
SVG_FORBIDDEN = {"script": "it would run code", "foreignobject": "it embeds HTML inside the drawing"}
SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
# Browsers drop these anywhere in a URL before reading its scheme: "java\tscript:" is "javascript:".
IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")
CSS_ESCAPE = re.compile(r"\\([0-9a-fA-F]{1,6})\s?|\\(.)")
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)|@import\s+(['\"])(.*?)\3", re.I | re.S)


@dataclass(frozen=True)
class Problem:
    message: str        # what is wrong and what is allowed instead
    needle: str         # text to look for in the page's source to find the line


# ── URLs ────────────────────────────────────────────────────────────────────────────────────────────────────────

def scheme_of(url: str) -> str:
    """The URL's scheme as a browser reads it ("" for a relative URL)."""
    match = SCHEME.match(IGNORED_IN_URL.sub("", url).lower())
    return match[1] if match else ""


def is_safe_url(url: str) -> bool:
    return scheme_of(url) in SAFE_SCHEMES | {""}


def is_remote(url: str) -> bool:
    """Whether following the URL leaves the book: any scheme, or a scheme-relative "//host/..."."""
    return bool(scheme_of(url)) or IGNORED_IN_URL.sub("", url).startswith(("//", "\\\\", "/\\", "\\/"))


def srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset ("a.png 1x, b.png 2x")."""
    return [candidate.split()[0] for candidate in value.split(",") if candidate.split()]


def css_urls(css: str) -> list[str]:
    """Every address CSS text refers to (url() and @import), with CSS escapes decoded so none can hide."""
    decoded = CSS_ESCAPE.sub(lambda m: chr(int(m[1], 16)) if m[1] else m[2], css)
    return [m[2] if m[2] is not None else m[4] for m in CSS_URL.finditer(decoded)]


def url_problems(attribute: str, value: str) -> list[Problem]:
    urls = srcset_urls(value) if attribute == "srcset" else [value]
    problems = []
    for url in urls:
        if not is_safe_url(url):
            problems.append(Problem(f"unsafe URL {_short(url)!r} in {attribute}: only http, https, mailto and "
                                    "relative URLs may appear in the book", url))
        elif attribute in FETCHING_ATTRIBUTES and is_remote(url):
            problems.append(Problem(f"remote {attribute} {_short(url)!r}: the book loads nothing from another host; "
                                    "put the file under the chapters folder and use a relative path", url))
    return problems


def css_problems(css: str, where: str) -> list[Problem]:
    problems = []
    for url in css_urls(css):
        if not is_safe_url(url):
            problems.append(Problem(f"unsafe URL {_short(url)!r} in {where}: only http, https, mailto and relative "
                                    "URLs may appear in the book", url))
        elif is_remote(url):
            problems.append(Problem(f"remote url({_short(url)!r}) in {where}: the book loads nothing from another "
                                    "host", url))
    if re.search(r"expression\s*\(|javascript:", CSS_ESCAPE.sub(lambda m: m[2] or chr(int(m[1], 16)), css), re.I):
        problems.append(Problem(f"script in {where}: CSS may not run code", css.strip()[:40]))
    return problems


# ── HTML ────────────────────────────────────────────────────────────────────────────────────────────────────────

def html_problems(root) -> list[Problem]:
    """Everything in a page's HTML (an lxml element, parsed as HTML) that the policy forbids."""
    problems = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue   # comments and processing instructions are not rendered
        tag = _local(element.tag).lower()
        if tag == "svg":
            problems += svg_problems(element)
            continue
        if _inside_svg(element):
            continue   # checked with its <svg>
        if tag in FORBIDDEN_ELEMENTS:
            problems.append(Problem(f"<{tag}> is not allowed in a chapter: {FORBIDDEN_ELEMENTS[tag]}", f"<{tag}"))
        if tag == "form" and element.get("action") is not None:
            problems.append(Problem("<form action=...> is not allowed in a chapter: it would send the reader's "
                                    "input elsewhere", "<form"))
        if tag == "style":
            problems += css_problems(element.text or "", "<style>")
        problems += _attribute_problems(element)
    return problems


def _attribute_problems(element) -> list[Problem]:
    problems = []
    for name, value in element.attrib.items():
        attribute = name.lower()
        if attribute.startswith("on"):
            problems.append(Problem(f"event-handler attribute {attribute}=... is not allowed: it would run code in "
                                    "the reader's browser", f"{name}="))
        elif attribute == "style":
            problems += css_problems(value, "a style attribute")
        elif attribute in URL_ATTRIBUTES:
            problems += url_problems(attribute, value)
    return problems


# ── SVG ─────────────────────────────────────────────────────────────────────────────────────────────────────────

def svg_problems(svg) -> list[Problem]:
    """An SVG drawing (an element, from an HTML page or an .svg file) that runs nothing and fetches nothing."""
    problems = []
    for element in svg.iter():
        if not isinstance(element.tag, str):
            continue
        tag = _local(element.tag).lower()
        if tag in SVG_FORBIDDEN:
            problems.append(Problem(f"<{_local(element.tag)}> is not allowed in an SVG: {SVG_FORBIDDEN[tag]}",
                                    f"<{_local(element.tag)}"))
        if tag == "style":
            problems += css_problems(element.text or "", "an SVG <style>")
        for name, value in element.attrib.items():
            attribute = _attribute_name(name)
            if attribute.startswith("on"):
                problems.append(Problem(f"event-handler attribute {attribute}=... is not allowed in an SVG",
                                        f"{_local(name)}="))
            elif attribute == "style":
                problems += css_problems(value, "an SVG style attribute")
            elif attribute in ("href", "xlink:href") and not value.strip().startswith("#"):
                problems.append(Problem(f"{attribute}={_short(value)!r} in an SVG: a drawing must be "
                                        "self-contained, referring only to its own parts (#id)", value))
    return problems


def svg_file_problems(path: Path) -> list[Problem]:
    """An .svg file: well-formed XML without entity tricks, then the SVG rules."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.parse(str(path), parser)
    except etree.XMLSyntaxError as error:
        return [Problem(f"not well-formed XML ({error.msg}): an SVG must parse as XML", path.name)]
    if tree.docinfo.internalDTD is not None and any(True for _ in tree.docinfo.internalDTD.iterentities()):
        return [Problem("declares XML entities: an SVG may not", path.name)]
    return svg_problems(tree.getroot())


def _inside_svg(element) -> bool:
    return any(_local(a.tag).lower() == "svg" for a in element.iterancestors() if isinstance(a.tag, str))


def _local(name: str) -> str:
    return etree.QName(name).localname if name.startswith("{") else name


def _attribute_name(name: str) -> str:
    """"xlink:href" for both the namespaced attribute (XML) and the literal name (HTML parser); lowercase."""
    return "xlink:href" if name == XLINK_HREF else _local(name).lower() if name.startswith("{") else name.lower()


def _short(url: str, limit: int = 60) -> str:
    return url if len(url) <= limit else url[:limit - 1] + "\u2026"
