"""Benchmarks of `queue_quota` against plain baselines, measured in one process run.

Run ``python -m benchmarks`` (or ``make bench``, or ``python benchmarks/run.py``) from the
repository root; ``--help`` lists the options and ``benchmarks/README.md`` the method.

Importing the package puts the repository's ``src`` directory first on ``sys.path``, so the
working tree is what gets measured, whether or not the library is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def _prefer_working_tree() -> None:
    if (SRC / "queue_quota" / "__init__.py").is_file() and str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))


_prefer_working_tree()
