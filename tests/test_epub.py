"""The EPUB edition, read back as an e-reader would: structure, links, metadata, footnotes, validity."""
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from ebooklib import epub
from lxml import etree

from bookbuild import DEFAULT_NAV, REAL_BOOK, ROOT, build_book, unavailable, write_book
from scripts.epub.writer import _refuse_collisions, _resource, render_epub
from scripts.shared import highlight
from scripts.pdf.document import BookMeta, PrintError

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
ACE = ROOT / "node_modules" / ".bin" / "ace-cli"
CHROMIUM = Path("/usr/bin/chromium")
META = BookMeta("T", "S", "A", "C", "(c)", "0", "2026-01-01", "D", "k")
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
SCENARIO = "epub"   # tests/books/epub/docs: a term, a citation, a footnote, a figure, links, epub:type look-alikes


@pytest.fixture(scope="module")
def small_epub(tmp_path_factory) -> Path:
    built = build_book(write_book(tmp_path_factory.mktemp("epub") / "book", scenario=SCENARIO), pdf=True)
    assert built.ok, built.log
    return built.epub


def package(path: Path):
    archive = zipfile.ZipFile(path)
    opf = etree.fromstring(archive.read("EPUB/content.opf"))
    return archive, opf


def xhtml_files(archive) -> dict:
    return {name: etree.fromstring(archive.read(name)) for name in archive.namelist() if name.endswith(".xhtml")}


def test_spine_follows_the_navigation(small_epub):
    archive, opf = package(small_epub)
    manifest = {item.get("id"): item.get("href") for item in opf.iterfind(".//opf:item", NS)}
    spine = [manifest[ref.get("idref")] for ref in opf.iterfind(".//opf:itemref", NS)]
    assert spine == ["cover.xhtml", "nav.xhtml", "part-i.xhtml", "one.xhtml", "two.xhtml", "glossary.xhtml",
                     "works-cited.xhtml"]
    nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    assert [a.get("href") for a in toc.iterfind(".//x:a", NS)] == spine[2:]
    assert nav.find(".//x:nav[@epub:type='landmarks']", NS) is not None


def test_contents_are_called_contents_and_the_package_has_a_language(small_epub):
    archive, opf = package(small_epub)
    nav = etree.fromstring(archive.read("EPUB/nav.xhtml"))
    toc = nav.find(".//x:nav[@epub:type='toc']", NS)
    assert toc.get("id") == "toc"
    assert toc.findtext("x:h2", namespaces=NS) == "Contents"
    assert opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert nav.find(".//x:nav[@epub:type='page-list']", NS) is None   # footnotes are not print pages


def test_epub_type_is_a_namespaced_attribute_and_text_is_left_alone(small_epub):
    archive, _ = package(small_epub)
    two = archive.read("EPUB/two.xhtml").decode()
    assert "An HTML attribute data-epub-type= is prose here." in two
    code = "".join(etree.fromstring(two.encode()).find(".//x:pre", NS).itertext())
    assert '<aside data-epub-type="footnote">kept as written</aside>' in code
    one = etree.fromstring(archive.read("EPUB/one.xhtml"))
    assert one.nsmap["epub"] == NS["epub"]
    assert one.find(".//x:a[@epub:type='noteref']", NS) is not None


def test_pages_whose_names_slug_alike_both_reach_the_epub(tmp_path):
    pages = {"index.md": "# Home\n", "a-b.md": "# Dash\n\nThe dash page.\n", "a/b.md": "# Slash\n\nThe slash page.\n",
             "nav.md": "# Navigation\n\nA chapter called nav.\n"}
    nav = [{"Home": "index.md"}, {"Part I: Foundations": ["a-b.md", "a/b.md", "nav.md"]}, DEFAULT_NAV[-1]]
    built = build_book(write_book(tmp_path / "book", pages, nav=nav))
    assert built.ok, built.log
    output = tmp_path / "book.epub"
    render_epub(built.site, output, META, datetime.now(timezone.utc))
    archive = zipfile.ZipFile(output)
    names = archive.namelist()
    assert len(names) == len(set(names))
    texts = {name: archive.read(name).decode() for name in names if name.endswith(".xhtml")}
    for title in ("The dash page.", "The slash page.", "A chapter called nav."):
        assert sum(title in text for text in texts.values()) == 1, title
    assert "Contents" in texts["EPUB/nav.xhtml"]
    report = epubcheck(output)
    assert "No errors or warnings detected" in report, report


def test_two_items_with_one_name_fail_instead_of_writing_a_broken_epub():
    book = epub.EpubBook()
    book.add_item(epub.EpubItem(uid="a", file_name="x.xhtml", content=b""))
    book.add_item(epub.EpubItem(uid="b", file_name="x.xhtml", content=b""))
    with pytest.raises(PrintError, match="two items share the file name 'x.xhtml'"):
        _refuse_collisions(book)


@pytest.mark.parametrize("suffix, media_type", [(".jpeg", "image/jpeg"), (".jpg", "image/jpeg"),
                                                (".gif", "image/gif"), (".webp", "image/webp"), (".PNG", "image/png")])
def test_images_get_their_media_type(tmp_path, suffix, media_type):
    (tmp_path / f"picture{suffix}").write_bytes(b"not really an image")
    assert _resource(tmp_path, f"picture{suffix}").media_type == media_type


def test_a_file_type_readers_need_not_support_is_refused(tmp_path):
    (tmp_path / "picture.bmp").write_bytes(b"BM")
    with pytest.raises(PrintError, match="picture.bmp: EPUB readers are not required to show .bmp files"):
        _resource(tmp_path, "picture.bmp")


def test_the_stylesheet_uses_the_book_palette(small_epub):
    css = zipfile.ZipFile(small_epub).read("EPUB/style.css").decode()
    assert highlight.css(".highlight", highlight.EPUB) in css
    assert "#959595" not in css


def test_every_internal_link_resolves_to_a_file_and_anchor(small_epub):
    archive, _ = package(small_epub)
    files = xhtml_files(archive)
    ids = {name: {e.get("id") for e in tree.iter() if e.get("id")} for name, tree in files.items()}
    checked = 0
    for name, tree in files.items():
        for link in tree.iterfind(".//x:a[@href]", NS):
            href = link.get("href")
            if re.match(r"[a-z]+:", href):
                continue
            file, _, anchor = href.partition("#")
            target = f"EPUB/{file}" if file else name
            assert target in files, f"{name}: {href}"
            assert not anchor or anchor in ids[target], f"{name}: {href}"
            checked += 1
    assert checked >= 5


def test_no_remote_resources(small_epub):
    archive, _ = package(small_epub)
    loaded = [(name, element.get("src") or element.get("href") or "") for name, tree in xhtml_files(archive).items()
              for element in tree.iter("{*}img", "{*}link", "{*}script", "{*}source")]
    assert any(address.endswith(".svg") for _, address in loaded), "the figure's image is not in the EPUB"
    remote = [f"{name}: {address}" for name, address in loaded if re.match(r"[a-z]+:|//", address)]
    assert not remote, remote
    css = archive.read("EPUB/style.css").decode()
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", css)
    assert "font/woff2" in archive.read("EPUB/content.opf").decode()


def test_metadata_includes_accessibility(small_epub):
    _, opf = package(small_epub)
    text = etree.tostring(opf, encoding="unicode")
    assert opf.findtext(".//dc:language", namespaces=NS) == "en"
    assert opf.findtext(".//dc:creator", namespaces=NS) == "Steve Jackson"
    assert opf.findtext(".//dc:identifier", namespaces=NS).startswith("urn:uuid:")
    assert 'property="title-type">subtitle<' in text
    for prop in ("accessMode", "accessModeSufficient", "accessibilityFeature", "accessibilityHazard",
                 "accessibilitySummary"):
        assert f'property="schema:{prop}"' in text
    assert re.search(r'property="dcterms:modified">\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ<', text)


def test_footnotes_are_epub_footnotes_and_figures_keep_alt_text(small_epub):
    archive, _ = package(small_epub)
    one = archive.read("EPUB/one.xhtml").decode()
    assert 'epub:type="noteref"' in one and 'epub:type="footnote"' in one
    assert re.search(r'<img[^>]*alt="Icon"', one)
    assert "glossary.xhtml#term-rtf" in one


def test_two_builds_are_byte_identical_with_source_date_epoch(tmp_path):
    outputs = []
    for name in ("a", "b"):
        built = build_book(write_book(tmp_path / name, scenario=SCENARIO), pdf=True,
                           env={"SOURCE_DATE_EPOCH": "1767225600"})
        assert built.ok, built.log
        outputs.append(built.epub.read_bytes())
    assert outputs[0] == outputs[1]
    assert b"2026-01-01T00:00:00Z" in zipfile.ZipFile(__import__("io").BytesIO(outputs[0])).read("EPUB/content.opf")


def test_failed_epub_leaves_the_previous_file(small_epub, tmp_path):
    """The write itself fails (a file size limit cuts it short, as a full disk would): a writer that truncated the
    destination first would lose the previous EPUB, and a writer that left its temporary file would publish it."""
    output = tmp_path / "book.epub"
    output.write_bytes(b"previous good EPUB")
    script = textwrap.dedent(f"""
        import resource, signal
        from datetime import datetime, timezone
        from pathlib import Path
        import scripts.epub.writer
        from scripts.pdf.document import BookMeta
        write = scripts.epub.writer.atomic_write

        def write_with_a_file_size_limit(*args):
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
            return write(*args)
        scripts.epub.writer.atomic_write = write_with_a_file_size_limit
        meta = BookMeta("T", "S", "A", "C", "(c)", "0", "2026-01-01", "D", "k")
        scripts.epub.writer.render_epub(Path({str(small_epub.parent.parent)!r}), Path({str(output)!r}), meta,
                                 datetime.now(timezone.utc))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode != 0 and "cannot write" in result.stderr, result.stderr
    assert output.read_bytes() == b"previous good EPUB"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def epubcheck(path: Path) -> str:
    if not (EPUBCHECK_JAR.exists() and shutil.which("java")):
        unavailable("epubcheck is not installed (scripts/setup --test installs it)")
    result = subprocess.run(["java", "-jar", str(EPUBCHECK_JAR), str(path)], capture_output=True, text=True,
                            timeout=300)
    return result.stdout + result.stderr


def test_epubcheck_is_clean_on_the_small_book(small_epub):
    report = epubcheck(small_epub)
    assert "No errors or warnings detected" in report, report


def test_epubcheck_is_clean_on_the_real_book(real_site):
    report = epubcheck(real_site / "downloads" / REAL_BOOK.epub_name)
    assert "No errors or warnings detected" in report, report


def ace_violations(path: Path, report_dir: Path) -> list[str]:
    """Ace by DAISY's serious and critical findings. Without Ace or Chromium the test skips on a workstation and
    fails in CI, where a missing checker must not pass for a clean book."""
    if not (ACE.exists() and CHROMIUM.exists()):
        unavailable("Ace by DAISY needs `npm ci` and Chromium at /usr/bin/chromium (scripts/setup --test)")
    # Debian's Chromium instead of Puppeteer's download (package.json sets skipDownload for `npm ci`).
    environment = {**os.environ, "PUPPETEER_EXECUTABLE_PATH": str(CHROMIUM), "PUPPETEER_SKIP_DOWNLOAD": "1"}
    result = subprocess.run([str(ACE), "--force", "--silent", "--outdir", str(report_dir), str(path)],
                            capture_output=True, text=True, timeout=900, env=environment, cwd=ROOT)
    report_file = report_dir / "report.json"
    assert result.returncode == 0 and report_file.is_file(), f"Ace did not run:\n{result.stdout}{result.stderr}"
    report = json.loads(report_file.read_text(encoding="utf-8"))
    return [f"{test['earl:test']['earl:impact']}: {test['earl:test']['dct:title']} in "
            f"{document['earl:testSubject']['url']}: {test['earl:result'].get('dct:description', '')}"
            for document in report["assertions"] for test in document.get("assertions", [])
            if test["earl:test"]["earl:impact"] in ("serious", "critical")]


def test_ace_finds_nothing_serious_in_the_small_book(small_epub, tmp_path):
    assert ace_violations(small_epub, tmp_path / "ace") == []


def test_ace_finds_nothing_serious_in_the_real_book(real_site, tmp_path):
    assert ace_violations(real_site / "downloads" / REAL_BOOK.epub_name, tmp_path / "ace") == []
