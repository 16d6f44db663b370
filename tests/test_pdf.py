"""The PDF edition: checked by reading the produced file back, as a reader's PDF viewer would."""
import dataclasses
import io
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from pypdf import PdfReader

from bookbuild import REAL_BOOK, build_book, write_book
from scripts.pdf.render import SiteOnlyFetcher, render_pdf
from scripts.pdf.document import BookMeta, PrintError, wrap_code
from weasyprint.urls import FatalURLFetchingError

SCENARIO = "pdf"   # tests/books/pdf/docs: two chapters with a term, a figure, a footnote, internal and external links
META = BookMeta("Title", "Subtitle", "Author", "A companion", "(c)", "0.1.0", "2026-01-01", "About", "kw")


def pdf_text(path: Path, first=None, last=None) -> str:
    args = ["pdftotext", "-layout"] + (["-f", str(first), "-l", str(last)] if first else []) + [str(path), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    built = build_book(write_book(tmp_path_factory.mktemp("pdf") / "book", scenario=SCENARIO), pdf=True)
    assert built.ok, built.log
    return built


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


def test_pdf_has_a_bookmark_per_chapter_and_metadata(small_book):
    reader = PdfReader(small_book.pdf)
    bookmarks = outline_pages(reader)
    assert {"First Chapter", "Second Chapter", "Foundations", "Contents", "Glossary", "Works Cited"} <= set(bookmarks)
    meta = reader.metadata
    assert meta.title.startswith("Productionizing ML Inference APIs: A Serving Engineer")
    assert meta.author == "Steve Jackson" and meta.subject and meta.get("/Keywords")
    assert reader.trailer["/Root"].get("/Lang") == "en"
    assert "/StructTreeRoot" in reader.trailer["/Root"]   # tagged (PDF/UA)


def test_contents_page_numbers_match_where_chapters_start(small_book):
    reader = PdfReader(small_book.pdf)
    pages = outline_pages(reader)
    first_body = pages["Foundations"]          # the Part I divider is printed page 1
    contents = pdf_text(small_book.pdf, pages["Contents"] + 1, pages["Contents"] + 1)
    for title in ("First Chapter", "Second Chapter", "Glossary"):
        printed = int(re.search(rf"{title}[ .]+(\d+)", contents).group(1))
        assert printed == pages[title] - first_body + 1, title


def test_links_resolve_inside_the_document_and_none_leave_it_unsafely(small_book):
    reader = PdfReader(small_book.pdf)
    internal, external = 0, []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if action.get("/S") == "/URI":
                external.append(action["/URI"])
            elif annotation.get_object().get("/Dest") is not None or action.get("/S") == "/GoTo":
                internal += 1
    assert internal >= 4
    assert "https://example.com/page" in external
    assert not [u for u in external if u.startswith("file:") or "localhost" in u or "127.0.0.1" in u]


def test_print_shows_page_references_footnotes_and_link_addresses(small_book):
    text = " ".join(pdf_text(small_book.pdf).split())
    assert re.search(r"Figure 1\.1, page \d+", text)
    assert re.search(r"the second, page \d+", text)
    assert "https://example.com/page" in text          # the external address, printed as a footnote
    assert "A footnote." in text


def test_fonts_are_the_vendored_faces_embedded_and_subset(small_book):
    fonts = subprocess.run(["pdffonts", str(small_book.pdf)], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert any("Source-Serif-4" in row for row in rows) and any("Source-Sans-3" in row for row in rows)
    for row in rows:
        columns = row.split()
        assert columns[-5] == "yes" and columns[-4] == "yes", row   # emb, sub


def test_long_table_and_long_code_lose_nothing(book):
    rows = "\n".join(f"| row {i} | {'cell ' * 6} |" for i in range(1, 121))
    code = "\n".join(f"line {i} " + "x" * (130 if i == 7 else 10) + (" END-OF-LONG-LINE" if i == 7 else "")
                     for i in range(1, 201))
    page = f"# Long\n\n| name | value |\n|---|---|\n{rows}\n| LAST-ROW | end |\n\n```text\n{code}\n```\n"
    built = book({"index.md": "# Home\n", "one.md": page, "two.md": "# Two\n"}, pdf=True)
    assert built.ok, built.log
    text = pdf_text(built.pdf)
    assert "LAST-ROW" in text and "line 200" in text
    assert "\u21aa" in text                                   # the continuation mark
    assert "END-OF-LONG-LINE" in re.sub(r"\s*\u21aa\s*", "", text)   # and nothing lost at the wrap
    assert len(re.findall(r"\bname\s+value\b", text)) >= 3   # the header row repeats on each page


def test_wrap_code_marks_continuations():
    from lxml.html import fragment_fromstring
    code = fragment_fromstring('<code><span class="n">' + "a" * 25 + "</span>\nshort</code>")
    wrap_code(code, 10)
    assert code.text_content() == "a" * 10 + "\n\u21aa " + "a" * 8 + "\n\u21aa " + "a" * 7 + "\nshort"


@pytest.mark.parametrize("address", ["file:///etc/passwd", "https://example.com/x.png", "http://127.0.0.1/x"])
def test_fetcher_refuses_everything_outside_the_site(tmp_path, address):
    with pytest.raises(FatalURLFetchingError, match="refused"):
        SiteOnlyFetcher(tmp_path).fetch(address)


def test_fetcher_serves_files_inside_the_site(tmp_path):
    (tmp_path / "a.css").write_text("p {}")
    assert SiteOnlyFetcher(tmp_path).fetch((tmp_path / "a.css").as_uri()).read() == b"p {}"
    with pytest.raises(FatalURLFetchingError):
        SiteOnlyFetcher(tmp_path / "sub").fetch((tmp_path / "a.css").as_uri())


@pytest.mark.parametrize("src", ["file:///etc/passwd", "../../../etc/passwd", "https://example.com/x.png"])
def test_image_outside_the_site_fails_the_build_naming_page_and_address(book, src):
    page = f'# One\n\n<img src="{src}" alt="x">\n'
    built = book({"index.md": "# Home\n", "one.md": page, "two.md": "# Two\n"}, pdf=True)
    assert not built.ok
    if "://" in src:   # a file: or remote address never reaches the PDF: the site's output policy refuses it
        assert "docs/one.md:3: " in built.log and src in built.log
    else:
        assert "The downloadable editions were not written" in built.log
        assert "one/" in built.log and src in built.log


def test_failed_render_leaves_the_previous_pdf_untouched(small_book, tmp_path):
    """The render fails while the PDF is being written (the file size limit cuts the write short, as a full disk
    would): a writer that truncated the destination first would lose the previous PDF."""
    output = tmp_path / "book.pdf"
    output.write_bytes(b"previous good PDF")
    script = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        import scripts.pdf.render
        from scripts.pdf.document import BookMeta
        render = scripts.pdf.render._weasyprint

        def render_then_limit_file_size(*args):
            rendered = render(*args)   # WeasyPrint's own temporary font files are written by now
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
            return rendered
        scripts.pdf.render._weasyprint = render_then_limit_file_size
        scripts.pdf.render.render_pdf(Path({str(small_book.site)!r}), Path({str(output)!r}), BookMeta(*{dataclasses.astuple(META)!r}))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode != 0 and "cannot write" in result.stderr, result.stderr
    assert output.read_bytes() == b"previous good PDF"
    assert [p.name for p in tmp_path.iterdir()] == ["book.pdf"]


def test_unchanged_content_reuses_the_previous_render(small_book, tmp_path):
    first = render_pdf(small_book.site, tmp_path / "a.pdf", META, cache_dir=tmp_path / "cache")
    second = render_pdf(small_book.site, tmp_path / "b.pdf", META, cache_dir=tmp_path / "cache")
    assert (first, second) == (True, False)
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()


def test_two_builds_are_byte_identical_with_source_date_epoch(tmp_path):
    outputs = []
    for name in ("a", "b"):
        built = build_book(write_book(tmp_path / name, scenario=SCENARIO), pdf=True,
                           env={"SOURCE_DATE_EPOCH": "1767225600"})
        assert built.ok, built.log
        outputs.append(built.pdf.read_bytes())
    assert outputs[0] == outputs[1]
    assert PdfReader(io.BytesIO(outputs[0])).metadata.creation_date.date().isoformat() == "2026-01-01"


def test_real_book_pdf_has_every_chapter_bookmarked_and_its_contents_right(real_site):
    import json
    pdf = real_site / "downloads" / REAL_BOOK.pdf_name
    reader = PdfReader(pdf)
    pages = outline_pages(reader)
    chapters = [c for c in json.loads((real_site / "xref.json").read_text())["chapters"] if c["url"]]
    assert {c["title"] for c in chapters} <= set(pages)
    parts = [c["part"] for c in chapters if c["part"]]
    numbered = [c for c in chapters if c["number"]]
    assert parts and numbered, "the real book has no Part with numbered chapters: nothing here would be checked"
    body_start = pages[parts[0].partition(":")[2].strip()]   # the first part divider is printed page 1
    contents = " ".join(pdf_text(pdf, pages["Contents"] + 1, body_start).split())   # every page of the contents
    for chapter in numbered:
        entry = re.search(rf"{re.escape(chapter['title'])}[ .]+(\d+)", contents)
        assert entry, f"{chapter['title']} is not in the printed contents"
        assert int(entry.group(1)) == pages[chapter["title"]] - body_start + 1, chapter["title"]


def structure_elements(reader: PdfReader, kind: str) -> list:
    """Every element of the PDF's tag tree of one kind (e.g. /Figure), as dictionaries."""
    found, stack = [], [reader.trailer["/Root"]["/StructTreeRoot"]]
    while stack:
        node = stack.pop()
        node = node.get_object() if hasattr(node, "get_object") else node
        if isinstance(node, list):
            stack.extend(node)
        elif hasattr(node, "get"):
            if node.get("/S") == kind:
                found.append(node)
            kids = node.get("/K")
            if kids is not None:
                stack.append(kids)
    return found


def test_figures_carry_their_alt_text_in_the_tagged_pdf(small_book):
    figures = structure_elements(PdfReader(small_book.pdf), "/Figure")
    assert any(figure.get("/Alt") == "Icon" for figure in figures)


def test_trim_size_is_configurable(tmp_path):
    built = build_book(write_book(tmp_path / "a4", scenario=SCENARIO), pdf=True, env={"BOOK_PAGE_SIZE": "A4"})
    assert built.ok, built.log
    box = PdfReader(built.pdf).pages[5].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
