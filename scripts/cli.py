"""`book`: the one command-line entry point for authors.

    book build        the site, the PDF and the EPUB (a strict mkdocs build)
    book serve        live preview; add --editions to make the PDF and EPUB on every rebuild
    book pdf | epub   build the site and write only that edition
    book check        the strict build, then the book's own rules (file:line: message)
    book stats        words, figures, tables, citations... per chapter; --json for machines

Each verb wraps the functions the build itself uses; the exit status says whether anything failed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parent.parent
MKDOCS = str(Path(sys.executable).parent / "mkdocs")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="book", description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--config-file", default=str(ROOT / "mkdocs.yml"))
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("build", help="build the site, the PDF and the EPUB")
    serve = verbs.add_parser("serve", help="live preview")
    serve.add_argument("--editions", action="store_true", help="also make the PDF and EPUB on each rebuild")
    serve.add_argument("-a", "--dev-addr", default="127.0.0.1:8000")
    verbs.add_parser("pdf", help="build the site and write the PDF")
    verbs.add_parser("epub", help="build the site and write the EPUB")
    verbs.add_parser("check", help="strict build, then the book's own rules")
    stats = verbs.add_parser("stats", help="per-chapter figures")
    stats.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return VERBS[args.verb](args)


def mkdocs(*arguments: str, editions: bool = True) -> int:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "BOOK_PDF": "1" if editions else "0"}
    return subprocess.call([MKDOCS, *arguments], env=env, cwd=ROOT)


def build(args) -> int:
    return mkdocs("build", "--strict", "-f", args.config_file)


def serve(args) -> int:
    return mkdocs("serve", "-f", args.config_file, "-a", args.dev_addr, editions=args.editions)


def edition(render):
    def verb(args) -> int:
        from scripts.hooks import book_meta, build_moment
        from scripts.print_book import PrintError
        config = load_config(args.config_file)
        # The build cleans site/ and offers only the editions it wrote, so it writes both (an unchanged PDF comes
        # from the cache); this verb then remakes the one asked for, to say where it is and fail if it cannot.
        status = mkdocs("build", "--strict", "-f", args.config_file)
        if status:
            return status
        site = Path(config["site_dir"])
        try:
            render(site, book_meta(config), build_moment())
        except PrintError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    return verb


def _pdf(site, meta, moment):
    from scripts.hooks import PDF_NAME
    from scripts.pdf import render_pdf
    render_pdf(site, site / "downloads" / PDF_NAME, meta, cache_dir=ROOT / ".cache" / "pdf")
    print(f"wrote {site / 'downloads' / PDF_NAME}")


def _epub(site, meta, moment):
    from scripts.epub import render_epub
    from scripts.hooks import EPUB_NAME
    render_epub(site, site / "downloads" / EPUB_NAME, meta, moment)
    print(f"wrote {site / 'downloads' / EPUB_NAME}")


def check(args) -> int:
    from macros.session import BookSession
    from scripts.checks import run_checks
    with tempfile.TemporaryDirectory() as site:
        status = mkdocs("build", "--strict", "-q", "-f", args.config_file, "-d", site, editions=False)
    if status:
        print("book check: the strict build failed (see above)", file=sys.stderr)
        return status
    findings = run_checks(BookSession(load_config(args.config_file)))
    for finding in findings:
        print(finding)
    errors = sum(f.severity == "error" for f in findings)
    print(f"book check: {errors} error(s), {len(findings) - errors} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def stats(args) -> int:
    from macros.session import BookSession
    from scripts.stats import as_json, as_table, chapter_stats
    rows = chapter_stats(BookSession(load_config(args.config_file)))
    print(json.dumps(as_json(rows), indent=1) if args.json else as_table(rows))
    return 0


VERBS = {"build": build, "serve": serve, "pdf": edition(_pdf), "epub": edition(_epub), "check": check,
         "stats": stats}

if __name__ == "__main__":
    sys.exit(main())
