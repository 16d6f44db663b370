"""python -m labs [lab_id ...] [--quick] [--force]: run the labs (all, or those named) and say what each took."""
import argparse
import sys
from pathlib import Path

from macros.reference_system import REFERENCE_FILE

from . import LABS, LabError, run


def run_and_report(lab_ids: list[str], *, quick: bool = False, force: bool = False,
                   reference: Path = REFERENCE_FILE, cache_dir: Path | None = None) -> int:
    """Run each lab, printing what it took and whether it came from the cache; 1 at the first lab that fails.
    Shared by `python -m labs` and `book labs`."""
    try:
        for lab_id in lab_ids:
            outcome = run(lab_id, quick=quick, force=force, reference=reference, cache_dir=cache_dir)
            origin = "from the cache" if outcome.cached else "ran"
            print(f"{lab_id}: {outcome.seconds:.2f} s, {origin}; {len(outcome.result.values)} values, "
                  f"{len(outcome.result.charts)} chart(s)")
    except LabError as error:
        print(f"labs: {error}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labs", description=__doc__)
    parser.add_argument("labs", nargs="*", metavar="lab_id", help=f"labs to run (default: all of {', '.join(LABS)})")
    parser.add_argument("--quick", action="store_true", help="test-sized runs (fast, noisier)")
    parser.add_argument("--force", action="store_true", help="run even when the cache holds a result")
    args = parser.parse_args(argv)
    return run_and_report(args.labs or list(LABS), quick=args.quick, force=args.force)


if __name__ == "__main__":
    sys.exit(main())
