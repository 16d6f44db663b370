"""What a CPU measurement ran on, printed with every measured figure: the processor, its logical CPUs, Python, NumPy.

The CPU labs (framing, ingest_cpu) report timings, which change with the machine; the book prints this line beside
them so a reader knows what was measured.
"""
import os
import platform

import numpy as np


def describe_machine(*extra: str) -> str:
    """"Intel(R) Xeon(R) ..., 2 logical CPUs, Python 3.11.7, numpy 2.4.6" and any extra parts (a library version)."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass   # not Linux: platform's own name for the processor will do
    parts = [model, f"{os.cpu_count()} logical CPUs", f"Python {platform.python_version()}", f"numpy {np.__version__}"]
    return ", ".join(parts + list(extra))
