"""The simulator: checked against numbers worked out by hand, and against its invariants.

The expected values below are computed from the demand and the office's numbers (working
days of a Monday-to-Friday calendar without holidays), never from the simulator's code.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from datetime import date, time, timedelta

import pytest

import queue_quota as qq
from queue_quota.policies import OnlineQuota, WalkInQuota
from queue_quota.simulate import Demand, Simulation, compare, simulate

MONDAY = date(2020, 6, 1)
CAL = qq.WorkingCalendar(weekmask="1111100", tz="Asia/Jakarta")  # no holidays


def office(*policies: object, office_id: str = "loket", **kw: object) -> qq.Office:
    """An office on the plain Monday-to-Friday calendar."""
    return qq.Office(id=office_id, calendar=CAL, policies=list(policies), **kw)  # type: ignore[arg-type]


def weekdays(days: int, n: int) -> list[int]:
    """``n`` on every weekday of ``days`` days from MONDAY, 0 on weekends."""
    return [n if (MONDAY + timedelta(days=i)).weekday() < 5 else 0 for i in range(days)]


def working_index(days: int) -> list[date]:
    """The working days from MONDAY on (index 0 is working day 1)."""
    return [d for d in (MONDAY + timedelta(days=i) for i in range(days)) if d.weekday() < 5]


# -- against an independent calculation ------------------------------------------------------


@pytest.mark.parametrize("lead_days", [0, 1, 2, 3])
def test_below_capacity_every_wait_is_the_lead_days(lead_days: int) -> None:
    """Constant demand below capacity: everyone is given the lead_days-th working day."""
    sim = simulate(
        office(OnlineQuota(capacity=10, lead_days=lead_days)),
        Demand(online_per_day=8, poisson=False),
        start=MONDAY,
        days=21,
        seed=3,
    )
    n_working = sum(1 for d in range(21) if (MONDAY + timedelta(days=d)).weekday() < 5)
    assert sim.summary.online_registrants == 8 * n_working
    assert set(sim.waits) == {lead_days}
    s = sim.summary
    assert (s.wait_p50, s.wait_p90, s.wait_max) == (lead_days, lead_days, lead_days)
    assert s.days_window_full == 0
    assert s.online_gave_up == 0
    # each working day from the (lead_days + 1)-th holds the 8 of lead_days working days before
    work = working_index(21)
    for row in sim.rows:
        expected = 8 if row.day in work[lead_days:] else 0
        assert row.booked_for_day["online"] == expected, row.day


def test_above_capacity_the_backlog_grows_by_the_difference_each_working_day() -> None:
    """15 a day for 10 places: the backlog grows by 5 a working day; waits as by hand."""
    days, demand, capacity = 19, 15, 10
    sim = simulate(
        office(OnlineQuota(capacity=capacity, lead_days=1, horizon_days=60)),
        Demand(online_per_day=weekdays(days, demand)),
        start=MONDAY,
        days=days,
        seed=0,
    )
    work = working_index(days)
    for row in sim.rows:
        if row.day.weekday() >= 5:
            continue
        k = work.index(row.day) + 1  # working day k: 15k registered, days 2..k served 10 each
        assert row.backlog == demand * k - capacity * (k - 1), row.day
        assert row.booked_for_day["online"] == (capacity if k >= 2 else 0)
    backlogs = [r.backlog for r in sim.rows if r.day.weekday() < 5]
    assert {b - a for a, b in itertools.pairwise(backlogs)} == {demand - capacity}
    # the j-th registrant (0-based) registers on working day j // 15 + 1 and is given
    # working day j // 10 + 2: the wait is the difference
    expected = [(j // capacity + 2) - (j // demand + 1) for j in range(demand * len(work))]
    assert list(sim.waits) == expected
    assert sim.summary.wait_max == max(expected)
    assert sim.summary.utilisation["online"] == pytest.approx(
        capacity * (len(work) - 1) / (capacity * len(work))
    )


def test_a_full_window_is_counted_and_refused_citizens_give_up() -> None:
    """A window of one day and 3 citizens for 2 places: the third gives up, the day is full."""
    sim = simulate(
        office(OnlineQuota(capacity=2, lead_days=1, horizon_days=1)),
        Demand(online_per_day=[3, 0, 0, 0, 0]),
        start=MONDAY,
        days=5,
        seed=0,
    )
    assert sim.rows[0].requests["online"] == 3
    assert sim.rows[0].refused["online"] == 1
    assert sim.rows[0].gave_up == 1
    assert sim.rows[0].window_full
    assert sim.summary.online_given_place == 2
    assert sim.summary.online_gave_up == 1
    assert list(sim.waits) == [1, 1]


def test_a_refused_citizen_retries_the_next_day() -> None:
    """retry_days=1: the third tries again on Tuesday, is given Wednesday: a wait of 2."""
    sim = simulate(
        office(OnlineQuota(capacity=2, lead_days=1, horizon_days=1)),
        Demand(online_per_day=[3, 0, 0, 0, 0], retry_days=1),
        start=MONDAY,
        days=5,
        seed=0,
    )
    assert sim.rows[1].online_retries == 1
    assert sim.rows[1].booked["online"] == 1
    assert list(sim.waits) == [1, 1, 2]
    assert sim.summary.online_gave_up == 0


def test_a_waitlisted_citizen_is_given_a_cancelled_place() -> None:
    """Monday: 4 take Tuesday and Wednesday, 2 are refused and wait. Everyone cancels the
    day before their day, or the day they booked: Tuesday's two cancel on Monday night,
    the two waiting are given Tuesday; Tuesday morning they and Wednesday's two cancel."""
    sim = simulate(
        office(OnlineQuota(capacity=2, lead_days=1, horizon_days=2)),
        Demand(online_per_day=[6, 0, 0, 0, 0], waitlist=True, cancel_rate=1.0),
        start=MONDAY,
        days=5,
        seed=0,
    )
    mon, tue, wed = sim.rows[:3]
    assert (mon.booked["online"], mon.refused["online"], mon.waitlisted) == (4, 2, 2)
    assert (mon.cancellations, mon.promoted, mon.waitlist) == (2, 2, 0)
    assert mon.backlog == 4  # the promoted two for Tuesday, two for Wednesday
    assert (tue.cancellations, tue.booked_for_day["online"]) == (4, 0)
    assert wed.booked_for_day["online"] == 0
    assert sim.summary.online_given_place == 6
    assert sim.summary.online_gave_up == 0


def test_an_entry_nobody_frees_a_place_for_expires() -> None:
    """Without cancellations the waiting citizen gives up once the entry's day has passed."""
    sim = simulate(
        office(OnlineQuota(capacity=2, lead_days=1, horizon_days=1)),
        Demand(online_per_day=[3, 0, 0, 0, 0], waitlist=True),
        start=MONDAY,
        days=5,
        seed=0,
    )
    assert sim.rows[0].waitlisted == 1
    assert sim.rows[1].waitlist == 1
    assert sum(r.gave_up for r in sim.rows) == 1
    assert sim.summary.online_still_waiting == 0


def test_walk_ins_over_capacity_are_turned_away_and_on_closed_days_too() -> None:
    """8 walk-ins for 5 numbers: 3 turned away; counts given for a Sunday: all turned away."""
    counts = [8] * 7  # Monday .. Sunday
    sim = simulate(
        office(WalkInQuota(capacity=5, opens=time(8), closes=time(12))),
        Demand(walk_in_per_day=counts),
        start=MONDAY,
        days=7,
        seed=5,
    )
    for row in sim.rows:
        served = 5 if row.open else 0
        assert (row.walk_ins, row.walk_ins_served, row.walk_ins_turned_away) == (
            8,
            served,
            8 - served,
        )
        assert row.checked_in["walk_in"] == served
    assert sim.summary.walk_in_turned_away_share == pytest.approx((3 * 5 + 8 * 2) / 56)
    assert sim.summary.utilisation["walk_in"] == 1.0
    assert sim.summary.no_shows == 0  # walk-ins given a number are checked in


def test_no_shows_and_cancellations_follow_the_draws() -> None:
    """Everyone cancels: no one is served; nobody comes: all are marked no-show."""
    shop = office(OnlineQuota(capacity=50))
    cancelled = simulate(
        shop, Demand(online_per_day=10, cancel_rate=1.0), start=MONDAY, days=14, seed=1
    )
    # each cancels the day before its day, or the day it was made: all within the 14 days
    assert cancelled.summary.cancellations == cancelled.summary.online_registrants > 0
    assert all(r.booked_for_day["online"] == 0 for r in cancelled.rows)
    assert cancelled.waits == ()  # a cancelled booking is no wait
    absent = simulate(
        shop, Demand(online_per_day=[10] * 14, no_show_rate=1.0), start=MONDAY, days=14, seed=1
    )
    for row in absent.rows:
        assert row.no_shows == row.booked_for_day["online"]
        assert row.checked_in["online"] == 0


def test_the_first_day_surge_is_a_number_of_people() -> None:
    """first_day_surge=25 with exact counts: 25 more registrants on the first day only."""
    sim = simulate(
        office(OnlineQuota(capacity=100)),
        Demand(online_per_day=10, first_day_surge=25, poisson=False),
        start=MONDAY,
        days=3,
        seed=0,
    )
    assert [r.online_arrivals for r in sim.rows] == [35, 10, 10]


def test_closed_day_share_of_the_mean_registers_on_weekends() -> None:
    """closed_day_share=0.5 of 10: 5 register on Saturday and on Sunday, for Monday."""
    sim = simulate(
        office(OnlineQuota(capacity=100)),
        Demand(online_per_day=10, closed_day_share=0.5, poisson=False),
        start=MONDAY,
        days=8,
        seed=0,
    )
    assert [r.online_arrivals for r in sim.rows] == [10, 10, 10, 10, 10, 5, 5, 10]
    assert sim.rows[7].booked_for_day["online"] == 10 + 5 + 5  # Friday's, Saturday's, Sunday's


def test_priority_citizens_try_the_channel_of_their_claim_first() -> None:
    """All priority: each asks the priority channel first and falls back to online."""
    shop = office(
        OnlineQuota(
            capacity=3,
            lead_days=0,
            horizon_days=0,
            channel="priority",
            prefix="P",
            requires_claim="group",
        ),
        OnlineQuota(capacity=20),
    )
    sim = simulate(
        shop,
        Demand(online_per_day=[5, 0, 0], priority_share=1.0),
        start=MONDAY,
        days=3,
        seed=0,
    )
    row = sim.rows[0]
    assert row.requests == {"priority": 5, "online": 2}
    assert row.booked == {"priority": 3, "online": 2}
    assert row.booked_for_day["priority"] == 3  # lead_days=0: today
    assert sorted(sim.waits) == [0, 0, 0, 1, 1]
    plain = simulate(shop, Demand(online_per_day=[5, 0, 0]), start=MONDAY, days=3, seed=0)
    assert plain.rows[0].requests == {"priority": 0, "online": 5}


# -- invariants ------------------------------------------------------------------------------


def _rich_office(online: int = 30) -> qq.Office:
    return office(
        OnlineQuota(capacity=4, lead_days=0, horizon_days=5, channel="priority", prefix="P",
                    requires_claim="group"),
        OnlineQuota(
            capacity=online,
            horizon_days=10,
            sessions=[qq.Session(time(8), time(10), online // 2),
                      qq.Session(time(10), time(12), online - online // 2)],
        ),
        WalkInQuota(capacity=15, opens=time(7, 30), closes=time(12)),
    )  # fmt: skip


RICH = Demand(
    online_per_day=34,
    walk_in_per_day=16,
    first_day_surge=60,
    no_show_rate=0.1,
    cancel_rate=0.1,
    priority_share=0.2,
    waitlist=True,
    retry_days=2,
    closed_day_share=0.2,
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_invariants_hold_every_day(seed: int) -> None:
    """No counter over capacity, every walk-in served or turned away, bookings = requests -
    refusals, and every citizen accounted for."""
    sim = simulate(_rich_office(), RICH, start=MONDAY, days=30, seed=seed)
    for row in sim.rows:
        for c in sim.channels:
            assert 0 <= row.booked_for_day[c] <= row.capacity[c], (row.day, c)
            assert row.booked[c] == row.requests[c] - row.refused[c], (row.day, c)
            assert row.checked_in[c] <= row.booked_for_day[c]
            for key, n in row.booked_for_day_sessions.get(c, {}).items():
                assert n <= row.capacity_sessions[c][key], (row.day, c, key)
        assert row.walk_ins == row.walk_ins_served + row.walk_ins_turned_away
        assert row.requests["walk_in"] == row.walk_ins
        if not row.open:
            assert all(v == 0 for v in row.capacity.values())
    s = sim.summary
    assert s.online_registrants == sum(r.online_arrivals for r in sim.rows)
    assert s.online_registrants == s.online_given_place + s.online_gave_up + s.online_still_waiting
    assert s.walk_ins == sum(r.walk_ins for r in sim.rows)
    assert all(0 <= u <= 1 for u in s.utilisation.values() if u is not None)
    assert s.wait_p50 is not None
    assert s.wait_p90 is not None
    assert s.wait_max is not None
    assert s.wait_p50 <= s.wait_p90 <= s.wait_max


def test_same_seed_same_result_other_seed_other_result() -> None:
    """Runs are reproducible (booking ids are random, the results do not depend on them)."""
    a = simulate(_rich_office(), RICH, start=MONDAY, days=20, seed=7)
    b = simulate(_rich_office(), RICH, start=MONDAY, days=20, seed=7)
    c = simulate(_rich_office(), RICH, start=MONDAY, days=20, seed=8)
    assert a == b
    assert a.as_rows() == b.as_rows()
    assert a.rows != c.rows


# -- custom policies and comparisons ---------------------------------------------------------


def test_a_custom_policy_runs_unchanged() -> None:
    """examples/custom_policy.py's DailyReleaseQuota: everyone gets the next working day;
    those who try before the 08:00 release are refused (NotYetOpen) and retry."""
    from test_examples import load_example

    example = load_example("custom_policy")
    shop = example.build_office(capacity=20)
    calendar_start = date(2020, 7, 6)  # a Monday without holidays around
    sim = simulate(
        shop,
        Demand(online_per_day=15, poisson=False, online_hours=(time(9), time(17))),
        start=calendar_start,
        days=12,
        seed=2,
    )
    assert set(sim.waits) == {1}
    early = simulate(
        shop,
        Demand(online_per_day=[4] + [0] * 4, online_hours=(time(6), time(7)), retry_days=1),
        start=calendar_start,
        days=5,
        seed=2,
    )
    assert early.rows[0].refused["online"] == 4  # not yet open at 06:00-07:00
    assert early.rows[1].online_retries == 4
    assert early.rows[1].booked["online"] == 0
    assert early.summary.online_gave_up == 4


def test_compare_runs_both_offices_on_the_same_citizens() -> None:
    """Same arrivals on both sides; more places, shorter waits; difference is b - a."""
    small = office(OnlineQuota(capacity=10), WalkInQuota(capacity=5, opens=time(8)))
    big = office(OnlineQuota(capacity=20), WalkInQuota(capacity=5, opens=time(9)))
    cmp = compare(small, big, Demand(online_per_day=15, walk_in_per_day=6), start=MONDAY,
                  days=20, seed=4)  # fmt: skip
    a, b = cmp.a, cmp.b
    assert [r.online_arrivals for r in a.rows] == [r.online_arrivals for r in b.rows]
    assert [r.walk_ins for r in a.rows] == [r.walk_ins for r in b.rows]
    assert a.summary.online_registrants == b.summary.online_registrants
    assert b.summary.wait_max is not None
    assert a.summary.wait_max is not None
    assert b.summary.wait_max < a.summary.wait_max
    assert cmp.difference["wait_max"] == b.summary.wait_max - a.summary.wait_max
    assert cmp.difference["utilisation.online"] == pytest.approx(
        b.summary.utilisation["online"] - a.summary.utilisation["online"]  # type: ignore[operator]
    )


# -- rows for CSV and JSON -------------------------------------------------------------------


def _sim() -> Simulation:
    return simulate(_rich_office(), RICH, start=MONDAY, days=10, seed=1)


def test_as_rows_are_flat_with_the_same_documented_keys_every_day() -> None:
    """Every row has the same keys, in order; values are JSON scalars."""
    rows = _sim().as_rows()
    keys = list(rows[0])
    assert keys[:5] == ["day", "open", "online_demand", "online_capacity", "online_booked_for_day"]
    for name in ("requests.online", "capacity.online.08:00", "booked_for_day.online.10:00",
                 "next_available.priority", "walk_ins_turned_away", "quoted_wait", "wait_mean",
                 "backlog", "waitlist", "checked_in.walk_in"):  # fmt: skip
        assert name in keys
    assert all(list(r) == keys for r in rows)
    for r in rows:
        assert all(v is None or isinstance(v, int | float | str | bool) for v in r.values())
        assert r["online_capacity"] == r["capacity.priority"] + r["capacity.online"]
    assert json.loads(json.dumps(rows)) == rows


def test_as_rows_round_trip_through_csv() -> None:
    """A CSV written with csv.DictWriter reads back to the same cells."""
    rows = _sim().as_rows()
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    back = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["day"] for r in back] == [r["day"] for r in rows]
    assert [int(r["backlog"]) for r in back] == [r["backlog"] for r in rows]


def test_summary_as_dict_is_flat() -> None:
    """utilisation becomes utilisation.<channel>."""
    flat = _sim().summary.as_dict()
    assert {"wait_p50", "wait_p90", "wait_max", "utilisation.online", "days_window_full"} <= set(
        flat
    )


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"online_per_day": -1}, "configuration_error.demand_count"),
        ({"online_per_day": float("nan")}, "configuration_error.demand_count"),
        ({"walk_in_per_day": [1, -2]}, "configuration_error.demand_count"),
        ({"walk_in_per_day": "40"}, "configuration_error.demand_count"),
        ({"online_per_day": [1.5]}, "configuration_error.demand_count"),
        ({"first_day_surge": -5}, "configuration_error.demand_count"),
        ({"first_day_surge": 2.5, "poisson": False}, "configuration_error.demand_count"),
        ({"retry_days": 1.5}, "configuration_error.demand_count"),
        ({"no_show_rate": 1.5}, "configuration_error.demand_rate"),
        ({"cancel_rate": -0.1}, "configuration_error.demand_rate"),
        ({"priority_share": True}, "configuration_error.demand_rate"),
        ({"online_hours": (time(20), time(8))}, "configuration_error.demand_hours"),
        ({"priority_claims": {"group": ""}}, "configuration_error.demand_claims"),
        ({"poisson": 1}, "configuration_error.demand_flag"),
        ({"online_channel": ""}, "configuration_error.demand_channel"),
    ],
)
def test_a_bad_demand_is_refused_with_a_message_key(kwargs: dict[str, object], key: str) -> None:
    """Each mistake names its field and has a message key."""
    with pytest.raises(qq.ConfigurationError) as info:
        Demand(**kwargs)  # type: ignore[arg-type]
    assert info.value.message_key == key
    assert info.value.details["field"] in kwargs


def test_bad_simulate_arguments_are_refused() -> None:
    """Days, seed, start, short counts, channels of the wrong kind."""
    shop = office(OnlineQuota(capacity=5), WalkInQuota(capacity=5))
    demand = Demand(online_per_day=3)
    for kw, key in (
        ({"days": 0}, "configuration_error.simulate_days"),
        ({"seed": "1"}, "configuration_error.simulate_input"),
        ({"start": "2020-06-01"}, None),
    ):
        args: dict[str, object] = {"start": MONDAY, "days": 5, "seed": 1, **kw}
        with pytest.raises(qq.ConfigurationError) as info:
            simulate(shop, demand, **args)  # type: ignore[arg-type]
        assert info.value.message_key == key
    with pytest.raises(qq.ConfigurationError, match="3 counts for 5"):
        simulate(shop, Demand(online_per_day=[1, 2, 3]), start=MONDAY, days=5, seed=1)
    with pytest.raises(qq.UnknownChannel):
        simulate(shop, Demand(online_channel="onlin"), start=MONDAY, days=5, seed=1)
    with pytest.raises(qq.ConfigurationError) as info:
        simulate(shop, Demand(walk_in_channel="online"), start=MONDAY, days=5, seed=1)
    assert info.value.message_key == "configuration_error.simulate_channel"
    walk_only = office(WalkInQuota(capacity=5))
    with pytest.raises(qq.ConfigurationError) as info:
        simulate(walk_only, demand, start=MONDAY, days=5, seed=1)
    assert info.value.message_key == "configuration_error.simulate_channel"


def test_public_names() -> None:
    """queue_quota.simulate exports exactly its public names."""
    import queue_quota.simulate as sim_module

    assert set(sim_module.__all__) == {
        "MAX_DAYS", "CapacityAnswer", "Comparison", "DayRow", "Demand", "Simulation", "Summary",
        "compare", "simulate", "smallest_capacity",
    }  # fmt: skip


def test_smallest_capacity_against_a_hand_calculation() -> None:
    """10 registrations every working day (exact counts), lead 1: 10 places a day give every
    citizen the next working day (wait 1), 9 leave a backlog that grows by 1 a day."""
    import queue_quota as qq
    from queue_quota.policies import OnlineQuota
    from queue_quota.simulate import Demand, smallest_capacity

    office = qq.Office(
        id="hand",
        calendar=qq.WorkingCalendar(weekmask="1111100", tz="Asia/Jakarta"),
        policies=[OnlineQuota(capacity=3, lead_days=1, horizon_days=30, per_citizen=None)],
    )
    demand = Demand(online_per_day=[10 if d % 7 < 5 else 0 for d in range(21)], poisson=False)
    found = smallest_capacity(office, demand, max_wait=1, start=date(2020, 6, 1), days=21, seed=7)
    assert found is not None
    assert found.capacity == 10
    assert found.simulation.summary.wait_max == 1
    assert found.below is not None
    assert (found.below.summary.wait_max or 0) > 1
    assert smallest_capacity(office, demand, max_wait=3, start=date(2020, 6, 1), days=21, seed=7)
