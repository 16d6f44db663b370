"""site/xref.json: this book's own inventory, so another book can link here and check its links as we check Book 1's."""
import json
from pathlib import Path

from .figures import anchor


def build_inventory(session, nav_pages, site_url: str) -> dict:
    structure = session.structure
    toc_by_src = {page.file.src_path: page.toc for page in nav_pages}
    chapters = []
    for page in structure.pages.values():
        url = structure.url(page.src)
        chapters.append({
            "label": page.label,
            "number": page.number,
            "part": page.part,
            "title": page.title,
            "url": url,
            "sections": [{"title": s.title, "anchor": s.id, "url": f"{url}#{s.id}", "level": s.level}
                         for s in _flatten(toc_by_src.get(page.src, []))],
        })
    numbered = [{"kind": item.kind, "id": item.id, "number": item.number,
                 "url": f"{structure.url(item.page)}#{anchor(item)}"} for item in structure.numbered.values()]
    glossary_url = structure.url("glossary.md")
    terms = [{"term": t.term, "expansion": t.expansion, "url": f"{glossary_url}#{t.anchor}"}
             for t in session.glossary.terms.values()]
    return {"title": session.config["site_name"], "site_url": site_url, "chapters": chapters,
            "figures": [n for n in numbered if n["kind"] == "figure"],
            "tables": [n for n in numbered if n["kind"] == "table"], "terms": terms}


def _flatten(toc):
    for item in toc:
        yield item
        yield from _flatten(item.children)


def write_inventory(session, nav_pages, site_dir: Path, site_url: str) -> None:
    data = build_inventory(session, nav_pages, site_url)
    (site_dir / "xref.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
