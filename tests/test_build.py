"""The real book's strict build, and the foundation's promises about every built site."""
import re


FIRST_PARTY = "https://example.org/productionizing-ml-inference-apis/"  # site_url's default: the book's own host


def test_real_book_builds_strictly(real_site):
    assert (real_site / "index.html").is_file()
    assert (real_site / "glossary" / "index.html").is_file()
    assert (real_site / "works-cited" / "index.html").is_file()


def loaded_resources(html: str) -> list[str]:
    """Addresses the browser would load by itself: <link href>, <script src>, <img src>, <source src>, CSS url()."""
    tags = re.findall(r"<(?:link|script|img|source|iframe)\b[^>]*>", html, re.I)
    found = [m for tag in tags for m in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", tag, re.I)]
    return found + re.findall(r"""url\(\s*["']?([^"')]+)""", html)


def test_site_loads_nothing_from_third_party_hosts(real_site):
    offenders = []
    for path in list(real_site.rglob("*.html")) + list(real_site.rglob("*.css")):
        for address in loaded_resources(path.read_text(encoding="utf-8", errors="ignore")):
            if re.match(r"(?:https?:)?//", address) and not address.startswith(FIRST_PARTY):
                offenders.append(f"{path.relative_to(real_site)}: {address}")
    assert not offenders, "\n".join(offenders[:20])


def test_fonts_are_vendored_and_used(real_site):
    css = (real_site / "assets" / "fonts" / "fonts.css").read_text()
    assert "Source Serif 4" in css and "Source Code Pro" in css
    files = re.findall(r"url\(\./([^)]+)\)", css)
    assert files, "fonts.css loads no font file"
    missing = [name for name in files if not (real_site / "assets" / "fonts" / name).is_file()]
    assert not missing, missing
    assert "fonts.googleapis" not in (real_site / "index.html").read_text()


def test_broken_internal_link_fails_with_page_named(book):
    built = book({"index.md": "# Home\n", "one.md": "# One\n\nSee [two](missing.md).\n", "two.md": "# Two\n"})
    assert not built.ok
    assert "one.md" in built.log and "missing.md" in built.log


def test_broken_anchor_fails_with_page_named(book):
    built = book({"index.md": "# Home\n", "one.md": "# One\n\nSee [two](two.md#nowhere).\n", "two.md": "# Two\n"})
    assert not built.ok
    assert "one.md" in built.log and "nowhere" in built.log


def test_code_is_highlighted_at_build_time(book):
    built = book({"index.md": "# Home\n", "one.md": "# One\n\n```python\ndef f():\n    return 1\n```\n",
                  "two.md": "# Two\n"})
    assert built.ok, built.log
    html = built.html("one")
    assert '<span class="k">def</span>' in html
    assert "highlight.js" not in html and "prism" not in html.lower()
