"""The toolchain type-checks: mypy over the files [tool.mypy] in pyproject.toml names, as a contributor runs it."""
import subprocess
import sys
from pathlib import Path

from bookbuild import ROOT

MYPY = Path(sys.executable).parent / "mypy"


def test_mypy_is_clean_on_the_toolchain():
    assert MYPY.is_file(), f"{MYPY} is missing: scripts/setup --test installs the test extras, mypy among them"
    result = subprocess.run([str(MYPY)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"mypy exited {result.returncode}:\n{result.stdout}{result.stderr}"
