"""SQL of `PostgresStorage`: the schema and the server-side functions.

Every write is **one** call of a PL/pgSQL function, so a booking is one statement and one
round trip (in autocommit, the statement is its own transaction). ``{s}`` is the schema
(quoted with ``psycopg.sql.Identifier``); ``{key_ns}`` and ``{citizen_ns}`` are the
advisory-lock namespaces of the schema (integers).

Concurrency, at READ COMMITTED (each statement of a function sees what committed before it
started) or SERIALIZABLE; REPEATABLE READ is refused:

* the day counter row is the lock that serializes a day: ``INSERT ... ON CONFLICT DO UPDATE
  SET booked = booked + 1 WHERE booked < capacity`` waits for it, then re-checks;
* ``pg_advisory_xact_lock`` on (office, channel, citizen) makes the count-then-insert of
  the per-citizen limit race-free, and on (office, key) serializes one idempotency key;
* ``qq_close_day`` locks the closed day's counters before reading its bookings, and
  ``qq_take`` checks the closure again *after* locking a counter, so a reservation racing a
  closure either commits first (and is moved) or sees the closure (and goes elsewhere).

Domain refusals are raised with private SQLSTATEs, one per reason (see ``_pg_funcs``);
the adapter maps them back by SQLSTATE and reads the booking's status and day from a JSON
DETAIL, never from a message. A cancelled place bumps the channel's release epoch
(``qq_epoch``): a client's skip pointer over full days is checked against it (``QQ005``).

``qq_mark_no_shows`` locks the day's ``booked`` bookings before it touches their counters
(the order of ``qq_cancel``), and bumps the release epoch of every channel it frees places on.

Schema versions: 1 is 0.1's; 2 (0.2) adds ``qq_booking.key_fingerprint``, the index
``qq_booking_refs`` (``bookings_of``), the table ``qq_secret`` (``claim_secret``) and the
new function results. ``DDL`` goes from nothing or from 1 to 2 in place, idempotently.
"""

from __future__ import annotations

from typing import LiteralString

from ._pg_funcs import DROPPED, FUNCTIONS, GUARD, LABEL, OUT

SCHEMA_VERSION = 2

DDL: tuple[LiteralString, ...] = (
    "CREATE SCHEMA IF NOT EXISTS {s}",
    """CREATE TABLE IF NOT EXISTS {s}.qq_meta (
        key   text COLLATE "C" PRIMARY KEY,
        value text NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_day (
        office_id   text COLLATE "C" NOT NULL,
        channel     text COLLATE "C" NOT NULL,
        day         date    NOT NULL,
        capacity    integer NOT NULL CHECK (capacity >= 0),
        booked      integer NOT NULL DEFAULT 0,
        last_number integer NOT NULL DEFAULT 0,
        CONSTRAINT qq_day_pkey PRIMARY KEY (office_id, channel, day),
        CONSTRAINT qq_day_booked CHECK (booked >= 0 AND booked <= capacity),
        CONSTRAINT qq_day_numbers CHECK (last_number >= booked)
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
        CONSTRAINT qq_booking_number UNIQUE (office_id, day, channel, number),
        CONSTRAINT qq_booking_key UNIQUE (office_id, idempotency_key)
    )""",
    """CREATE INDEX IF NOT EXISTS qq_booking_citizen
        ON {s}.qq_booking (office_id, channel, citizen_ref, day)
        WHERE citizen_ref IS NOT NULL AND status IN ('booked', 'checked_in')""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_closure (
        office_id  text COLLATE "C" NOT NULL,
        day        date NOT NULL,
        reason     text NOT NULL,
        created_at timestamptz NOT NULL,
        CONSTRAINT qq_closure_pkey PRIMARY KEY (office_id, day)
    )""",
    # Bumped in the same transaction as every release of a place (cancel, move): a
    # client's skip pointer over full days is valid only while the epoch is unchanged.
    """CREATE TABLE IF NOT EXISTS {s}.qq_epoch (
        office_id text COLLATE "C" NOT NULL,
        channel   text COLLATE "C" NOT NULL,
        epoch     bigint NOT NULL,
        CONSTRAINT qq_epoch_pkey PRIMARY KEY (office_id, channel)
    )""",
    # Schema 2 (0.2): added in place to a schema 1 database, nothing else touched.
    "ALTER TABLE {s}.qq_booking ADD COLUMN IF NOT EXISTS key_fingerprint text",
    """CREATE INDEX IF NOT EXISTS qq_booking_refs
        ON {s}.qq_booking (office_id, citizen_ref, day)""",
    """CREATE TABLE IF NOT EXISTS {s}.qq_secret (
        office_id   text COLLATE "C" NOT NULL,
        fingerprint text NOT NULL,
        updated_at  timestamptz NOT NULL,
        CONSTRAINT qq_secret_pkey PRIMARY KEY (office_id)
    )""",
    *DROPPED,
    # Take a place on the first candidate day with room that is not closed.
    """CREATE OR REPLACE FUNCTION {s}.qq_take(
        p_office text, p_channel text, p_days date[], p_caps integer[], p_exclude date,
        p_soft boolean, OUT o_day date, OUT o_number integer)
    LANGUAGE plpgsql AS $$
    DECLARE
        d date;
        cap integer;
    BEGIN
        -- Candidates in order, each looked at only when the ones before had no room:
        -- usually the first one takes the place.
        FOR i IN 1 .. coalesce(array_length(p_days, 1), 0) LOOP
            d := p_days[i];
            cap := p_caps[i];
            CONTINUE WHEN cap <= 0 OR d IS NOT DISTINCT FROM p_exclude;
            CONTINUE WHEN EXISTS (SELECT 1 FROM {s}.qq_closure AS z
                                  WHERE z.office_id = p_office AND z.day = d);
            -- An unlocked look first, so that full days are passed without taking locks.
            CONTINUE WHEN coalesce((SELECT q.booked FROM {s}.qq_day AS q
                                    WHERE q.office_id = p_office AND q.channel = p_channel
                                      AND q.day = d), 0) >= cap;
            INSERT INTO {s}.qq_day AS q (office_id, channel, day, capacity, booked, last_number)
            VALUES (p_office, p_channel, d, cap, 1, 1)
            ON CONFLICT (office_id, channel, day) DO UPDATE
                SET booked = q.booked + 1, last_number = q.last_number + 1,
                    capacity = excluded.capacity
                WHERE q.booked < excluded.capacity
            RETURNING q.last_number INTO o_number;
            CONTINUE WHEN o_number IS NULL;
            -- A closure that committed while we waited for the counter wins: give it back.
            IF EXISTS (SELECT 1 FROM {s}.qq_closure AS z
                       WHERE z.office_id = p_office AND z.day = d) THEN
                UPDATE {s}.qq_day SET booked = booked - 1, last_number = last_number - 1
                WHERE office_id = p_office AND channel = p_channel AND day = d;
                o_number := NULL;
                CONTINUE;
            END IF;
            o_day := d;
            RETURN;
        END LOOP;
        IF p_soft THEN RETURN; END IF;  -- o_day IS NULL: the caller decides
        RAISE EXCEPTION USING ERRCODE = 'QQ001', MESSAGE = 'no place left', DETAIL = p_channel;
    END
    $$""",
    # Give back n places of a channel's day: the counter goes down and, in the same
    # transaction, the channel's release epoch up (clients' skip pointers become stale).
    """CREATE OR REPLACE FUNCTION {s}.qq_release(
        p_office text, p_channel text, p_day date, p_n integer)
    RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE {s}.qq_day SET booked = booked - p_n
        WHERE office_id = p_office AND channel = p_channel AND day = p_day AND booked >= p_n;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ900', MESSAGE =
                format('day counter of %s %s is inconsistent', p_channel, p_day);
        END IF;
        INSERT INTO {s}.qq_epoch AS e (office_id, channel, epoch)
        VALUES (p_office, p_channel, 1)
        ON CONFLICT (office_id, channel) DO UPDATE SET epoch = e.epoch + 1;
    END
    $$""",
    # Move a (locked) booking to the first candidate day with room; free its old place.
    """CREATE OR REPLACE FUNCTION {s}.qq_relocate(
        b {s}.qq_booking, p_days date[], p_caps integer[], p_prefix text)
    RETURNS {s}.qq_booking
    LANGUAGE plpgsql AS $$
    DECLARE
        t record;
        r {s}.qq_booking;
    BEGIN
        SELECT * INTO t FROM {s}.qq_take(b.office_id, b.channel, p_days, p_caps, b.day, false);
        UPDATE {s}.qq_booking
        SET day = t.o_day, number = t.o_number, label = """
    + LABEL
    + """
        WHERE office_id = b.office_id AND id = b.id
        RETURNING * INTO r;
        PERFORM {s}.qq_release(b.office_id, b.channel, b.day, 1);
        RETURN r;
    END
    $$""",
    # p_refs: the citizen's refs under older secrets (p_citizen is the current one).
    """CREATE OR REPLACE FUNCTION {s}.qq_reserve(
        p_office text, p_channel text, p_days date[], p_caps integer[], p_id text,
        p_ticket text, p_prefix text, p_citizen text, p_refs text[], p_per_citizen integer,
        p_today date, p_created timestamptz, p_key text, p_fingerprint text, p_retry boolean,
        p_epoch bigint)
    RETURNS TABLE ("""
    + OUT
    + """, r_epoch bigint)
    LANGUAGE plpgsql AS $$
    DECLARE
        b {s}.qq_booking;
        t record;
        held bigint;
        v_epoch bigint;
        v_refs text[];
        v_lock integer;
    BEGIN"""
    + GUARD
    + """
        IF p_key IS NOT NULL THEN
            -- The same key twice at once: the second waits here, then finds the first.
            PERFORM pg_advisory_xact_lock({key_ns}, hashtext(p_office || '/' || p_key));
            SELECT * INTO b FROM {s}.qq_booking
            WHERE office_id = p_office AND idempotency_key = p_key;
            IF FOUND THEN RETURN QUERY SELECT (b).*, NULL::bigint; RETURN; END IF;
        END IF;
        IF p_retry THEN
            -- The connection broke during an earlier attempt that may have committed.
            SELECT * INTO b FROM {s}.qq_booking WHERE office_id = p_office AND id = p_id;
            IF FOUND THEN RETURN QUERY SELECT (b).*, NULL::bigint; RETURN; END IF;
        END IF;
        IF p_citizen IS NOT NULL AND p_per_citizen IS NOT NULL THEN
            v_refs := ARRAY[p_citizen] || coalesce(p_refs, ARRAY[]::text[]);
            IF cardinality(v_refs) = 1 THEN
                PERFORM pg_advisory_xact_lock(
                    {citizen_ns}, hashtext(p_office || '/' || p_channel || '/' || p_citizen));
            ELSE
                -- One lock per ref (older secrets' too), in the order of the lock keys:
                -- two requests of one citizen wait for each other and never deadlock.
                FOR v_lock IN
                    SELECT DISTINCT hashtext(p_office || '/' || p_channel || '/' || ref)
                    FROM unnest(v_refs) AS ref ORDER BY 1
                LOOP
                    PERFORM pg_advisory_xact_lock({citizen_ns}, v_lock);
                END LOOP;
            END IF;
            SELECT count(*) INTO held FROM {s}.qq_booking
            WHERE office_id = p_office AND channel = p_channel AND citizen_ref = ANY (v_refs)
              AND status IN ('booked', 'checked_in') AND day >= p_today;
            IF held >= p_per_citizen THEN
                RAISE EXCEPTION USING ERRCODE = 'QQ002', MESSAGE = 'already booked';
            END IF;
        END IF;
        IF NOT p_retry AND EXISTS (SELECT 1 FROM {s}.qq_booking
                                   WHERE office_id = p_office AND id = p_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ044',
                MESSAGE = 'booking id ' || p_id || ' already exists';
        END IF;
        -- The client skipped the days it found full earlier: only valid if no place of
        -- the channel was released since (the epoch it saw then).
        SELECT coalesce(max(e.epoch), 0) INTO v_epoch FROM {s}.qq_epoch AS e
        WHERE e.office_id = p_office AND e.channel = p_channel;
        IF p_epoch IS NOT NULL AND v_epoch <> p_epoch THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ005', MESSAGE = 'stale skip pointer';
        END IF;
        SELECT * INTO t FROM {s}.qq_take(p_office, p_channel, p_days, p_caps, NULL, true);
        IF t.o_day IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ001', MESSAGE = 'no place left',
                DETAIL = p_channel, HINT = v_epoch::text;
        END IF;
        INSERT INTO {s}.qq_booking (id, office_id, channel, day, number, label, status,
            citizen_ref, created_at, ticket, idempotency_key, key_fingerprint)
        VALUES (p_id, p_office, p_channel, t.o_day, t.o_number, """
    + LABEL
    + """,
                'booked', p_citizen, p_created, p_ticket, p_key, p_fingerprint)
        RETURNING * INTO b;
        RETURN QUERY SELECT (b).*, v_epoch;
    END
    $$""",
    *FUNCTIONS,
)

COLUMNS: LiteralString = (
    "id, office_id, channel, day, number, label, status, citizen_ref, created_at, ticket, "
    "idempotency_key, key_fingerprint"
)

RESERVE: LiteralString = (
    "SELECT * FROM {s}.qq_reserve(%s::text, %s::text, %s::date[], %s::int4[], %s::text,"
    " %s::text, %s::text, %s::text, %s::text[], %s::int4, %s::date, %s::timestamptz, %s::text,"
    " %s::text, %s::bool, %s::int8)"
)
CANCEL: LiteralString = "SELECT * FROM {s}.qq_cancel(%s::text, %s::text, %s::date, %s::bool)"
CHECK_IN: LiteralString = "SELECT * FROM {s}.qq_check_in(%s::text, %s::text, %s::date, %s::bool)"
MOVE: LiteralString = (
    "SELECT * FROM {s}.qq_move(%s::text, %s::text, %s::date[], %s::int4[], %s::text)"
)
CLOSE_DAY: LiteralString = (
    "SELECT * FROM {s}.qq_close_day(%s::text, %s::date, %s::text, %s::timestamptz,"
    " %s::text[], %s::text[], %s::int4[], %s::date[], %s::int4[])"
)
MARK_NO_SHOWS: LiteralString = "SELECT * FROM {s}.qq_mark_no_shows(%s::text, %s::date)"
CLAIM_SECRET: LiteralString = "SELECT {s}.qq_claim_secret(%s::text, %s::text, %s::text[])"
BOOKINGS_OF: LiteralString = (
    "SELECT " + COLUMNS + " FROM {s}.qq_booking WHERE office_id = %s::text"
    " AND citizen_ref = ANY (%s::text[]) AND (%s::date IS NULL OR day >= %s::date)"
    " ORDER BY day, channel, number"
)
FIND_BY_KEY: LiteralString = (
    "SELECT " + COLUMNS + " FROM {s}.qq_booking WHERE office_id = %s AND idempotency_key = %s"
)
GET: LiteralString = "SELECT " + COLUMNS + " FROM {s}.qq_booking WHERE office_id = %s AND id = %s"
CLOSURES: LiteralString = "SELECT day, reason FROM {s}.qq_closure WHERE office_id = %s"
BOOKED_COUNTS: LiteralString = (
    "SELECT day, booked FROM {s}.qq_day WHERE office_id = %s AND channel = %s"
    " AND day >= %s AND day < %s AND booked > 0"
)
BOOKINGS_ON: LiteralString = (
    "SELECT " + COLUMNS + " FROM {s}.qq_booking WHERE office_id = %s AND day = %s"
    " AND (%s::text IS NULL OR channel = %s::text) AND (%s OR status <> 'cancelled')"
    " ORDER BY channel, number"
)
META_READ: LiteralString = (
    "SELECT key, value FROM {s}.qq_meta WHERE key IN ('schema_version', 'ddl_sha256')"
)
META_WRITE: LiteralString = (
    "INSERT INTO {s}.qq_meta (key, value) VALUES ('schema_version', %s), ('ddl_sha256', %s)"
    " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)

#: Every statement the adapter runs, by name (``{s}`` still to fill in).
QUERIES: dict[str, LiteralString] = {
    "RESERVE": RESERVE,
    "CANCEL": CANCEL,
    "CHECK_IN": CHECK_IN,
    "MOVE": MOVE,
    "CLOSE_DAY": CLOSE_DAY,
    "MARK_NO_SHOWS": MARK_NO_SHOWS,
    "CLAIM_SECRET": CLAIM_SECRET,
    "BOOKINGS_OF": BOOKINGS_OF,
    "FIND_BY_KEY": FIND_BY_KEY,
    "GET": GET,
    "CLOSURES": CLOSURES,
    "BOOKED_COUNTS": BOOKED_COUNTS,
    "BOOKINGS_ON": BOOKINGS_ON,
    "META_READ": META_READ,
    "META_WRITE": META_WRITE,
}
