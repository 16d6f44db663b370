"""Reading and writing the built HTML with lxml, in one place for the site's page pass and the EPUB.

lxml's HTML parser lower-cases every tag and attribute name. HTML does not care, but inline SVG does: written back as
"viewbox" or "lineargradient" it relies on the browser's parser to restore the case, and as XHTML (the EPUB) it is
simply wrong. SVG_NAMES gives back the names as SVG spells them.
"""
from lxml import etree
from lxml.html import HtmlElement

SVG_NAMES = {name.lower(): name for name in (
    "viewBox", "preserveAspectRatio", "linearGradient", "radialGradient", "clipPath", "textPath", "gradientUnits",
    "gradientTransform", "patternUnits", "patternTransform", "markerWidth", "markerHeight", "markerUnits", "refX",
    "refY", "stdDeviation", "feGaussianBlur", "feOffset", "feBlend", "feColorMatrix", "feMerge", "feMergeNode",
    "textLength", "lengthAdjust", "clipPathUnits", "maskUnits", "maskContentUnits", "pathLength", "startOffset",
    "foreignObject", "feDropShadow", "feFlood", "feComposite", "animateTransform", "spreadMethod")}


def restore_svg_case(root: HtmlElement) -> None:
    """Give the tags and attributes of every inline SVG in an lxml.html tree their SVG spelling."""
    for svg in root.iter("svg"):
        for element in svg.iter():
            if not isinstance(element.tag, str):
                continue
            element.tag = SVG_NAMES.get(element.tag, element.tag)
            for name in [n for n in element.attrib if n in SVG_NAMES]:
                element.attrib[SVG_NAMES[name]] = element.attrib.pop(name)


def page_html(document: HtmlElement) -> str:
    """A whole page (as parsed by lxml.html.document_fromstring) back to HTML text, with its doctype."""
    restore_svg_case(document)
    doctype = document.getroottree().docinfo.doctype or "<!DOCTYPE html>"
    return etree.tostring(document, encoding="unicode", method="html", doctype=doctype) + "\n"
