"""The PL/pgSQL functions of `PostgresStorage` (see ``_pg_sql`` for the tables and the rules).

``{s}`` is the schema; ``{key_ns}`` and ``{citizen_ns}`` are its advisory-lock namespaces.

Refusals are raised with private SQLSTATEs, one per reason, so that the adapter never reads
a message: ``QQ001`` no room (DETAIL: the channel, HINT: the release epoch seen),
``QQ002`` citizen limit, ``QQ003`` unknown booking, ``QQ005`` stale skip pointer, and the
`InvalidTransition` reasons ``QQ041`` not_booked, ``QQ042`` past_day, ``QQ043`` not_today,
``QQ044`` duplicate_id, whose DETAIL is a JSON object with the booking's ``status`` and
``day``. ``QQ900`` inconsistent data, ``QQ901`` unsupported isolation level.
"""

from __future__ import annotations

from typing import LiteralString

__all__ = ["DROPPED", "FUNCTIONS", "GUARD", "LABEL", "OUT"]

GUARD: LiteralString = """
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION USING ERRCODE = 'QQ901', MESSAGE =
            'queue_quota needs READ COMMITTED or SERIALIZABLE isolation, not REPEATABLE READ';
    END IF;"""

# A label as Python writes it: f"{prefix}-{number:03d}".
LABEL: LiteralString = (
    "p_prefix || '-' || lpad(t.o_number::text, greatest(3, length(t.o_number::text)), '0')"
)

# The columns of a booking as the functions return them (qq_booking's, in table order).
OUT: LiteralString = (
    "r_id text, r_office_id text, r_channel text, r_day date, r_number integer, r_label text,"
    " r_status text, r_citizen_ref text, r_created_at timestamptz, r_ticket text,"
    " r_idempotency_key text, r_key_fingerprint text"
)


def _refuse(state: LiteralString, message: LiteralString) -> LiteralString:
    """RAISE one of the InvalidTransition SQLSTATEs about booking ``b``."""
    return (
        "RAISE EXCEPTION USING ERRCODE = '" + state + "', MESSAGE = " + message + ",\n"
        "                DETAIL = json_build_object('status', b.status,"
        " 'day', to_char(b.day, 'YYYY-MM-DD'))::text;"
    )


_NOT_BOOKED: dict[str, LiteralString] = {
    verb: _refuse("QQ041", "'cannot " + verb + " a booking that is ' || b.status")
    for verb in ("cancel", "check in", "move")
}

#: Functions whose signature or result changed since schema 1: dropped before re-creation.
DROPPED: tuple[LiteralString, ...] = (
    "DROP FUNCTION IF EXISTS {s}.qq_reserve(text, text, date[], integer[], text, text, text,"
    " text, integer, date, timestamptz, text, boolean, bigint)",
    "DROP FUNCTION IF EXISTS {s}.qq_move(text, text, date[], integer[], text)",
    "DROP FUNCTION IF EXISTS {s}.qq_close_day(text, date, text, timestamptz, text[], text[],"
    " integer[], date[], integer[])",
)

FUNCTIONS: tuple[LiteralString, ...] = (
    """CREATE OR REPLACE FUNCTION {s}.qq_cancel(
        p_office text, p_id text, p_not_before date, p_retry boolean)
    RETURNS SETOF {s}.qq_booking
    LANGUAGE plpgsql AS $$
    DECLARE
        b {s}.qq_booking;
    BEGIN"""
    + GUARD
    + """
        SELECT * INTO b FROM {s}.qq_booking WHERE office_id = p_office AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ003', MESSAGE = 'no such booking';
        END IF;
        IF p_retry AND b.status = 'cancelled' THEN RETURN NEXT b; RETURN; END IF;
        IF b.status <> 'booked' THEN
            """
    + _NOT_BOOKED["cancel"]
    + """
        END IF;
        IF b.day < p_not_before THEN
            """
    + _refuse(
        "QQ042",
        "'cannot cancel a booking for a past day (' || to_char(b.day, 'YYYY-MM-DD') || ')'",
    )
    + """
        END IF;
        UPDATE {s}.qq_booking SET status = 'cancelled'
        WHERE office_id = p_office AND id = p_id RETURNING * INTO b;
        PERFORM {s}.qq_release(p_office, b.channel, b.day, 1);
        RETURN NEXT b;
    END
    $$""",
    """CREATE OR REPLACE FUNCTION {s}.qq_check_in(
        p_office text, p_id text, p_today date, p_retry boolean)
    RETURNS SETOF {s}.qq_booking
    LANGUAGE plpgsql AS $$
    DECLARE
        b {s}.qq_booking;
    BEGIN
        SELECT * INTO b FROM {s}.qq_booking WHERE office_id = p_office AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ003', MESSAGE = 'no such booking';
        END IF;
        IF p_retry AND b.status = 'checked_in' AND b.day = p_today THEN
            RETURN NEXT b; RETURN;
        END IF;
        IF b.status <> 'booked' THEN
            """
    + _NOT_BOOKED["check in"]
    + """
        END IF;
        IF b.day <> p_today THEN
            """
    + _refuse(
        "QQ043",
        "'the booking is for ' || to_char(b.day, 'YYYY-MM-DD')"
        " || ', not today (' || to_char(p_today, 'YYYY-MM-DD') || ')'",
    )
    + """
        END IF;
        UPDATE {s}.qq_booking SET status = 'checked_in'
        WHERE office_id = p_office AND id = p_id RETURNING * INTO b;
        RETURN NEXT b;
    END
    $$""",
    # Returns the moved booking and the day and number it had before.
    """CREATE OR REPLACE FUNCTION {s}.qq_move(
        p_office text, p_id text, p_days date[], p_caps integer[], p_prefix text)
    RETURNS TABLE ("""
    + OUT
    + """, r_previous_day date, r_previous_number integer)
    LANGUAGE plpgsql AS $$
    DECLARE
        b {s}.qq_booking;
        r {s}.qq_booking;
    BEGIN"""
    + GUARD
    + """
        SELECT * INTO b FROM {s}.qq_booking WHERE office_id = p_office AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ003', MESSAGE = 'no such booking';
        END IF;
        IF b.status <> 'booked' THEN
            """
    + _NOT_BOOKED["move"]
    + """
        END IF;
        r := {s}.qq_relocate(b, p_days, p_caps, p_prefix);
        RETURN QUERY SELECT (r).*, b.day, b.number;
    END
    $$""",
    # A day's bookings still 'booked' become 'no_show'; their places leave the counters.
    """CREATE OR REPLACE FUNCTION {s}.qq_mark_no_shows(p_office text, p_day date)
    RETURNS SETOF {s}.qq_booking
    LANGUAGE plpgsql AS $$
    DECLARE
        v_ids text[];
        c record;
    BEGIN"""
    + GUARD
    + """
        -- Lock the waiting bookings first, as cancel and check-in do (then the counters):
        -- a racing cancel, check-in or move commits before (and the booking is no longer
        -- 'booked' here) or waits for us. Everything below uses exactly these ids.
        SELECT coalesce(array_agg(w.id), ARRAY[]::text[]) INTO v_ids FROM (
            SELECT id FROM {s}.qq_booking
            WHERE office_id = p_office AND day = p_day AND status = 'booked'
            ORDER BY channel, number
            FOR UPDATE) AS w;
        FOR c IN
            SELECT channel, count(*)::integer AS n FROM {s}.qq_booking
            WHERE office_id = p_office AND id = ANY (v_ids)
            GROUP BY channel ORDER BY channel
        LOOP
            PERFORM {s}.qq_release(p_office, c.channel, p_day, c.n);
        END LOOP;
        RETURN QUERY
        WITH m AS (
            UPDATE {s}.qq_booking SET status = 'no_show'
            WHERE office_id = p_office AND id = ANY (v_ids)
            RETURNING *)
        SELECT * FROM m ORDER BY m.channel, m.number;
    END
    $$""",
    # p_starts[i] .. p_starts[i + 1] - 1 are channel i's slots in p_days / p_caps.
    """CREATE OR REPLACE FUNCTION {s}.qq_close_day(
        p_office text, p_day date, p_reason text, p_now timestamptz, p_channels text[],
        p_prefixes text[], p_starts integer[], p_days date[], p_caps integer[])
    RETURNS TABLE ("""
    + OUT
    + """, r_previous_day date, r_previous_number integer)
    LANGUAGE plpgsql AS $$
    DECLARE
        b {s}.qq_booking;
        r {s}.qq_booking;
    BEGIN"""
    + GUARD
    + """
        INSERT INTO {s}.qq_closure (office_id, day, reason, created_at)
        VALUES (p_office, p_day, p_reason, p_now)
        ON CONFLICT (office_id, day) DO NOTHING;
        IF NOT FOUND THEN RETURN; END IF;
        -- Lock the day's counters: a racing reservation commits before we read the day's
        -- bookings below, or waits and then sees the closure (see qq_take).
        INSERT INTO {s}.qq_day AS q (office_id, channel, day, capacity)
        SELECT p_office, ch, p_day, 0 FROM unnest(p_channels) AS ch
        ON CONFLICT (office_id, channel, day) DO UPDATE SET booked = q.booked;
        FOR i IN 1 .. coalesce(cardinality(p_channels), 0) LOOP
            FOR b IN
                SELECT * FROM {s}.qq_booking
                WHERE office_id = p_office AND day = p_day AND channel = p_channels[i]
                  AND status = 'booked'
                ORDER BY number
                FOR UPDATE
            LOOP
                r := {s}.qq_relocate(
                    b, p_days[p_starts[i]:p_starts[i + 1] - 1],
                    p_caps[p_starts[i]:p_starts[i + 1] - 1], p_prefixes[i]);
                RETURN QUERY SELECT (r).*, b.day, b.number;
            END LOOP;
        END LOOP;
    END
    $$""",
    # Check and record the fingerprint of the office's secret (see Storage.claim_secret).
    """CREATE OR REPLACE FUNCTION {s}.qq_claim_secret(
        p_office text, p_fingerprint text, p_accepted text[])
    RETURNS text
    LANGUAGE plpgsql AS $$
    DECLARE
        v_old text;
    BEGIN"""
    + GUARD
    + """
        -- Several processes starting at once: one inserts, the others wait for it here,
        -- then (a new statement, a new snapshot) read what it stored.
        INSERT INTO {s}.qq_secret (office_id, fingerprint, updated_at)
        VALUES (p_office, p_fingerprint, now())
        ON CONFLICT (office_id) DO NOTHING;
        IF FOUND THEN RETURN NULL; END IF;
        SELECT fingerprint INTO v_old FROM {s}.qq_secret WHERE office_id = p_office FOR UPDATE;
        IF v_old = ANY (p_accepted) AND v_old <> p_fingerprint THEN
            UPDATE {s}.qq_secret SET fingerprint = p_fingerprint, updated_at = now()
            WHERE office_id = p_office;
        END IF;
        RETURN v_old;
    END
    $$""",
)
