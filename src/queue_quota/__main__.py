"""``python -m queue_quota``: the ``queue-quota`` command line."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
