"""`book`: the one command-line entry point for authors.

    book build        the site, the PDF and the EPUB (a strict mkdocs build)
    book serve        live preview; add --editions to make the PDF and EPUB on every rebuild
    book pdf | epub   build the site with its editions and say where that edition is
    book pdf --chapter N   one chapter as it prints, for proofing (build/proof/chapter-N.pdf)
    book check        a strict build, then the book's own rules over the built pages (file:line: message)
    book stats        words, figures, tables, citations... per chapter, from a strict build; --json for machines
    book labs [LAB]   run the labs (all, or those named): what each took, and whether it came from the cache

Each verb wraps the functions the build itself uses; the exit status says whether anything failed.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.config import load_config

ROOT = Path(__file__).resolve().parents[2]
MKDOCS = str(Path(sys.executable).parent / "mkdocs")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="book", description=__doc__.split("\n\n")[0])
    parser.add_argument("-f", "--config-file", default=str(ROOT / "mkdocs.yml"))
    verbs = parser.add_subparsers(dest="verb", required=True)
    verbs.add_parser("build", help="build the site, the PDF and the EPUB")
    serve = verbs.add_parser("serve", help="live preview")
    serve.add_argument("--editions", action="store_true", help="also make the PDF and EPUB on each rebuild")
    serve.add_argument("-a", "--dev-addr", default="127.0.0.1:8000")
    pdf = verbs.add_parser("pdf", help="build the site and write the PDF")
    pdf.add_argument("--chapter", type=int, metavar="N", help="only chapter N, as it prints, into build/proof/")
    verbs.add_parser("epub", help="build the site and write the EPUB")
    verbs.add_parser("check", help="strict build, then the book's own rules")
    stats = verbs.add_parser("stats", help="per-chapter figures")
    stats.add_argument("--json", action="store_true")
    labs = verbs.add_parser("labs", help="run the labs the book's values and charts come from")
    labs.add_argument("labs", nargs="*", metavar="LAB", help="lab ids (default: every lab)")
    labs.add_argument("--quick", action="store_true",
                      help="test-sized runs: fast, noisier numbers, cached apart from the book's")
    labs.add_argument("--force", action="store_true", help="run even when the cache holds a result")
    args = parser.parse_args(argv)
    return VERBS[args.verb](args)


def mkdocs(*arguments: str, editions: bool = True) -> int:
    """Run mkdocs and return its status, passing on a SIGTERM or SIGHUP sent to `book` so no build outlives it."""
    child = subprocess.Popen([MKDOCS, *arguments], env=_mkdocs_environment(editions), cwd=ROOT)
    forwarded = (signal.SIGTERM, signal.SIGHUP)
    previous = {signum: signal.signal(signum, lambda signum, frame: child.send_signal(signum)) for signum in forwarded}
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:   # Ctrl-C reached mkdocs too (same process group): let it clean up and exit
                continue
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def exec_mkdocs(*arguments: str, editions: bool = True) -> int:
    """Become mkdocs: a verb that only runs it leaves no parent process whose death would orphan it."""
    sys.stdout.flush()
    os.chdir(ROOT)
    os.execve(MKDOCS, [MKDOCS, *arguments], _mkdocs_environment(editions))


def _mkdocs_environment(editions: bool) -> dict:
    return {**os.environ, "NO_MKDOCS_2_WARNING": "1", "BOOK_EDITIONS": "true" if editions else "false"}


def build(args) -> int:
    return exec_mkdocs("build", "--strict", "-f", args.config_file)


def serve(args) -> int:
    return exec_mkdocs("serve", "-f", args.config_file, "-a", args.dev_addr, editions=args.editions)


def edition(kind: str):
    def verb(args) -> int:
        if getattr(args, "chapter", None) is not None:
            return proof_chapter(args)
        # The build writes both editions (an unchanged PDF comes from the cache) into a staging folder and
        # publishes it only when all of it succeeded, so the edition is there exactly when the build passed.
        status = mkdocs("build", "--strict", "-f", args.config_file)
        if status:
            return status
        site_dir = Path(load_config(args.config_file)["site_dir"])
        print(f"wrote {site_dir / 'downloads' / book_config(args.config_file).edition_file(kind)}")
        return 0
    return verb


def book_config(config_file: str):
    from macros.book import BookConfig
    return BookConfig.from_mkdocs(load_config(config_file))


def proof_chapter(args) -> int:
    """Chapter N alone, with its part's divider and running heads and the book's page styling, in a few seconds."""
    from mkdocs.exceptions import PluginError
    from scripts.editions import book_meta, build_moment
    from scripts.pdf.render import render_pdf
    from scripts.pdf.document import PrintError
    config = load_config(args.config_file)
    output = Path(config["config_file_path"]).parent / "build" / "proof" / f"chapter-{args.chapter}.pdf"
    with tempfile.TemporaryDirectory() as site:
        status = mkdocs("build", "--strict", "-q", "-f", args.config_file, "-d", site, editions=False)
        if status:
            return status
        try:
            render_pdf(Path(site), output, book_meta(book_config(args.config_file), build_moment()),
                       only_chapter=args.chapter)
        except (PrintError, PluginError) as error:
            print(f"book pdf: {error}", file=sys.stderr)
            return 1
    print(f"wrote {output}")
    return 0


@contextmanager
def built_site(verb: str, config_file: str) -> Iterator[Path | None]:
    """The book built once, strictly and without its editions, into a temporary folder that the verb reads;
    None (after saying so) when the build failed."""
    with tempfile.TemporaryDirectory() as site:
        status = mkdocs("build", "--strict", "-q", "-f", config_file, "-d", site, editions=False)
        if status:
            print(f"book {verb}: the strict build failed (see above)", file=sys.stderr)
        yield None if status else Path(site)


def check(args: argparse.Namespace) -> int:
    from macros.session import BookSession
    from scripts.authoring.checks import CheckError, run_checks
    with built_site("check", args.config_file) as site:
        if site is None:
            return 1
        try:
            findings = run_checks(BookSession(load_config(args.config_file)), site)
        except CheckError as error:
            print(f"book check: {error}", file=sys.stderr)
            return 1
    for finding in findings:
        print(finding)
    errors = sum(f.severity == "error" for f in findings)
    print(f"book check: {errors} error(s), {len(findings) - errors} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def stats(args: argparse.Namespace) -> int:
    from macros.session import BookSession
    from scripts.authoring.stats import as_json, as_table, chapter_stats
    with built_site("stats", args.config_file) as site:
        if site is None:
            return 1
        rows = chapter_stats(BookSession(load_config(args.config_file)), site)
    print(json.dumps(as_json(rows), indent=1) if args.json else as_table(rows))
    return 0


def run_labs(args) -> int:
    """The labs as the build runs them: the book's reference-system file, the project's .cache/labs."""
    from labs import LABS
    from labs.__main__ import run_and_report
    from macros.reference import lab_inputs
    reference, cache_dir = lab_inputs(load_config(args.config_file))
    return run_and_report(args.labs or list(LABS), quick=args.quick, force=args.force, reference=reference,
                          cache_dir=cache_dir)


VERBS = {"build": build, "serve": serve, "pdf": edition("pdf"), "epub": edition("epub"), "check": check,
         "stats": stats, "labs": run_labs}

if __name__ == "__main__":
    sys.exit(main())
