"""Commands of the event log: ``events``, ``reopen-day`` and ``notify``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ..i18n import reason_text
from . import _format as fmt
from ._parser import clock_time, iso_date
from ._text import CliError

if TYPE_CHECKING:
    from ._context import Context
    from ._parser import AddCommand

__all__ = ["ENV_WEBHOOK_SECRET", "register"]

#: The webhook's signing secret (never on the command line).
ENV_WEBHOOK_SECRET = "QUEUE_QUOTA_WEBHOOK_SECRET"


def register(add: AddCommand) -> None:
    """Add the commands of this module to the parser."""
    p = add(
        "events",
        _events,
        access="read",
        summary="list the changes written to the event log",
        description=(
            "List the office's events after a position in the log (--after), oldest first:\n"
            "each change (booked, moved, cancelled, checked in, no-show, a day closed or\n"
            "reopened, a reminder) with the message a citizen would be sent. Events carry\n"
            "no personal data."
        ),
        examples=[
            "--office tegal.toml events --after 120 --limit 20",
            "--office t.toml events --json",
        ],
    )
    p.add_argument(
        "--after", metavar="SEQ", type=int, default=0, help="the last seq seen (default 0)"
    )
    p.add_argument("--limit", metavar="N", type=int, default=100, help="at most N events (1-1000)")
    p.add_argument("--json", action="store_true", help="write JSON (one object per event)")

    p = add(
        "reopen-day",
        _reopen_day,
        access="write",
        summary="open a day closed by close-day or by the calendar",
        description=(
            "Open a day closed at run time again, or a holiday of the calendar that a decree\n"
            "revoked, for every process sharing the database: its places can be booked at\n"
            "once and the waitlist is given them. The bookings moved away when it was closed\n"
            "stay where they are. Writes a day_reopened event."
        ),
        examples=["--office tegal.toml reopen-day 2020-06-12"],
    )
    p.add_argument("day", metavar="DATE", type=iso_date, help="the day to reopen, YYYY-MM-DD")

    p = add(
        "notify",
        _notify,
        access="write",
        summary="deliver the event log to a webhook",
        description=(
            "POST every event, with the citizen's message in Indonesian and English, as JSON\n"
            "signed with HMAC-SHA256 (the secret from $QUEUE_QUOTA_WEBHOOK_SECRET) to a\n"
            "webhook: at least once, in order per booking, with retries and a dead-letter\n"
            "list. Runs until interrupted, or once with --once. Keep credentials out of the\n"
            "URL: the signature authenticates the sender."
        ),
        examples=[
            "--office tegal.toml notify --webhook https://app.example/qq --remind-at 16:00",
            "--office tegal.toml notify --webhook http://127.0.0.1:8000/hook --once",
        ],
    )
    p.add_argument("--webhook", metavar="URL", required=True, help="the receiver's https URL")
    p.add_argument(
        "--consumer", metavar="NAME", default="webhook", help="the stream's name (default webhook)"
    )
    p.add_argument(
        "--remind-at",
        metavar="HH:MM",
        type=clock_time,
        help="send reminders from then, the working day before",
    )
    p.add_argument("--once", action="store_true", help="deliver what is due, then stop")
    p.add_argument(
        "--interval", metavar="SECONDS", type=float, default=2.0, help="pause when idle (default 2)"
    )
    p.add_argument(
        "--timeout", metavar="SECONDS", type=float, default=10.0, help="per request (default 10)"
    )


def _events(ctx: Context, args: argparse.Namespace) -> int:
    from ..notify import notification_text

    sched = ctx.scheduler()
    found = sched.events(after=args.after, limit=args.limit)
    if args.json:
        for e in found:
            record: dict[str, Any] = {
                "seq": e.seq,
                "kind": e.kind,
                "booking_id": e.booking_id,
                "day": None if e.day is None else e.day.isoformat(),
                "at": e.at.isoformat(),
                "data": dict(e.data),
                "text": notification_text(e, sched.office),
            }
            ctx.out.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    if not found:
        ctx.print(ctx.text("events.none"))
        return 0
    headers = [
        ctx.text("col.seq"),
        ctx.text("col.at"),
        ctx.text("col.kind"),
        ctx.text("col.message"),
    ]
    calendar = sched.office.calendar
    rows = [
        (
            str(e.seq),
            calendar.local_time(e.at).strftime("%Y-%m-%d %H:%M"),
            e.kind,
            notification_text(e, sched.office)[ctx.lang],
        )
        for e in found
    ]
    ctx.print(fmt.table(headers, rows, right=[0]))
    return 0


def _reopen_day(ctx: Context, args: argparse.Namespace) -> int:
    sched = ctx.scheduler()
    closed = args.day in sched.closures()
    channel = sched.office.policies[0].channel
    after = args.day + timedelta(days=1)
    reason = sched.availability(channel, args.day, after, now=ctx.now)[0].closed_reason
    sched.reopen_day(args.day, now=ctx.now)
    day = fmt.format_date(args.day, ctx.lang)
    if reason is None:
        ctx.print(ctx.text("reopened.not_closed", day=day))
    elif closed:
        ctx.print(ctx.text("reopened", day=day))
    else:  # a holiday (or a weekend) of the calendar, opened
        ctx.print(ctx.text("reopened.calendar", day=day, reason=reason_text(reason, ctx.lang)))
    return 0


def _notify(ctx: Context, args: argparse.Namespace) -> int:
    from ..notify import Notifier, WebhookSender

    secret = os.environ.get(ENV_WEBHOOK_SECRET, "")
    if len(secret.encode()) < 16:
        raise CliError("err.webhook_secret", env=ENV_WEBHOOK_SECRET)
    sched = ctx.scheduler()
    with WebhookSender(args.webhook, secret, timeout=args.timeout) as sender:
        notifier = Notifier(sched, sender, consumer=args.consumer, remind_at=args.remind_at)
        if args.once:
            done = notifier.run_once(now=None if ctx.args.now is None else ctx.now)
            ctx.print(ctx.text("notified", count=done))
            return 0
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        notifier.run_forever(interval=args.interval, stop=stop)
    return 0
