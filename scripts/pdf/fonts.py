"""Which characters the print edition's fonts can print, remembered for as long as the build process lives.

Reading every font's character map costs a noticeable fraction of a second; `mkdocs serve` with the editions on
renders the book again on every save, with the same fonts. The answers are kept by a `FontCoverage` that the build
owns (scripts/hooks.py's BuildRun) rather than in module globals, so a new build process starts afresh and a font
file that changes (its modification time) is read again.
"""
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.ttLib import TTFont

# print.css's font stacks fall back from the vendored faces to DejaVu (scripts/setup installs fonts-dejavu-core):
# a character in neither prints as an empty box.
FALLBACK_FAMILIES = ("DejaVu Serif", "DejaVu Sans", "DejaVu Sans Mono")


@dataclass
class FontCoverage:
    fallback: tuple[Path, ...] | None = None                                    # fontconfig's answer, once
    covered: dict[tuple[Path, int], frozenset[int]] = field(default_factory=dict)   # (file, mtime) -> code points

    def fallback_fonts(self) -> tuple[Path, ...]:
        """The files fontconfig gives for the fallback families (only those it really has, not a substitute)."""
        if self.fallback is None:
            self.fallback = tuple(_fontconfig_files(FALLBACK_FAMILIES))
        return self.fallback

    def characters(self, fonts: list[Path]) -> frozenset[int]:
        """Every code point that one of the fonts has a glyph for."""
        covered: set[int] = set()
        for path in fonts:
            key = (path, path.stat().st_mtime_ns)
            if key not in self.covered:
                with TTFont(path, lazy=True) as font:
                    self.covered[key] = frozenset(font.getBestCmap() or {})
            covered |= self.covered[key]
        return frozenset(covered)


def _fontconfig_files(families: tuple[str, ...]) -> list[Path]:
    found = []
    for family in families:
        try:
            answer = subprocess.run(["fc-match", "--format=%{family}\n%{file}", family], capture_output=True,
                                    text=True, check=True).stdout.split("\n")
        except (OSError, subprocess.CalledProcessError):
            continue
        if len(answer) == 2 and family in answer[0].split(","):
            found.append(Path(answer[1]))
    return found
