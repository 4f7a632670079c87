"""``python -m benchmarks``: run the benchmarks and print the table."""

from __future__ import annotations

from benchmarks.run import main

if __name__ == "__main__":
    raise SystemExit(main())
