"""`book labs`: runs every lab or the ones named, with the build's reference system and cache, and says what each
took and whether it came from the cache."""
import re

import labs
from bookbuild import ROOT, write_book
from scripts.authoring.cli import main

REAL_DATA = ROOT / "macros" / "data"


def test_book_labs_runs_all_then_reads_them_from_the_cache_the_build_uses(tmp_path, capsys):
    config = str(write_book(tmp_path, {"index.md": "# Home\n"}, data=REAL_DATA) / "mkdocs.yml")
    assert main(["-f", config, "labs", "--quick"]) == 0     # test-sized: the real book's build runs them in full
    first = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in first] == list(labs.LABS)
    assert all(re.search(r": \d+\.\d\d s, ran; \d+ values, \d+ chart\(s\)$", line) for line in first), first
    assert (tmp_path / ".cache" / "labs" / "batching").is_dir()   # the project's cache, where the build looks
    assert main(["-f", config, "labs", "--quick", "latency_budget"]) == 0
    again = capsys.readouterr().out.splitlines()
    assert len(again) == 1 and again[0].startswith("latency_budget: ") and "from the cache" in again[0]


def test_book_labs_names_an_unknown_lab_and_fails(tmp_path, capsys):
    config = str(write_book(tmp_path, {"index.md": "# Home\n"}, data=REAL_DATA) / "mkdocs.yml")
    assert main(["-f", config, "labs", "batchin"]) == 1
    assert "batchin: no such lab. Did you mean: 'batching'?" in capsys.readouterr().err
