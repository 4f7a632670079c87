"""Office files: the example loads, every mistake names the file and the key, plug-ins."""

from __future__ import annotations

from datetime import date, time
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import queue_quota as qq
from queue_quota import _config_registry, config
from queue_quota.config import OfficeFileError, load_office, loads_office
from queue_quota.demo import tegal_office
from queue_quota.i18n import LANGUAGES, channel_text, describe
from queue_quota.policies import OnlineQuota, WalkInQuota

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "tegal.toml"

BASE = """\
[office]
id = "tegal-disdukcapil"
timezone = "Asia/Jakarta"

[calendar]
country = "ID"
categories = ["public", "government"]
weekmask = "1111100"
closures = { "2020-06-10" = "system maintenance" }
openings = [2020-06-13]

[[policy]]
type = "online"
capacity = 20
lead_days = 1
horizon_days = 60

[[policy]]
type = "walk_in"
capacity = 40
opens = 07:30:00
closes = 12:00:00
"""


def _by_hand() -> qq.Office:
    return qq.Office(
        id="tegal-disdukcapil",
        calendar=qq.WorkingCalendar.indonesia(
            tz="Asia/Jakarta",
            closures={date(2020, 6, 10): "system maintenance"},
            openings=[date(2020, 6, 13)],
        ),
        policies=[
            OnlineQuota(capacity=20, lead_days=1, horizon_days=60),
            WalkInQuota(capacity=40, opens=time(7, 30), closes=time(12, 0)),
        ],
    )


@pytest.fixture
def write(tmp_path: Path) -> Any:
    """Writes office files into a temporary directory and returns their paths."""

    def _write(text: str | bytes, name: str = "office.toml") -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return _write


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Isolates the policy-type registry and the entry-point cache of one test."""
    monkeypatch.setattr(_config_registry, "_registry", {})
    monkeypatch.setattr(_config_registry, "_entry_points", None)


# -- the example file --------------------------------------------------------------------


def test_example_file_equals_the_office_built_by_hand() -> None:
    """examples/tegal.toml gives exactly the Office of the design document."""
    office = load_office(EXAMPLE)
    expected = _by_hand()
    assert office.policies == expected.policies
    assert office.calendar.closures == {date(2020, 6, 10): "system maintenance"}
    assert office.calendar.openings == frozenset({date(2020, 6, 13)})
    assert office.calendar.tz_name == "Asia/Jakarta"
    assert office.calendar.weekmask == "1111100"
    assert office == expected


def test_example_file_equals_the_built_in_demo_office() -> None:
    """The command line's built-in default office is the one in examples/tegal.toml."""
    assert load_office(EXAMPLE) == tegal_office()


def test_example_calendar_has_indonesian_holidays_and_cuti_bersama() -> None:
    """country = "ID" with government closes cuti bersama, named in Indonesian."""
    cal = load_office(EXAMPLE).calendar
    assert cal.closure_reason(date(2020, 12, 25)) == "Hari Raya Natal"
    assert cal.closure_reason(date(2020, 12, 24)) == "Cuti Bersama Hari Raya Natal"
    assert cal.is_working_day(date(2020, 6, 13))  # the special opening, a Saturday
    assert not cal.is_working_day(date(2020, 6, 10))


def test_loads_office_accepts_text_and_path_like() -> None:
    """loads_office and load_office(str) agree with load_office(Path)."""
    assert loads_office(EXAMPLE.read_text(encoding="utf-8")) == load_office(str(EXAMPLE))


def test_capacity_table_with_weekdays_dates_and_rules() -> None:
    """A capacity table gives date > rule > weekday > default, weekdays by number or name."""
    text = BASE.replace(
        "capacity = 20\n",
        "capacity = { default = 20, weekdays = { 4 = 10, sat = 5 }, "
        'dates = { "2020-06-12" = 3 }, '
        'rules = [{ rrule = "FREQ=MONTHLY;BYDAY=-1FR", capacity = 7 }] }\n',
    )
    policy = loads_office(text).policy("online")
    assert policy.capacity_on(date(2020, 6, 11)) == 20  # Thursday: default
    assert policy.capacity_on(date(2020, 6, 5)) == 10  # Friday: weekday override
    assert policy.capacity_on(date(2020, 6, 13)) == 5  # Saturday, by name
    assert policy.capacity_on(date(2020, 6, 26)) == 7  # last Friday of June: rule
    assert policy.capacity_on(date(2020, 6, 12)) == 3  # date override beats the weekday


def test_optional_keys_of_the_built_in_policies() -> None:
    """channel, prefix and per_citizen ("unlimited") reach the policies; strings work as times."""
    text = BASE.replace(
        "horizon_days = 60\n",
        'horizon_days = 30\nper_citizen = "unlimited"\nchannel = "web"\nprefix = "W"\n',
    ).replace("opens = 07:30:00", 'opens = "07:00"\nper_citizen = 2')
    office = loads_office(text)
    web = office.policy("web")
    assert isinstance(web, OnlineQuota)
    assert (web.horizon_days, web.per_citizen, web.prefix) == (30, None, "W")
    walk = office.policy("walk_in")
    assert isinstance(walk, WalkInQuota)
    assert (walk.opens, walk.per_citizen) == (time(7, 0), 2)


def test_no_show_sanction_keys_reach_the_online_policy() -> None:
    """no_show_limit, no_show_window_days and suspension_days load; absent: no sanction."""
    text = BASE.replace(
        "horizon_days = 60\n",
        "horizon_days = 60\nno_show_limit = 3\nno_show_window_days = 60\nsuspension_days = 14\n",
    )
    online = loads_office(text).policy("online")
    assert isinstance(online, OnlineQuota)
    sanction = (online.no_show_limit, online.no_show_window_days, online.suspension_days)
    assert sanction == (3, 60, 14)
    plain = loads_office(BASE).policy("online")
    assert isinstance(plain, OnlineQuota)
    assert (plain.no_show_limit, plain.no_show_window_days, plain.suspension_days) == (None, 90, 30)
    assert {"no_show_limit", "no_show_window_days", "suspension_days"} <= config.ONLINE_KEYS
    assert not {"no_show_limit", "suspension_days"} & config.WALK_IN_KEYS


def test_without_calendar_table_monday_to_friday_without_holidays() -> None:
    """An office file without [calendar] works Monday to Friday, holidays included."""
    text = BASE.split("[calendar]")[0] + '[[policy]]\ntype = "online"\ncapacity = 5\n'
    cal = loads_office(text).calendar
    assert cal.is_working_day(date(2020, 12, 25))
    assert not cal.is_working_day(date(2020, 12, 26))


def test_calendar_language_option_changes_holiday_names() -> None:
    """language = "en_US" names the holidays in English."""
    text = BASE.replace('weekmask = "1111100"', 'weekmask = "1111100"\nlanguage = "en_US"')
    assert loads_office(text).calendar.closure_reason(date(2020, 12, 25)) == "Christmas Day"


# -- every mistake -------------------------------------------------------------------------

BROKEN = [
    pytest.param("[[policy]]\n", "[[polcy]]\n", "polcy", "did you mean 'policy'", id="typo-root"),
    pytest.param('id = "tegal-disdukcapil"\n', "", "office.id", "missing", id="missing-id"),
    pytest.param(
        'id = "tegal-disdukcapil"', "id = 42", "office.id", "expected an office id", id="id-type"
    ),
    pytest.param(
        'id = "tegal-disdukcapil"', 'id = "tegal disdukcapil"', "office.id", "office id", id="id"
    ),
    pytest.param(
        '"Asia/Jakarta"', '"Asia/Jakata"', "office.timezone", "IANA time zone", id="bad-zone"
    ),
    pytest.param(
        "closures = {", "closure = {", "calendar.closure", "did you mean 'closures'", id="typo"
    ),
    pytest.param('country = "ID"', 'country = "XX"', "calendar.country", "country", id="country"),
    pytest.param(
        '"public", "government"]',
        '"public", "cuti"]',
        "calendar.categories[1]",
        "category of ID",
        id="category",
    ),
    pytest.param(
        'weekmask = "1111100"',
        'weekmask = "1111100"\nlanguage = "fr"',
        "calendar.language",
        "language",
        id="language",
    ),
    pytest.param('"1111100"', '"11111"', "calendar.weekmask", "weekmask", id="weekmask"),
    pytest.param(
        '"2020-06-10" =', '"2020-02-30" =', "calendar.closures.2020-02-30", "date", id="bad-date"
    ),
    pytest.param(
        '= "system maintenance"', '= ""', "calendar.closures.2020-06-10", "reason", id="reason"
    ),
    pytest.param(
        "openings = [2020-06-13]",
        'openings = ["13-06-2020"]',
        "calendar.openings[0]",
        "expected a date",
        id="opening",
    ),
    pytest.param(
        "openings = [2020-06-13]",
        "openings = [2020-06-13T08:00:00]",
        "calendar.openings[0]",
        "date-time",
        id="opening-datetime",
    ),
    pytest.param('type = "online"', 'type = "onlien"', "policy[0].type", "'online'", id="type"),
    pytest.param("capacity = 20\n", "", "policy[0].capacity", "missing", id="no-capacity"),
    pytest.param(
        "capacity = 20", 'capacity = "20"', "policy[0].capacity", "integer >= 0", id="cap-type"
    ),
    pytest.param("capacity = 20", "capacity = -1", "policy[0].capacity", ">= 0", id="negative"),
    pytest.param(
        "capacity = 40",
        "capacity = { default = 40, weekdays = { 7 = 10 } }",
        "policy[1].capacity.weekdays.7",
        "expected a weekday, 0 (Monday) .. 6 (Sunday)",
        id="weekday",
    ),
    pytest.param(
        "capacity = 20",
        'capacity = { default = 20, dates = { "2020-06-12" = -5 } }',
        "policy[0].capacity.dates.2020-06-12",
        ">= 0",
        id="date-capacity",
    ),
    pytest.param(
        "capacity = 20",
        "capacity = { defualt = 20 }",
        "policy[0].capacity.defualt",
        "did you mean 'default'",
        id="capacity-typo",
    ),
    pytest.param(
        "capacity = 20",
        'capacity = { default = 20, rules = [{ rrule = "FREQ=SOMETIMES", capacity = 1 }] }',
        "policy[0].capacity.rules[0].rrule",
        "RFC 5545",
        id="rrule",
    ),
    pytest.param(
        "lead_days = 1", "lead_day = 1", "policy[0].lead_day", "did you mean 'lead_days'", id="lead"
    ),
    pytest.param(
        "horizon_days = 60", "horizon_days = 6.5", "policy[0].horizon_days", "integer", id="float"
    ),
    pytest.param(
        "horizon_days = 60",
        "horizon_days = 60\nper_citizen = 0",
        "policy[0].per_citizen",
        "unlimited",
        id="per-citizen",
    ),
    pytest.param(
        "horizon_days = 60",
        "horizon_days = 60\nno_show_limit = 0",
        "policy[0].no_show_limit",
        "an integer >= 1, got 0",
        id="no-show-limit",
    ),
    pytest.param(
        "horizon_days = 60",
        'horizon_days = 60\nsuspension_days = "30"',
        "policy[0].suspension_days",
        "an integer >= 1",
        id="suspension-days",
    ),
    pytest.param(
        "closes = 12:00:00",
        "closes = 12:00:00\nno_show_limit = 2",
        "policy[1].no_show_limit",
        'for type "walk_in"',
        id="no-show-limit-of-walk-in",
    ),
    pytest.param("opens = 07:30:00", 'opens = "7.30"', "policy[1].opens", "local time", id="time"),
    pytest.param(
        "closes = 12:00:00", "closes = 07:00:00", "policy[1].closes", "after opens", id="closes"
    ),
    pytest.param(
        "closes = 12:00:00",
        'closes = 12:00:00\nprefix = "A"',
        "policy[1].prefix",
        "already the prefix of policy[0]",
        id="same-prefix",
    ),
    pytest.param(
        "horizon_days = 60",
        'horizon_days = 60\nprefix = "a"',
        "policy[0].prefix",
        "upper-case",
        id="prefix",
    ),
    pytest.param(
        "closes = 12:00:00",
        "closes = 12:00:00\nlead_days = 1",
        "policy[1].lead_days",
        'for type "walk_in"',
        id="key-of-other-type",
    ),
    pytest.param(
        "lead_days = 1",
        'lead_days = 1\ntitel = "Prioritas"',
        "policy[0].titel",
        "did you mean 'title'",
        id="title-typo",
    ),
    pytest.param(
        "lead_days = 1",
        "lead_days = 1\ntitle = 5",
        "policy[0].title",
        'table of texts by language such as { id = "Prioritas", en = "Priority" }, got 5',
        id="title-type",
    ),
    pytest.param(
        "lead_days = 1",
        'lead_days = 1\ntitle = "  "',
        "policy[0].title",
        'expected a non-empty string or a table of texts by language such as { id = "Prioritas"',
        id="title-blank",
    ),
    pytest.param(
        "lead_days = 1",
        "lead_days = 1\ntitle = {}",
        "policy[0].title",
        "got a table",
        id="title-empty-table",
    ),
    pytest.param(
        "closes = 12:00:00",
        'closes = 12:00:00\ntitle = { ind = "Loket" }',
        "policy[1].title.ind",
        "unknown language (did you mean 'id'?); expected one of: id, en",
        id="title-language",
    ),
    pytest.param(
        "closes = 12:00:00",
        'closes = 12:00:00\ntitle = { id = "Loket", en = 3 }',
        "policy[1].title.en",
        "expected the channel's name in this language (a non-empty string), got 3",
        id="title-text",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "fragment"), BROKEN)
def test_each_mistake_names_file_and_key(
    write: Any, old: str, new: str, key: str, fragment: str
) -> None:
    """A broken office file raises OfficeFileError naming the file, the key and the fix."""
    assert old in BASE
    path = write(BASE.replace(old, new, 1))
    with pytest.raises(OfficeFileError) as info:
        load_office(path)
    err = info.value
    assert isinstance(err, qq.ConfigurationError)
    assert err.source == str(path)
    assert err.key == key
    assert str(err).startswith(f"{path}: {key}: ")
    assert fragment in str(err)


@pytest.mark.parametrize(("old", "new", "key", "fragment"), BROKEN)
def test_each_mistake_is_described_in_indonesian_without_english(
    write: Any, old: str, new: str, key: str, fragment: str
) -> None:
    """In Indonesian, a mistake names the file and the key, and shows no English reason."""
    path = write(BASE.replace(old, new, 1))
    with pytest.raises(OfficeFileError) as info:
        load_office(path)
    text = describe(info.value, "id")
    where = f"Konfigurasi tidak valid: {path}: {key}: "
    assert text.startswith(where)
    assert fragment not in text.removeprefix(where)
    assert info.value.reason not in text
    assert str(info.value) in describe(info.value, "en")


def test_common_mistakes_say_what_is_wrong_in_indonesian(write: Any, tmp_path: Path) -> None:
    """Unknown keys (with "did you mean"), missing keys, bad numbers, a missing file and
    invalid TOML are explained in Indonesian, not only located."""
    cases = {
        BASE.replace("lead_days = 1", "lead_day = 1"): (
            'kunci tidak dikenal. Maksud Anda "lead_days"? Kunci yang dikenal: "capacity", '
        ),
        BASE.replace('id = "tegal-disdukcapil"\n', ""): "office.id: kunci ini wajib ada.",
        BASE.replace("capacity = 40", "capacity = -4"): (
            "policy[1].capacity: harus bilangan bulat 0 atau lebih, bukan -4."
        ),
        BASE.replace("capacity = 40", 'capacity = 40\ntitle = { en = "Counter", idn = "x" }'): (
            'policy[1].title.idn: bahasa tidak dikenal. Maksud Anda "id"? Bahasa yang dikenal: '
            '"id", "en".'
        ),
        BASE.replace("lead_days = 1", "lead_days = = 1"): "bukan TOML yang valid (baris 15,",
    }
    for text, expected in cases.items():
        with pytest.raises(OfficeFileError) as info:
            load_office(write(text))
        assert expected in describe(info.value, "id")
    with pytest.raises(OfficeFileError) as missing:
        load_office(tmp_path / "nope.toml")
    assert (
        describe(missing.value, "id") == f"Berkas kantor {tmp_path / 'nope.toml'} tidak ditemukan."
    )


def test_title_as_one_text_or_per_language() -> None:
    """title = "..." names the channel in every language; a table per language, and a
    language left out falls back to the built-in name."""
    text = BASE.replace("lead_days = 1", 'lead_days = 1\ntitle = "Prioritas"').replace(
        "capacity = 40", 'capacity = 40\ntitle = { id = "Loket" }'
    )
    office = loads_office(text)
    assert [channel_text(c, "id", office=office) for c in office.channels] == [
        "Prioritas",
        "Loket",
    ]
    assert [channel_text(c, "en", office=office) for c in office.channels] == [
        "Prioritas",
        "walk-in",
    ]
    both = loads_office(
        BASE.replace(
            "lead_days = 1", 'lead_days = 1\ntitle = { id = " Prioritas ", en = "Priority" }'
        )
    )
    assert both.policies[0].title == {"id": "Prioritas", "en": "Priority"}  # type: ignore[attr-defined]
    assert loads_office(BASE).policies[0].title is None  # type: ignore[attr-defined]


def test_invalid_toml_names_line_and_column(write: Any) -> None:
    """A TOML syntax error is reported with the file, its line and its column."""
    path = write(BASE.replace("lead_days = 1", "lead_days = = 1"))
    with pytest.raises(OfficeFileError) as info:
        load_office(path)
    assert info.value.key is None
    assert str(info.value).startswith(f"{path}: invalid TOML")
    assert "line 15" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is a ConfigurationError naming it, not a FileNotFoundError."""
    path = tmp_path / "nope.toml"
    with pytest.raises(OfficeFileError, match="no such file") as info:
        load_office(path)
    assert info.value.source == str(path)


def test_directory_and_non_utf8_file(tmp_path: Path, write: Any) -> None:
    """A directory, or a file that is not UTF-8, is refused with a clear message."""
    with pytest.raises(OfficeFileError, match="directory"):
        load_office(tmp_path)
    with pytest.raises(OfficeFileError, match="UTF-8"):
        load_office(write(BASE.encode() + b"\n# \xff\n"))


def test_loads_office_names_its_source() -> None:
    """loads_office errors name the given source instead of a file."""
    with pytest.raises(OfficeFileError) as info:
        loads_office(BASE.replace('"Asia/Jakarta"', '"Mars/Olympus"'), source="db:office/7")
    assert str(info.value).startswith("db:office/7: office.timezone: ")


def test_policy_must_be_a_non_empty_array_of_tables() -> None:
    """A single [policy] table, or an empty array, is refused at key "policy"."""
    head = BASE.split("[[policy]]")[0]
    with pytest.raises(OfficeFileError, match=r"array of tables \(\[\[policy\]\]") as info:
        loads_office(head + '[policy]\ntype = "online"\ncapacity = 5\n')
    assert info.value.key == "policy"
    with pytest.raises(OfficeFileError, match="at least one") as info:
        loads_office("policy = []\n" + head)
    assert info.value.key == "policy"


# -- custom policy types -------------------------------------------------------------------


def _priority(*, capacity: qq.CapacityCalendar, prefix: str = "P", days: int = 1) -> OnlineQuota:
    """A custom factory: an online-like channel named "priority"."""
    return OnlineQuota(capacity, lead_days=days, channel="priority", prefix=prefix)


CUSTOM = BASE + '\n[[policy]]\ntype = "priority"\ncapacity = { default = 4 }\ndays = 2\n'


@pytest.mark.usefixtures("clean_registry")
def test_registered_policy_type_is_built_from_its_table() -> None:
    """A registered type receives its keys, with capacity as a CapacityCalendar."""
    config.register_policy_type("priority", _priority)
    office = loads_office(CUSTOM)
    policy = office.policy("priority")
    assert isinstance(policy, OnlineQuota)
    assert policy.capacity == qq.CapacityCalendar(4)
    assert policy.lead_days == 2
    assert office.channels == ("online", "walk_in", "priority")
    assert "priority" in config.policy_types()


@pytest.mark.usefixtures("clean_registry")
def test_unknown_key_of_a_custom_type_is_named() -> None:
    """Keys a custom factory does not accept are reported as unknown keys."""
    config.register_policy_type("priority", _priority)
    with pytest.raises(OfficeFileError) as info:
        loads_office(CUSTOM.replace("days = 2", "dayz = 2"))
    assert info.value.key == "policy[2].dayz"
    assert "did you mean 'days'" in str(info.value)


@pytest.mark.usefixtures("clean_registry")
def test_factory_returning_a_non_policy_is_refused() -> None:
    """A factory must return a QuotaPolicy."""
    config.register_policy_type("priority", lambda **_: object())  # type: ignore[arg-type]
    with pytest.raises(OfficeFileError, match="does not implement QuotaPolicy") as info:
        loads_office(CUSTOM)
    assert info.value.key == "policy[2].type"


@pytest.mark.usefixtures("clean_registry")
def test_registration_rules() -> None:
    """Built-in names are reserved; re-registering needs replace=True; unregister forgets."""
    with pytest.raises(qq.ConfigurationError, match="built-in"):
        config.register_policy_type("online", _priority)
    with pytest.raises(qq.ConfigurationError, match="lower-case"):
        config.register_policy_type("Priority", _priority)
    config.register_policy_type("priority", _priority)
    with pytest.raises(qq.ConfigurationError, match="already registered"):
        config.register_policy_type("priority", lambda **kw: _priority(**kw))
    config.register_policy_type("priority", _priority, replace=True)
    config.unregister_policy_type("priority")
    with pytest.raises(OfficeFileError, match="unknown policy type"):
        loads_office(CUSTOM)


@pytest.mark.usefixtures("clean_registry")
def test_entry_points_are_found_lazily(monkeypatch: pytest.MonkeyPatch) -> None:
    """Entry points of group queue_quota.policies are loaded only when a file names them."""
    eps = [
        metadata.EntryPoint("extra", "queue_quota.policies:OnlineQuota", config.ENTRY_POINT_GROUP),
        metadata.EntryPoint("broken", "no_such_module_qq:factory", config.ENTRY_POINT_GROUP),
    ]
    calls: list[str] = []

    def entry_points(*, group: str) -> list[metadata.EntryPoint]:
        calls.append(group)
        return eps

    monkeypatch.setattr("queue_quota._config_registry.metadata.entry_points", entry_points)
    loads_office(BASE)
    assert calls == []  # built-in types never look at entry points
    text = BASE + '\n[[policy]]\ntype = "extra"\ncapacity = 3\nchannel = "extra"\nprefix = "E"\n'
    assert loads_office(text).policy("extra").capacity_on(date(2020, 6, 5)) == 3
    assert calls == [config.ENTRY_POINT_GROUP]
    with pytest.raises(OfficeFileError, match="cannot load policy type 'broken'") as info:
        loads_office(text.replace('type = "extra"', 'type = "broken"'))
    assert info.value.key == "policy[2].type"


# -- the JSON Schema ----------------------------------------------------------------------


def test_schema_is_draft_2020_12_and_is_what_the_loader_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loader's key sets are the shipped schema's, and the schema alone decides the
    structure: a schema that allowed any key in an online table lets a typo through."""
    from queue_quota import _config_schema

    schema = config.schema()
    defs = schema["$defs"]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["properties"]) == config.ROOT_KEYS
    assert set(defs["online"]["properties"]) == config.ONLINE_KEYS
    per_language = next(s for s in defs["title"]["oneOf"] if s.get("type") == "object")
    assert tuple(per_language["properties"]) == LANGUAGES
    with pytest.raises(OfficeFileError, match="did you mean 'lead_days'"):
        loads_office(BASE.replace("lead_days = 1", "lead_day = 1"))
    del defs["online"]["additionalProperties"]
    import jsonschema

    monkeypatch.setattr(
        _config_schema, "_validator", lambda: jsonschema.Draft202012Validator(schema)
    )
    assert loads_office(BASE.replace("lead_days = 1", "lead_day = 1")).channels == (
        "online",
        "walk_in",
    )
