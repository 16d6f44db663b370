"""Report glossary terms and bibliography entries that no page of the book uses.

    python -m macros.usage [mkdocs.yml]

Prints one `file: message` line for each unused entry and exits 1 when there are any, 0 otherwise.
"""
import sys

from mkdocs.config import load_config

from .session import BookSession


def unused_entries(session: BookSession) -> tuple[list[str], list[str]]:
    pages = session.structure.pages.values()
    used_terms = set().union(*(page.terms for page in pages))
    cited = {key for page in pages for key in page.citations}
    return ([t for t in session.glossary.terms if t not in used_terms],
            [k for k in session.bibliography.sources if k not in cited])


def main(argv=None) -> int:
    config_file = (argv or sys.argv[1:] or ["mkdocs.yml"])[0]
    session = BookSession(load_config(config_file))
    terms, sources = unused_entries(session)
    for term in terms:
        print(f"macros/data/glossary.yml: term {term!r} is never used")
    for key in sources:
        print(f"macros/data/bibliography/{session.bibliography.sources[key].origin}: source {key!r} is never cited")
    return 1 if terms or sources else 0


if __name__ == "__main__":
    sys.exit(main())
