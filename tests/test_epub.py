"""The EPUB edition, read back as an e-reader would: structure, links, metadata, footnotes, validity."""
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from bookbuild import build_book, write_book
from scripts.epub import render_epub
from scripts.print_book import BookMeta, PrintError

EPUBCHECK_JAR = Path("/usr/share/java/epubcheck.jar")
NS = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/",
      "x": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
PAGES = {
    "index.md": "# Home\n",
    "one.md": "# First Chapter\n\n## What you will learn\n\nA {{ term(\"RTF\") }} claim.[^1]"
              "{{ cite(\"rfc6455\") }}\n\n[^1]: A footnote.\n\n"
              "{{ figure(\"f\", \"assets/images/favicon.svg\", \"Cap.\", alt=\"Icon\") }}\n",
    "two.md": "# Second Chapter\n\nSee {{ fig(\"f\") }} and [the first](one.md#what-you-will-learn) and "
              "[elsewhere](https://example.com/).\n",
}


@pytest.fixture(scope="module")
def small_epub(tmp_path_factory) -> Path:
    built = build_book(write_book(tmp_path_factory.mktemp("epub") / "book", PAGES), pdf=True)
    assert built.ok, built.log
    return built.site / "downloads" / "productionizing-ml-inference-apis.epub"


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
    for name, tree in xhtml_files(archive).items():
        for element in tree.iter("{*}img", "{*}link", "{*}script", "{*}source"):
            address = element.get("src") or element.get("href") or ""
            assert not re.match(r"[a-z]+:|//", address), f"{name}: {address}"
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
        built = build_book(write_book(tmp_path / name, PAGES), pdf=True, env={"SOURCE_DATE_EPOCH": "1767225600"})
        assert built.ok, built.log
        outputs.append((built.site / "downloads" / "productionizing-ml-inference-apis.epub").read_bytes())
    assert outputs[0] == outputs[1]
    assert b"2026-01-01T00:00:00Z" in zipfile.ZipFile(__import__("io").BytesIO(outputs[0])).read("EPUB/content.opf")


def test_failed_epub_leaves_the_previous_file(small_epub, tmp_path, monkeypatch):
    from datetime import datetime, timezone
    output = tmp_path / "book.epub"
    output.write_bytes(b"previous good EPUB")
    monkeypatch.setattr("scripts.epub.book_chapters", lambda *a: (_ for _ in ()).throw(PrintError("boom")))
    meta = BookMeta("T", "S", "A", "C", "(c)", "0", "2026-01-01", "D", "k")
    with pytest.raises(PrintError):
        render_epub(small_epub.parent.parent, output, meta, datetime.now(timezone.utc))
    assert output.read_bytes() == b"previous good EPUB"
    assert [p.name for p in tmp_path.iterdir()] == ["book.epub"]


def epubcheck(path: Path) -> str:
    result = subprocess.run(["java", "-jar", str(EPUBCHECK_JAR), str(path)], capture_output=True, text=True,
                            timeout=300)
    return result.stdout + result.stderr


needs_epubcheck = pytest.mark.skipif(not (EPUBCHECK_JAR.exists() and shutil.which("java")),
                                     reason="epubcheck is not installed (scripts/setup --test installs it)")


@needs_epubcheck
def test_epubcheck_is_clean_on_the_small_book(small_epub):
    report = epubcheck(small_epub)
    assert "No errors or warnings detected" in report, report


@needs_epubcheck
def test_epubcheck_is_clean_on_the_real_book(real_site):
    report = epubcheck(real_site / "downloads" / "productionizing-ml-inference-apis.epub")
    assert "No errors or warnings detected" in report, report
