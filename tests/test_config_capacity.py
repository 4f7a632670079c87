"""Office files and the capacity model: sessions, pools, claims, places limits and
takes_unused; the canonical example file; the JSON Schema as the one structural check."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

import queue_quota as qq
from queue_quota import config
from queue_quota._demo_capacity import capacity_office
from queue_quota._messages import CATALOGUES
from queue_quota.config import OfficeFileError, load_office, loads_office, office_from_dict
from queue_quota.errors import NotEligible, QuotaExhausted
from queue_quota.i18n import describe
from queue_quota.policies import OnlineQuota
from queue_quota.storage import MemoryStorage

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LOKET = EXAMPLES / "loket.toml"
WIB = ZoneInfo("Asia/Jakarta")
SECRET = b"office-file-capacity-test-secret-32b"

BASE = """\
[office]
id = "tegal-loket"
timezone = "Asia/Jakarta"

[[policy]]
type = "online"
capacity = 25
max_places = 4
sessions = [
    { start = 08:00:00, end = 10:00:00, capacity = 15 },
    { start = 10:00:00, end = 12:00:00, capacity = 15 },
]

[[policy]]
type = "online"
channel = "priority"
prefix = "P"
capacity = 30
requires_claim = "group"

[[policy]]
type = "walk_in"
capacity = 10
opens = 07:30:00
closes = 12:00:00
takes_unused = { online = 10:00:00 }

[[pool]]
name = "loket"
capacity = 30
channels = ["online", "priority"]
"""


# -- the canonical example ---------------------------------------------------------------


def test_loket_example_equals_the_demo_office() -> None:
    """examples/loket.toml is the Office of the demo's second part, field by field (titles
    and takes_unused are not part of attrs equality: compared here one by one)."""
    office, expected = load_office(LOKET), capacity_office()
    assert office == expected
    assert office.pools == expected.pools
    for mine, theirs in zip(office.policies, expected.policies, strict=True):
        assert getattr(mine, "title", None) == getattr(theirs, "title", None)
        assert getattr(mine, "takes_unused", {}) == getattr(theirs, "takes_unused", {})
        assert getattr(mine, "sessions", ()) == getattr(theirs, "sessions", ())


def _story(office: qq.Office) -> list[object]:
    """The demo's scenario on a fresh memory storage: what each request got."""
    sched = qq.Scheduler(office, MemoryStorage(), secret=SECRET)
    thursday = datetime(2020, 6, 4, 9, 0, tzinfo=WIB)
    seen: list[object] = []
    family = sched.book("online", "3328011111110001", now=thursday, places=3)
    seen.append((family.label, family.day, family.window, family.places))
    for i in range(23):
        b = sched.book("online", f"33280122{i:08d}", now=thursday)
        seen.append((b.label, b.day, b.window))
    for i in range(6):
        b = sched.book("priority", f"33280133{i:08d}", now=thursday, claims={"group": "lansia"})
        seen.append((b.label, b.day))
    with pytest.raises(NotEligible):
        sched.book("priority", "3328014444440001", now=thursday)
    (friday,) = sched.availability("online", date(2020, 6, 5), date(2020, 6, 6), now=thursday)
    seen.append([(s.start, s.booked, s.remaining) for s in friday.sessions])
    at_ten = datetime(2020, 6, 8, 10, 0, tzinfo=WIB)
    served = 0
    try:
        while served < 100:
            sched.book("walk_in", now=at_ten)
            served += 1
    except QuotaExhausted as exc:
        seen.append((served, exc.code))
    return seen


def test_loket_example_behaves_as_the_demo_office() -> None:
    """The same requests get the same days, windows, numbers and refusals from the file's
    office as from the Python one; the story is the demo's (pool, sessions, unused places)."""
    from_file, by_hand = _story(load_office(LOKET)), _story(capacity_office())
    assert from_file == by_hand
    assert from_file[-1][0] > 10  # type: ignore[index]  # walk-ins took online places nobody booked on Monday


def test_every_example_file_is_valid_under_the_shipped_schema() -> None:
    """Editors and CI can check the examples with the schema alone (TOML turned to JSON)."""
    validator = jsonschema.Draft202012Validator(config.schema())
    for path in sorted(EXAMPLES.glob("*.toml")):
        data = json.loads(json.dumps(tomllib.loads(path.read_text("utf-8")), default=str))
        assert list(validator.iter_errors(data)) == [], path.name


# -- new keys ------------------------------------------------------------------------------


def test_sessions_claims_places_and_office_limit_reach_the_office() -> None:
    """Sessions (sorted by start), requires_claim, max_places, takes_unused, pools with a
    capacity table and [office] per_citizen arrive as the Python API has them."""
    text = BASE.replace('timezone = "Asia/Jakarta"', 'timezone = "Asia/Jakarta"\nper_citizen = 2')
    text = text.replace(
        "capacity = 30\nchannels", "capacity = { default = 30, weekdays = { fri = 20 } }\nchannels"
    )
    office = loads_office(text)
    online = office.policy("online")
    assert [s.window for s in online.sessions] == [(time(8), time(10)), (time(10), time(12))]  # type: ignore[attr-defined]
    assert online.max_places == 4  # type: ignore[attr-defined]
    assert office.policy("priority").requires_claim == "group"  # type: ignore[attr-defined]
    assert office.policy("walk_in").takes_unused == {"online": time(10)}  # type: ignore[attr-defined]
    assert office.per_citizen == 2
    (pool,) = office.pools
    assert (pool.name, pool.channels) == ("loket", ("online", "priority"))
    assert [pool.capacity_on(date(2020, 6, d)) for d in (4, 5)] == [30, 20]
    assert loads_office(BASE).per_citizen is None


def test_office_from_dict_takes_python_values() -> None:
    """Times as datetime.time, weekday keys as ints, tuples for arrays all work."""
    data: dict[str, Any] = tomllib.loads(BASE)
    data["policy"][0]["capacity"] = {"default": 25, "weekdays": {4: 20}}
    data["pool"][0]["channels"] = ("online", "priority")
    data["policy"][2]["takes_unused"] = {"online": time(10, 30)}
    office = office_from_dict(data)
    assert office.policy("online").capacity_on(date(2020, 6, 5)) == 20
    assert office.policy("walk_in").takes_unused == {"online": time(10, 30)}  # type: ignore[attr-defined]


def test_a_session_may_hold_as_many_as_its_day_and_sessions_may_sum_to_more() -> None:
    """Two windows of 15 in a day of 25 (flexible windows), or one of 25, are fine."""
    assert loads_office(BASE).policy("online").capacity_on(date(2020, 6, 5)) == 25
    loads_office(BASE.replace("end = 10:00:00, capacity = 15", "end = 10:00:00, capacity = 25"))


# -- mistakes -------------------------------------------------------------------------------

S0 = "{ start = 08:00:00, end = 10:00:00, capacity = 15 }"
SESSIONS = BASE[BASE.index("sessions = [") : BASE.index("]\n", BASE.index("sessions = [")) + 1]
ON_12 = '{ "2020-06-12" = 30 }'
BROKEN = [
    pytest.param(S0, S0.replace("start", "strat"), "policy[0].sessions[0].strat",
                 "did you mean 'start'", id="session-typo"),
    pytest.param(S0, S0.replace(", capacity = 15", ""), "policy[0].sessions[0].capacity",
                 "missing", id="session-no-capacity"),
    pytest.param(S0, S0.replace("end = 10", "end = 07"), "policy[0].sessions[0].end",
                 "expected a time after start (08:00)", id="session-backwards"),
    pytest.param(S0, S0.replace("end = 10:00:00", 'end = "10.00"'),
                 "policy[0].sessions[0].end", "expected a local time", id="session-time"),
    pytest.param(S0, S0.replace("end = 10:00:00", "end = 11:00:00"), "policy[0].sessions[1]",
                 "does not overlap policy[0].sessions[0] (08:00-11:00), got 10:00-12:00",
                 id="session-overlap"),
    pytest.param(S0, S0.replace("capacity = 15", "capacity = 26"),
                 "policy[0].sessions[0].capacity",
                 "expected at most the channel's places on a day (25 on Mondays), got 26",
                 id="session-larger-than-day"),
    pytest.param(S0, S0.replace("capacity = 15", f"capacity = {{ default = 5, dates = {ON_12} }}"),
                 "policy[0].sessions[0].capacity", "(25 on 2020-06-12), got 30",
                 id="session-larger-on-a-date"),
    pytest.param(S0, S0.replace("capacity = 15", "capacity = -1"),
                 "policy[0].sessions[0].capacity", "integer >= 0", id="session-negative"),
    pytest.param(SESSIONS, "sessions = 3", "policy[0].sessions",
                 "expected an array of session tables", id="sessions-type"),
    pytest.param("takes_unused", 'sessions = [{ start = 07:00:00, end = 08:00:00, capacity = 5 }]'
                 "\ntakes_unused", "policy[2].sessions[0]",
                 "within the opening hours (07:30-12:00, opens .. closes), got 07:00-08:00",
                 id="walk-in-session-outside-hours"),
    pytest.param("online = 10:00:00", "onlin = 10:00:00", "policy[2].takes_unused.onlin",
                 "unknown channel \"onlin\" (did you mean 'online'?)", id="unused-unknown"),
    pytest.param("online = 10:00:00", "walk_in = 10:00:00", "policy[2].takes_unused.walk_in",
                 "expected another channel than the walk-in's own", id="unused-itself"),
    pytest.param("online = 10:00:00", "online = 13:00:00", "policy[2].takes_unused.online",
                 "expected a time before closes (12:00)", id="unused-after-closing"),
    pytest.param("online = 10:00:00", "online = 10", "policy[2].takes_unused.online",
                 "expected a local time", id="unused-not-a-time"),
    pytest.param("online = 10:00:00", "Online = 10:00:00", "policy[2].takes_unused.Online",
                 "expected a channel name", id="unused-bad-name"),
    pytest.param('requires_claim = "group"', "requires_claim = 5", "policy[1].requires_claim",
                 "expected the name of a claim", id="claim-type"),
    pytest.param('requires_claim = "group"', 'requires_claim = " "', "policy[1].requires_claim",
                 "expected the name of a claim", id="claim-blank"),
    pytest.param("max_places = 4", "max_places = 0", "policy[0].max_places", "integer >= 1",
                 id="max-places"),
    pytest.param('"online", "priority"]', '"online", "priorty"]', "pool[0].channels[1]",
                 "unknown channel \"priorty\" (did you mean 'priority'?)", id="pool-channel"),
    pytest.param('"online", "priority"]', '"online", "online"]', "pool[0].channels",
                 "each once", id="pool-channel-twice"),
    pytest.param('channels = ["online", "priority"]', "channels = []", "pool[0].channels",
                 "non-empty array", id="pool-no-channels"),
    pytest.param('channels = ["online"', 'channel = ["online"', "pool[0].channel",
                 "did you mean 'channels'", id="pool-typo"),
    pytest.param('name = "loket"', 'name = "Loket"', "pool[0].name", "expected a pool name",
                 id="pool-name"),
    pytest.param('name = "loket"\n', "", "pool[0].name", "missing", id="pool-no-name"),
    pytest.param("capacity = 30\nchannels", "capacity = { defualt = 30 }\nchannels",
                 "pool[0].capacity.defualt", "did you mean 'default'", id="pool-capacity"),
    pytest.param('"Asia/Jakarta"', '"Asia/Jakarta"\nper_citizen = 0', "office.per_citizen",
                 'an integer >= 1 or "unlimited"', id="office-per-citizen"),
    pytest.param('"Asia/Jakarta"', '"Asia/Jakarta"\nper_citzen = 1', "office.per_citzen",
                 "did you mean 'per_citizen'", id="office-typo"),
]  # fmt: skip


def _duplicate_pool(text: str) -> str:
    return text + '\n[[pool]]\nname = "loket"\ncapacity = 5\nchannels = ["walk_in"]\n'


@pytest.mark.parametrize(("old", "new", "key", "fragment"), BROKEN)
def test_each_capacity_mistake_names_file_key_and_fix(
    old: str, new: str, key: str, fragment: str
) -> None:
    """A mistake in the new keys names the file, the key path and what was expected, and
    reads in Indonesian without the English reason."""
    assert old in BASE
    with pytest.raises(OfficeFileError) as info:
        loads_office(BASE.replace(old, new, 1), source="loket.toml")
    err = info.value
    assert (err.source, err.key) == ("loket.toml", key)
    assert str(err).startswith(f"loket.toml: {key}: ")
    assert fragment in str(err)
    indonesian = describe(err, "id")
    assert indonesian.startswith(f"Konfigurasi tidak valid: loket.toml: {key}: ")
    assert err.reason not in indonesian


def test_pool_must_be_an_array_of_tables() -> None:
    """pool = 1 is refused at key "pool", saying what the key holds."""
    pools = BASE[BASE.index("[[pool]]") :]
    with pytest.raises(
        OfficeFileError, match=r"expected an array of tables \(\[\[pool\]\]"
    ) as info:
        loads_office("pool = 1\n" + BASE.replace(pools, ""))
    assert info.value.key == "pool"


def test_two_pools_with_one_name() -> None:
    """A pool's name is its own."""
    with pytest.raises(OfficeFileError, match="already the name of pool\\[0\\]") as info:
        loads_office(_duplicate_pool(BASE), source="loket.toml")
    assert info.value.key == "pool[1].name"
    assert "sudah dipakai oleh pool[0]" in describe(info.value, "id")


def test_the_first_mistake_in_file_order_is_reported() -> None:
    """With several mistakes, the one earliest in the file; in a table, an unknown key
    before a missing one."""
    text = BASE.replace("max_places = 4", "max_places = 0").replace(
        "capacity = 10", "capacity = -1"
    )
    with pytest.raises(OfficeFileError) as info:
        loads_office(text)
    assert info.value.key == "policy[0].max_places"
    with pytest.raises(OfficeFileError) as info:
        loads_office(BASE.replace('name = "loket"\n', 'nme = "loket"\n'))
    assert info.value.key == "pool[0].nme"


# -- the schema --------------------------------------------------------------------------------


def test_schema_is_a_valid_draft_2020_12_schema_whose_message_keys_exist() -> None:
    """The shipped schema passes the metaschema, and every x-message it names is a
    catalogue key in every language."""
    schema = config.schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "x-message" in node:
                found.add(f"office_file.{node['x-message']}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert found
    for lang, catalogue in CATALOGUES.items():
        assert found <= set(catalogue), lang


def test_schema_names_the_keys_of_sessions_and_pools() -> None:
    """The key sets the loader and the docs use are the schema's own."""
    assert {"start", "end", "capacity"} == config.SESSION_KEYS
    assert {"name", "capacity", "channels"} == config.POOL_KEYS
    assert {"sessions", "requires_claim", "max_places"} <= config.ONLINE_KEYS
    assert {"opens", "closes", "takes_unused"} == config.WALK_IN_KEYS - config.ONLINE_KEYS
    assert "per_citizen" in config.OFFICE_KEYS


def test_reference_page_documents_sessions_and_pools() -> None:
    """docs/reference/office-file.md has a table of the session and the pool keys."""
    text = (EXAMPLES.parent / "docs" / "reference" / "office-file.md").read_text("utf-8")
    for title, keys in (("## Sessions", config.SESSION_KEYS), ("## `[[pool]]`", config.POOL_KEYS)):
        section = text.split(title, 1)[1].split("\n## ", 1)[0]
        for key in keys:
            assert f"| `{key}` |" in section, (title, key)


# -- custom types keep working -------------------------------------------------------------


def _custom(*, capacity: qq.CapacityCalendar, sessions: object = None) -> OnlineQuota:
    assert sessions == [{"start": time(8), "end": time(9), "capacity": 5}]
    return OnlineQuota(capacity, channel="custom", prefix="C")


@pytest.fixture
def custom_type() -> Any:
    config.register_policy_type("custom_cap", _custom)
    yield
    config.unregister_policy_type("custom_cap")


@pytest.mark.usefixtures("custom_type")
def test_a_registered_type_gets_its_keys_as_toml_gives_them_and_may_be_pooled() -> None:
    """A custom type's table reaches its factory as written (only capacity converted,
    and checked by the schema); a pool may name its channel."""
    text = BASE + (
        '\n[[policy]]\ntype = "custom_cap"\ncapacity = 5\n'
        "sessions = [{ start = 08:00:00, end = 09:00:00, capacity = 5 }]\n"
    )
    text = text.replace('["online", "priority"]', '["online", "priority", "custom"]')
    office = loads_office(text)
    assert office.pools[0].channels == ("online", "priority", "custom")
    with pytest.raises(OfficeFileError, match="integer >= 0") as info:
        loads_office(text.replace("capacity = 5\nsessions", "capacity = -5\nsessions"))
    assert info.value.key == "policy[3].capacity"


LOKET_TEXT = (Path(__file__).resolve().parents[1] / "examples" / "loket.toml").read_text()


@pytest.mark.parametrize(
    ("old", "new", "key", "indonesian"),
    [
        ('channels = ["online", "priority"]', 'channels = ["onlien", "priority"]',
         "office_file.unknown_channel", 'layanan "onlien" tidak dikenal. Maksud Anda "online"?'),
        ("takes_unused = { online = 10:00:00 }", "takes_unused = { walk_in = 10:00:00 }",
         "office_file.takes_unused_self", "bukan layanan walk-in ini sendiri"),
        ("start = 10:00:00, end = 12:00:00", "start = 09:00:00, end = 12:00:00",
         "office_file.session_overlap",
         "sesi 09.00–12.00 bertumpang tindih dengan sesi 08.00–10.00"),
        ("start = 10:00:00, end = 12:00:00", "start = 10:00:00, end = 09:00:00",
         "office_file.session_end", "sesi harus selesai setelah mulai (10.00), bukan pukul 09.00"),
        ("end = 10:00:00, capacity = 15", "end = 10:00:00, capacity = 26",
         "office_file.session_too_large", "sesi paling banyak 25 orang (kuota harinya), bukan 26"),
    ],
)  # fmt: skip
def test_semantic_mistakes_are_explained_in_indonesian(
    old: str, new: str, key: str, indonesian: str
) -> None:
    """The checks after the schema carry message keys: the Indonesian text is whole."""
    assert old in LOKET_TEXT
    with pytest.raises(OfficeFileError) as caught:
        loads_office(LOKET_TEXT.replace(old, new, 1), source="loket.toml")
    err = caught.value
    assert err.message_key == key
    text = describe(err, "id")
    assert indonesian in text
    assert "expected" not in text
    assert "loket.toml" in text
