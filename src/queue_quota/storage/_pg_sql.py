"""SQL of `PostgresStorage`: the schema (version 4), its upgrade, and the statements.

``{s}`` is the schema (quoted with ``psycopg.sql.Identifier``). What is stored mirrors the
SQLite adapter (`queue_quota.storage._sqlite_schema`), in PostgreSQL's types:

* ``qq_counter (office_id, scope, day, used, last)``: one row per counter and day (scopes
  ``c:<channel>``, ``s:<channel>@HH:MM``, ``p:<pool>``); ``CHECK (used >= 0)``. No
  capacity: the policies decide it at request time, and the engine checks it inside a
  write transaction that no other writer of the office can interleave with.
* ``qq_booking``: every `Booking` field the storage gives back, with ``places`` (default
  1), ``charges`` (a ``text[]`` of scopes; ``NULL`` for 0.1's default, the channel's own
  counter) and ``window_start``/``window_end`` (``NULL`` without sessions). A number is
  given once per (office, day, channel) (``qq_booking_number``), a key once per office
  (``qq_booking_key``, only rows with a key), and ``qq_booking_refs`` on
  ``(office_id, citizen_ref, day)`` (only rows with a ref) serves the per-citizen limits
  and ``bookings_of``.
* ``qq_office_meta (office_id, name, value)``: the release epoch and the skip pointers;
  closures stay in ``qq_closure``, the secret's fingerprint in ``qq_secret``.
* ``qq_event (office_id, seq, ...)``: the office's event log (``data`` as ``jsonb``), and
  ``qq_state (office_id, name, value)``: values read by name prefix (notifier state,
  reminder marks); version 4's, created empty in an older schema.
* ``qq_meta``: the schema's ``schema_version`` and the digest of the DDL that made it.

There are no server functions any more: the rules are `TransactionalStorage`'s.

Upgrade (`CREATE`, `FROM_DAY`, `FROM_EPOCH`, `OLD_FUNCTIONS`, `INDEXES`, run by
``_pg_base`` under the schema's DDL advisory lock, in one
transaction, only when the version read under the lock is older): version 1 (0.1) and 2
gain the new booking columns in place (``ALTER TABLE ... ADD COLUMN IF NOT EXISTS``; every
row kept, 0.1's with no fingerprint); ``qq_day`` rows become ``c:<channel>`` counters
(``booked`` -> ``used``, ``last_number`` -> ``last``); the per-channel ``qq_epoch`` values
become one ``~epoch`` per office (their maximum); the old functions, tables and the index
``qq_booking_citizen`` are dropped; the key constraint becomes a partial unique index.
Every statement is idempotent.
"""

from __future__ import annotations

from typing import LiteralString

SCHEMA_VERSION = 4

#: Create what is missing (a fresh schema, or the new tables of an old one).
CREATE: tuple[LiteralString, ...] = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    """CREATE TABLE IF NOT EXISTS {s}.qq_meta (
        key   text COLLATE "C" PRIMARY KEY,
        value text NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_counter (
        office_id text COLLATE "C" NOT NULL,
        scope     text COLLATE "C" NOT NULL,
        day       date    NOT NULL,
        used      integer NOT NULL DEFAULT 0,
        last      integer NOT NULL DEFAULT 0,
        CONSTRAINT qq_counter_pkey PRIMARY KEY (office_id, scope, day),
        CONSTRAINT qq_counter_used CHECK (used >= 0),
        CONSTRAINT qq_counter_last CHECK (last >= 0)
    ) WITH (fillfactor = 50)""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_booking (
        id              text COLLATE "C" NOT NULL,
        office_id       text COLLATE "C" NOT NULL,
        channel         text COLLATE "C" NOT NULL,
        day             date    NOT NULL,
        number          integer NOT NULL CHECK (number >= 1),
        label           text    NOT NULL,
        status          text COLLATE "C" NOT NULL
            CHECK (status IN ('booked', 'checked_in', 'cancelled', 'no_show')),
        citizen_ref     text COLLATE "C",
        created_at      timestamptz NOT NULL,
        ticket          text    NOT NULL,
        idempotency_key text COLLATE "C",
        CONSTRAINT qq_booking_pkey PRIMARY KEY (office_id, id),
        CONSTRAINT qq_booking_number UNIQUE (office_id, day, channel, number)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_office_meta (
        office_id text COLLATE "C" NOT NULL,
        name      text COLLATE "C" NOT NULL,
        value     text NOT NULL,
        CONSTRAINT qq_office_meta_pkey PRIMARY KEY (office_id, name)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_closure (
        office_id  text COLLATE "C" NOT NULL,
        day        date NOT NULL,
        reason     text NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT qq_closure_pkey PRIMARY KEY (office_id, day)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_secret (
        office_id   text COLLATE "C" NOT NULL,
        fingerprint text NOT NULL,
        updated_at  timestamptz NOT NULL,
        CONSTRAINT qq_secret_pkey PRIMARY KEY (office_id)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_event (
        office_id  text COLLATE "C" NOT NULL,
        seq        bigint NOT NULL CHECK (seq >= 1),
        kind       text COLLATE "C" NOT NULL,
        booking_id text COLLATE "C",
        day        date,
        at         timestamptz NOT NULL,
        data       jsonb NOT NULL,
        CONSTRAINT qq_event_pkey PRIMARY KEY (office_id, seq)
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_state (
        office_id text COLLATE "C" NOT NULL,
        name      text COLLATE "C" NOT NULL,
        value     text NOT NULL,
        CONSTRAINT qq_state_pkey PRIMARY KEY (office_id, name)
    )""",
    # Version 2 and 3 columns, added in place to an older qq_booking (a constant default:
    # no table rewrite).
    "ALTER TABLE {s}.qq_booking ADD COLUMN IF NOT EXISTS key_fingerprint text",
    """ALTER TABLE {s}.qq_booking ADD COLUMN IF NOT EXISTS places integer NOT NULL DEFAULT 1
        CONSTRAINT qq_booking_places CHECK (places >= 1)""",
    "ALTER TABLE {s}.qq_booking ADD COLUMN IF NOT EXISTS charges text[]",
    "ALTER TABLE {s}.qq_booking ADD COLUMN IF NOT EXISTS window_start time",
    "ALTER TABLE {s}.qq_booking ADD COLUMN IF NOT EXISTS window_end time",
)

#: Run when ``qq_day`` exists (versions 1 and 2): its rows become channel counters.
FROM_DAY: tuple[LiteralString, ...] = (
    """INSERT INTO {s}.qq_counter (office_id, scope, day, used, last)
        SELECT office_id, 'c:' || channel, day, booked, last_number FROM {s}.qq_day
        ON CONFLICT (office_id, scope, day) DO NOTHING""",
    "DROP TABLE {s}.qq_day",
)

#: Run when ``qq_epoch`` exists: one release epoch per office, the largest.
FROM_EPOCH: tuple[LiteralString, ...] = (
    """INSERT INTO {s}.qq_office_meta (office_id, name, value)
        SELECT office_id, '~epoch', max(epoch)::text FROM {s}.qq_epoch GROUP BY office_id
        ON CONFLICT (office_id, name) DO NOTHING""",
    "DROP TABLE {s}.qq_epoch",
)

#: The server functions of versions 1 and 2, whatever their signatures.
OLD_FUNCTIONS: LiteralString = (
    "SELECT p.oid::regprocedure::text FROM pg_proc AS p"
    " JOIN pg_namespace AS n ON n.oid = p.pronamespace"
    " WHERE n.nspname = %s AND p.proname LIKE 'qq\\_%%'"
)

#: Indexes last: the key constraint of versions 1 and 2 becomes a partial index.
INDEXES: tuple[LiteralString, ...] = (
    "DROP INDEX IF EXISTS {s}.qq_booking_citizen",
    "ALTER TABLE {s}.qq_booking DROP CONSTRAINT IF EXISTS qq_booking_key",
    """CREATE UNIQUE INDEX IF NOT EXISTS qq_booking_key
        ON {s}.qq_booking (office_id, idempotency_key)
        WHERE idempotency_key IS NOT NULL""",
    "DROP INDEX IF EXISTS {s}.qq_booking_refs",
    """CREATE INDEX qq_booking_refs
        ON {s}.qq_booking (office_id, citizen_ref, day)
        WHERE citizen_ref IS NOT NULL""",
)

META_READ: LiteralString = (
    "SELECT key, value FROM {s}.qq_meta WHERE key IN ('schema_version', 'ddl_sha256')"
)
META_WRITE: LiteralString = (
    "INSERT INTO {s}.qq_meta (key, value) VALUES ('schema_version', %s), ('ddl_sha256', %s)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

# -- the primitives' statements (one per primitive and shape) -------------------------------

COLUMNS: LiteralString = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key, key_fingerprint, places, charges, window_start, window_end"
)
_SELECT: LiteralString = "SELECT " + COLUMNS + " FROM {s}.qq_booking WHERE office_id = %s"

#: The office's write lock: the first statement of every write transaction.
LOCK: LiteralString = "SELECT pg_advisory_xact_lock(%s::int4, hashtext(%s::text))"

QUERIES: dict[str, LiteralString] = {
    "COUNTERS": (
        "SELECT scope, day, used, last FROM {s}.qq_counter WHERE office_id = %s"
        " AND scope = ANY (%s::text[]) AND day >= %s::date AND day < %s::date"
    ),
    # One scope, one citizen: the same reads without an array to dump (the usual case).
    "COUNTERS_1": (
        "SELECT scope, day, used, last FROM {s}.qq_counter WHERE office_id = %s"
        " AND scope = %s AND day >= %s::date AND day < %s::date"
    ),
    "BY_REF_SINCE": _SELECT + " AND citizen_ref = %s AND day >= %s::date",
    # A reservation's id and its citizen's bookings in one read (split by the client).
    "BY_ID_OR_REF": (_SELECT + " AND (id = %s OR (citizen_ref = %s AND day >= %s::date))"),
    "BY_IDS_OR_REFS": (
        _SELECT + " AND (id = ANY (%s::text[])"
        " OR (citizen_ref = ANY (%s::text[]) AND day >= %s::date))"
    ),
    # Several reservations' reads at once (a group-commit batch).
    "BY_IDS": _SELECT + " AND id = ANY (%s::text[])",
    "BY_KEYS": _SELECT + " AND idempotency_key = ANY (%s::text[])",
    "PUT_COUNTERS": (
        "INSERT INTO {s}.qq_counter (office_id, scope, day, used, last)"
        " SELECT %s, * FROM unnest(%s::text[], %s::date[], %s::int4[], %s::int4[])"
        " ON CONFLICT (office_id, scope, day) DO UPDATE"
        " SET used = excluded.used, last = excluded.last"
    ),
    "BY_ID": _SELECT + " AND id = %s",
    "BY_KEY": _SELECT + " AND idempotency_key = %s AND idempotency_key IS NOT NULL",
    "BY_REFS": _SELECT + " AND citizen_ref = ANY (%s::text[]) AND citizen_ref IS NOT NULL",
    "BY_REFS_SINCE": (
        _SELECT + " AND citizen_ref = ANY (%s::text[]) AND citizen_ref IS NOT NULL"
        " AND day >= %s::date"
    ),
    "BY_DAY": _SELECT + " AND day = %s::date",
    "INSERT": (
        "INSERT INTO {s}.qq_booking (" + COLUMNS + ") VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s, %s, %s, %s::text[], %s::time, %s::time)"
        " ON CONFLICT (office_id, id) DO NOTHING"
    ),
    # A new booking whose id the transaction saw absent under the office's lock: sent with
    # the next round trip, so no ON CONFLICT (a conflict fails the transaction loudly).
    "INSERT_NEW": (
        "INSERT INTO {s}.qq_booking (" + COLUMNS + ") VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
        " %s, %s, %s, %s, %s, %s::text[], %s::time, %s::time)"
    ),
    "REPLACE": (
        "UPDATE {s}.qq_booking SET channel = %s, day = %s, number = %s, label = %s,"
        " status = %s, citizen_ref = %s, created_at = %s, ticket = %s, idempotency_key = %s,"
        " key_fingerprint = %s, places = %s, charges = %s::text[], window_start = %s::time,"
        " window_end = %s::time WHERE office_id = %s AND id = %s"
    ),
    # Every meta value of the office, closures and the secret's fingerprint included.
    "META": (
        "SELECT name, value FROM {s}.qq_office_meta WHERE office_id = %(o)s UNION ALL"
        " SELECT 'closure:' || to_char(day, 'YYYY-MM-DD'), reason FROM {s}.qq_closure"
        " WHERE office_id = %(o)s UNION ALL"
        " SELECT '~secret', fingerprint FROM {s}.qq_secret WHERE office_id = %(o)s"
    ),
    "PUT_META": (
        "INSERT INTO {s}.qq_office_meta (office_id, name, value) VALUES (%s, %s, %s)"
        " ON CONFLICT (office_id, name) DO UPDATE SET value = excluded.value"
    ),
    "DEL_META": "DELETE FROM {s}.qq_office_meta WHERE office_id = %s AND name = %s",
    "PUT_CLOSURE": (
        "INSERT INTO {s}.qq_closure (office_id, day, reason, created_at)"
        " VALUES (%s, %s::date, %s, now()) ON CONFLICT (office_id, day)"
        " DO UPDATE SET reason = excluded.reason"
    ),
    "DEL_CLOSURE": "DELETE FROM {s}.qq_closure WHERE office_id = %s AND day = %s::date",
    "PUT_SECRET": (
        "INSERT INTO {s}.qq_secret (office_id, fingerprint, updated_at) VALUES (%s, %s, now())"
        " ON CONFLICT (office_id) DO UPDATE"
        " SET fingerprint = excluded.fingerprint, updated_at = excluded.updated_at"
    ),
    "DEL_SECRET": "DELETE FROM {s}.qq_secret WHERE office_id = %s",
    "EVENTS": (
        "SELECT seq, kind, booking_id, day, at, data::text FROM {s}.qq_event"
        " WHERE office_id = %s AND seq > %s ORDER BY seq LIMIT %s"
    ),
    "PUT_EVENTS": (
        "INSERT INTO {s}.qq_event (office_id, seq, kind, booking_id, day, at, data)"
        " SELECT %s, * FROM unnest(%s::int8[], %s::text[], %s::text[], %s::date[],"
        " %s::timestamptz[], %s::jsonb[])"
    ),
    # Names from the prefix up to (not including) the prefix and the last code point.
    "STATE": (
        "SELECT name, value FROM {s}.qq_state WHERE office_id = %s AND name >= %s AND name < %s"
    ),
    "PUT_STATE": (
        "INSERT INTO {s}.qq_state (office_id, name, value) VALUES (%s, %s, %s)"
        " ON CONFLICT (office_id, name) DO UPDATE SET value = excluded.value"
    ),
    "DEL_STATE": "DELETE FROM {s}.qq_state WHERE office_id = %s AND name = %s",
    "META_READ": META_READ,
    "META_WRITE": META_WRITE,
}
