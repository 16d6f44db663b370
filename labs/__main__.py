"""python -m labs [lab_id ...] [--quick] [--force]: run the labs (all, or those named) and say what each took."""
import argparse
import sys

from . import LABS, LabError, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m labs", description=__doc__)
    parser.add_argument("labs", nargs="*", metavar="lab_id", help=f"labs to run (default: all of {', '.join(LABS)})")
    parser.add_argument("--quick", action="store_true", help="test-sized runs (fast, noisier)")
    parser.add_argument("--force", action="store_true", help="run even when the cache holds a result")
    args = parser.parse_args(argv)
    try:
        for lab_id in args.labs or list(LABS):
            outcome = run(lab_id, quick=args.quick, force=args.force)
            origin = "from the cache" if outcome.cached else "ran"
            print(f"{lab_id}: {outcome.seconds:.2f} s, {origin}; {len(outcome.result.values)} values, "
                  f"{len(outcome.result.charts)} chart(s)")
    except LabError as error:
        print(f"labs: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
