"""The print edition loses nothing silently: figures, warnings, footnote links, long words, glyphs, page labels,
layout, and a one-chapter proof for authors. Each test reads the produced PDF back."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from bookbuild import REAL_BOOK, build_book, write_book

BOOK = str(Path(sys.executable).parent / "book")
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60" viewBox="0 0 300 60">'
       '<rect width="300" height="60" fill="#ddd"/><text x="10" y="35" font-size="20">{label}</text></svg>')
CHAPTER = "# {title}\n\n## What you will learn\n\n{body}\n"


def pdf_text(path: Path, first=None, last=None, layout=True) -> str:
    args = ["pdftotext"] + (["-layout"] if layout else []) + (["-f", str(first), "-l", str(last)] if first else [])
    return subprocess.run(args + [str(path), "-"], capture_output=True, text=True, check=True).stdout


def word_boxes(path: Path) -> list:
    """Each page of the PDF as poppler's -bbox output: <page width height> holding <word xMin yMin xMax yMax>."""
    bbox = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return list(etree.fromstring(bbox.encode(), etree.XMLParser(recover=True)).iter("{*}page"))


def outline_pages(reader: PdfReader) -> dict:
    found = {}

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                found[item.title] = reader.get_destination_page_number(item)
    walk(reader.outline)
    return found


def pages(one: str, two: str = "Second chapter text.") -> dict:
    return {"index.md": "# Home\n", "one.md": CHAPTER.format(title="First Chapter", body=one),
            "two.md": CHAPTER.format(title="Second Chapter", body=two)}


# ── 4. the render cache sees every file the PDF embeds ───────────────────────
@pytest.mark.parametrize("figure", ["figures/plot.svg", "images/photo.jpeg"])
def test_a_changed_figure_changes_the_pdf(tmp_path, figure):
    root = write_book(tmp_path / "book", pages(f"![A figure]({figure})\n"))
    path = root / "docs" / figure
    path.parent.mkdir(parents=True, exist_ok=True)

    def draw(label: str, colour: str) -> None:
        if path.suffix == ".svg":
            path.write_text(SVG.format(label=label))
        else:
            Image.new("RGB", (40, 20), colour).save(path, "JPEG")
    draw("OLD-LABEL", "red")
    first = build_book(root, pdf=True)
    assert first.ok, first.log
    before = first.pdf.read_bytes()
    draw("NEW-LABEL", "blue")
    second = build_book(root, pdf=True)
    assert second.ok, second.log
    assert "Reused the unchanged PDF" not in second.log
    assert second.pdf.read_bytes() != before
    if path.suffix == ".svg":
        assert "NEW-LABEL" in pdf_text(second.pdf)


# ── 5. WeasyPrint's warnings fail the strict build, naming the page ──────────
def test_a_broken_anchor_in_raw_html_fails_the_build_naming_the_page(book):
    built = book(pages('<a href="#no-such-place">a raw link</a> to nowhere.\n'), pdf=True)
    assert not built.ok
    assert "one/: link to '#no-such-place': the page it points to has no anchor #no-such-place" in built.log, built.log


def test_an_unloadable_image_fails_the_build_naming_the_page_and_the_file(tmp_path):
    """A truncated PNG passes the site's checks (they parse SVG only) and only WeasyPrint finds it cannot load it;
    a truncated SVG never gets this far: the site's output policy refuses it with file:line."""
    root = write_book(tmp_path / "book", pages('<img src="../figures/cut.png" alt="A cut figure">\n'))
    (root / "docs" / "figures").mkdir()
    (root / "docs" / "figures" / "cut.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 5)
    built = build_book(root, pdf=True)
    assert not built.ok
    assert re.search(r"PDF \(one/\): .*figures/cut\.png", built.log), built.log


def test_a_truncated_svg_is_refused_before_print_naming_file_and_line(tmp_path):
    root = write_book(tmp_path / "book", pages('<img src="../figures/cut.svg" alt="A cut figure">\n'))
    (root / "docs" / "figures").mkdir()
    (root / "docs" / "figures" / "cut.svg").write_text(SVG.format(label="CUT")[:70])
    built = build_book(root, pdf=True)
    assert not built.ok
    assert "docs/one.md:5: cut.svg: not well-formed XML" in built.log, built.log


def test_a_character_no_font_has_fails_the_build_naming_the_page_and_the_character(book):
    built = book(pages("The sign \u6f22 is not in the book's fonts.\n"), pdf=True)
    assert not built.ok
    assert "PDF (one/): no font of the book has '\u6f22' (U+6F22)" in built.log


# ── 5. footnotes keep their links; long words break inside the text block ────
@pytest.fixture(scope="module")
def footnote_book(tmp_path_factory):
    long_code = "`" + "a_very_long_identifier_" * 8 + "`"
    long_url = "<https://example.com/" + "a-very-long-path-segment/" * 6 + ">"
    body = (f"A note.[^1]\n\n[^1]: See [the specification](https://example.com/spec) for more.\n\n"
            f"Inline code {long_code} and an address {long_url} in the text.\n")
    filler = "\n\n".join(["Text that runs the second chapter over several pages, with running heads. " * 12] * 14)
    built = build_book(write_book(tmp_path_factory.mktemp("print") / "book", pages(body, filler)), pdf=True)
    assert built.ok, built.log
    return built


def test_a_link_in_a_footnote_keeps_its_address_and_prints_it(footnote_book):
    uris = [annotation.get_object()["/A"]["/URI"] for page in PdfReader(footnote_book.pdf).pages
            for annotation in page.get("/Annots") or [] if "/A" in annotation.get_object()
            and annotation.get_object()["/A"].get("/S") == "/URI"]
    assert "https://example.com/spec" in uris
    text = " ".join(pdf_text(footnote_book.pdf).split())
    assert re.search(r"See the specification <https://example\.com/spec> for more", text), text


def test_long_inline_code_and_addresses_stay_inside_the_text_block(footnote_book):
    """No word on any page reaches past the text block's outer edge (pdftotext -bbox gives each word's box)."""
    right_margin = 54   # print_book.MARGINS' smaller side margin, in points
    overflowing = []
    for page in word_boxes(footnote_book.pdf)[1:]:   # after the cover, which is set edge to edge
        edge = float(page.get("width")) - right_margin + 1
        overflowing += [word.text for word in page.iter("{*}word") if float(word.get("xMax")) > edge]
    assert not overflowing, overflowing


# ── 6. page labels follow the printed folios ─────────────────────────────────
def test_page_labels_are_roman_in_the_front_matter_and_arabic_from_part_one(footnote_book):
    reader = PdfReader(footnote_book.pdf)
    labels, where = reader.page_labels, outline_pages(reader)
    contents = pdf_text(footnote_book.pdf, where["Contents"] + 1, where["Contents"] + 1)
    assert labels[0] == "i" and labels[where["Contents"]] == contents.split()[-1] == "v"   # its printed folio
    assert labels[where["Foundations"]] == "1"
    for title in ("First Chapter", "Second Chapter", "Glossary"):
        printed = re.search(rf"{title}[ .]+(\d+)", contents).group(1)
        assert labels[where[title]] == printed, title
    checked = 0
    for index, page in enumerate(word_boxes(footnote_book.pdf)):   # every running head's folio
        folios = [word.text for word in page.iter("{*}word") if float(word.get("yMax")) < 54 and word.text.isdigit()]
        if index >= where["Foundations"] and folios:
            assert folios == [labels[index]], index
            checked += 1
    assert checked >= 2


# ── 7. layout: recap titles keep with their text, the cover line unbroken ────
def test_a_recap_title_never_ends_a_page(book):
    """Recaps after fillers of every length: one of them would land at a page foot; its title must move on."""
    blocks = []
    for n in range(1, 31):
        blocks.append(" ".join(["Filler words to push the recap down the page."] * n))
        blocks.append(f'!!! book1-recap "From Book 1: RECAP-{n}"\n\n    ' + "Recap body text. " * 25)
    built = book(pages("\n\n".join(blocks)), pdf=True)
    assert built.ok, built.log
    stranded = []
    for number in range(1, len(PdfReader(built.pdf).pages) + 1):
        lines = [line for line in pdf_text(built.pdf, number, number).splitlines() if line.strip()]
        if lines and "RECAP-" in lines[-1]:
            stranded.append(lines[-1].strip())
    assert not stranded, stranded


def test_the_cover_companion_line_is_not_hyphenated(footnote_book):
    cover = pdf_text(footnote_book.pdf, 1, 1)
    assert not re.search(r"[-\u2010]\s*$", cover, re.M), cover


def test_the_contents_does_not_end_on_a_near_empty_page(real_site):
    pdf = real_site / "downloads" / REAL_BOOK.pdf_name
    where = outline_pages(PdfReader(pdf))
    first = where["Contents"]
    following = min(page for page in where.values() if page > first)   # the next bookmark's page

    def entries(index: int) -> list[str]:
        return [line for line in pdf_text(pdf, index + 1, index + 1).splitlines()
                if re.search(r"\.\s*(\d+|[ivxl]+)\s*$", line)]
    pages = [index for index in range(first, following) if entries(index)]
    if len(pages) > 1:
        assert len(entries(pages[-1])) >= 5, pdf_text(pdf, pages[-1] + 1, pages[-1] + 1)


# ── 8. one chapter, as it prints, for proofing ───────────────────────────────
def test_book_pdf_chapter_proofs_one_chapter_with_its_running_heads(tmp_path):
    body = "\n\n".join(["Proof text that fills the page. " * 20] * 12)
    root = write_book(tmp_path / "book", pages("First chapter only.", body))
    result = subprocess.run([BOOK, "-f", str(root / "mkdocs.yml"), "pdf", "--chapter", "2"], cwd=root,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    proof = root / "build" / "proof" / "chapter-2.pdf"
    assert f"wrote {proof}" in result.stdout
    text = pdf_text(proof)
    assert "Second Chapter" in text and "First chapter only" not in text
    assert "Foundations" in text.split("Second Chapter", 1)[1]   # the part's running head on a later page
    missing = subprocess.run([BOOK, "-f", str(root / "mkdocs.yml"), "pdf", "--chapter", "9"], cwd=root,
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 1 and "there is no chapter 9" in missing.stderr
