"""A notifier process for the kill tests: ``python _notify_worker.py DB URL``.

Delivers the test office's events to ``URL`` (a `WebhookSender`, 0.3 s timeout, short
backoff) until killed. The secrets are the test's.
"""

from __future__ import annotations

import sys

import _workers as w
from queue_quota.notify import Notifier, WebhookSender

WEBHOOK_SECRET = b"webhook-secret-for-tests-0123"


def main(db: str, url: str) -> None:
    sched = w.make_scheduler({"kind": "sqlite", "path": db}, capacity=25, horizon_days=10)
    sender = WebhookSender(url, WEBHOOK_SECRET, timeout=0.3)
    notifier = Notifier(
        sched, sender, consumer="hook", base_delay=0.05, max_delay=0.2, lease_seconds=2,
        max_attempts=50,
    )  # fmt: skip
    print("ready", flush=True)
    notifier.run_forever(interval=0.02)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
