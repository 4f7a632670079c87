"""Make ``queue.sqlite3`` and ``expected.json``: a real database written by queue_quota 0.1.

Run it with the 0.1 code (commit 5cc22ec), never with the current one::

    mkdir /tmp/qq01 && git archive 5cc22ec | tar -x -C /tmp/qq01
    PYTHONPATH=/tmp/qq01/src .venv/bin/python tests/golden/sqlite_0_1/make_golden.py

``expected.json`` is what the 0.1 code reads back from that database (every booking of both
offices with every field, the closures, the raw day counters and release epochs):
``tests/test_sqlite_storage.py`` opens a copy of the database with the current code and
checks that the upgrade changed none of it. The citizen IDs are made up; the database holds
only their keyed hashes.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import queue_quota as qq
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.storage import SQLiteStorage

HERE = Path(__file__).resolve().parent
SECRET = b"golden-0.1-secret-0123456789abcdef"
WIB = ZoneInfo("Asia/Jakarta")
MONDAY = datetime(2020, 6, 8, 9, 0, tzinfo=WIB)
OFFICES = ("golden-tegal", "golden-brebes")


def office(office_id: str) -> qq.Office:
    """Three online places a day (one day ahead), five walk-ins, Monday to Friday."""
    return qq.Office(
        id=office_id,
        calendar=qq.WorkingCalendar(tz="Asia/Jakarta"),
        policies=[
            OnlineQuota(capacity=3, lead_days=1, horizon_days=30, per_citizen=1),
            WalkInQuota(capacity=5, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


def citizen(n: int) -> str:
    """A made-up 16-digit NIK."""
    return f"33280100000000{n:02d}"


def fill(path: Path) -> None:
    """Book, cancel, check in, reschedule, close a day and mark no-shows, as 0.1 did."""
    tegal = qq.Scheduler(office(OFFICES[0]), SQLiteStorage(path), secret=SECRET)
    brebes = qq.Scheduler(office(OFFICES[1]), SQLiteStorage(path), secret=SECRET)
    online = [
        tegal.book("online", citizen(i), now=MONDAY, idempotency_key=f"web-{i}" if i % 2 else None)
        for i in range(1, 8)
    ]  # Tue 9: 1-3, Wed 10: 4-6, Thu 11: 7
    tegal.cancel(online[1].id, now=MONDAY)
    tegal.reschedule(online[2].id, now=MONDAY)  # to Thu 11, number 2
    walk_at = datetime.combine(MONDAY.date(), time(8, 15), WIB)
    walk = [tegal.book("walk_in", citizen(20 + i), now=walk_at) for i in range(3)]
    walk.append(tegal.book("walk_in", None, now=walk_at, idempotency_key="kiosk-1"))
    tegal.check_in(walk[0].ticket, now=walk_at)
    tegal.close_day(date(2020, 6, 10), "pemadaman listrik", now=MONDAY)  # moves 4-6
    tegal.mark_no_shows(MONDAY.date(), now=MONDAY + timedelta(days=1))
    brebes.book("online", citizen(1), now=MONDAY, idempotency_key="web-1")
    brebes.book("walk_in", citizen(2), now=walk_at)
    tegal.storage.close()
    brebes.storage.close()


def read_back(path: Path) -> dict[str, object]:
    """Everything the 0.1 code reads from the database, as JSON-able values."""
    storage = SQLiteStorage(path)
    bookings = []
    closures = {}
    for office_id in OFFICES:
        for i in range(60):
            for b in storage.bookings_on(
                office_id, MONDAY.date() + timedelta(days=i), include_cancelled=True
            ):
                assert storage.get(office_id, b.id) == b
                bookings.append(
                    {
                        "id": b.id,
                        "office_id": b.office_id,
                        "channel": b.channel,
                        "day": b.day.isoformat(),
                        "number": b.number,
                        "label": b.label,
                        "status": b.status.value,
                        "citizen_ref": b.citizen_ref,
                        "created_at": b.created_at.isoformat(),
                        "ticket": b.ticket,
                        "idempotency_key": b.idempotency_key,
                    }
                )
        closures[office_id] = {d.isoformat(): r for d, r in storage.closures(office_id).items()}
    storage.close()
    raw = sqlite3.connect(path)
    days = [list(r) for r in raw.execute("SELECT * FROM qq_day ORDER BY 1, 2, 3")]
    epochs = [list(r) for r in raw.execute("SELECT * FROM qq_epoch ORDER BY 1, 2")]
    raw.close()
    return {
        "made_by": qq.__version__,
        "secret": SECRET.decode(),
        "citizen_ids": {str(i): citizen(i) for i in (1, 2, 3, 4, 5, 6, 7, 20, 21, 22)},
        "bookings": bookings,
        "closures": closures,
        "days": days,
        "epochs": epochs,
    }


def main() -> None:
    if not qq.__version__.startswith("0.1"):
        sys.exit(f"run this with queue_quota 0.1, not {qq.__version__} ({qq.__file__})")
    path = HERE / "queue.sqlite3"
    for p in HERE.glob("queue.sqlite3*"):
        p.unlink()
    fill(path)
    expected = read_back(path)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(f"{path}: {len(expected['bookings'])} bookings")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
