"""Errors raised by the author macros, worded so the author knows what to fix."""
import difflib


class DataError(Exception):
    """A data file under macros/data is malformed; the message names the file and the key."""


class MacroError(Exception):
    """A macro was called with something that does not exist (a term, a citation key, a Book 1 section...)."""


def closest(word: str, candidates) -> str:
    """A 'did you mean' tail for an error message, or an empty string when nothing is close."""
    matches = difflib.get_close_matches(str(word), [str(c) for c in candidates], n=3, cutoff=0.5)
    if not matches:
        lowered = {str(c).lower(): str(c) for c in candidates}
        matches = [lowered[w] for w in difflib.get_close_matches(str(word).lower(), lowered, n=3, cutoff=0.5)]
    return f" Did you mean: {', '.join(repr(m) for m in matches)}?" if matches else ""
