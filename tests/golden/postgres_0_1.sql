-- A PostgreSQL schema made by queue_quota 0.1 (commit 5cc22ec), for the upgrade test
-- tests/test_postgres_migrate.py. Do not edit: it is what the 0.1 code wrote.
--
-- Made with the 0.1 package (git archive 5cc22ec src/queue_quota) on PostgreSQL 15:
--   office "tegal-disdukcapil", Indonesian calendar, OnlineQuota(3, lead_days=1),
--   WalkInQuota(4, 07:30-12:00), secret b"golden-0.1-secret-0123456789abcdef";
--   on Thu 2020-06-04 09:00 WIB: 7 online bookings of citizens 3328010000000001..07
--   (keys key-2, key-4, key-6 on the even ones), cancel the 2nd, book 3328010000000099,
--   reschedule the 4th to 2020-06-10; at Fri 2020-06-05 08:00: walk-ins 3328010000000050
--   and an anonymous one, check in the 1st online and the first walk-in; then (now = Thu)
--   close 2020-06-09 ("system maintenance"), and on Sat 2020-06-06 mark Friday's no-shows.
-- then pg_dump --schema=qq_golden_v01 --inserts --no-owner --no-privileges --no-comments
-- (the psql-only \restrict lines removed). The test loads it under a fresh schema name.

--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: qq_golden_v01; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA qq_golden_v01;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: qq_booking; Type: TABLE; Schema: qq_golden_v01; Owner: -
--

CREATE TABLE qq_golden_v01.qq_booking (
    id text NOT NULL COLLATE pg_catalog."C",
    office_id text NOT NULL COLLATE pg_catalog."C",
    channel text NOT NULL COLLATE pg_catalog."C",
    day date NOT NULL,
    number integer NOT NULL,
    label text NOT NULL,
    status text NOT NULL COLLATE pg_catalog."C",
    citizen_ref text COLLATE pg_catalog."C",
    created_at timestamp with time zone NOT NULL,
    ticket text NOT NULL,
    idempotency_key text COLLATE pg_catalog."C",
    CONSTRAINT qq_booking_number_check CHECK ((number >= 1)),
    CONSTRAINT qq_booking_status_check CHECK ((status = ANY (ARRAY['booked'::text, 'checked_in'::text, 'cancelled'::text, 'no_show'::text])))
);


--
-- Name: qq_cancel(text, text, date, boolean); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_cancel(p_office text, p_id text, p_not_before date, p_retry boolean) RETURNS SETOF qq_golden_v01.qq_booking
    LANGUAGE plpgsql
    AS $$
    DECLARE
        b "qq_golden_v01".qq_booking;
    BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION USING ERRCODE = 'QQ901', MESSAGE =
            'queue_quota needs READ COMMITTED or SERIALIZABLE isolation, not REPEATABLE READ';
    END IF;
        SELECT * INTO b FROM "qq_golden_v01".qq_booking WHERE office_id = p_office AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ003', MESSAGE = 'no such booking';
        END IF;
        IF p_retry AND b.status = 'cancelled' THEN RETURN NEXT b; RETURN; END IF;
        IF b.status <> 'booked' THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ004',
                MESSAGE = 'cannot cancel a booking that is ' || b.status;
        END IF;
        IF b.day < p_not_before THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ004', MESSAGE =
                'cannot cancel a booking for a past day (' || to_char(b.day, 'YYYY-MM-DD') || ')';
        END IF;
        UPDATE "qq_golden_v01".qq_booking SET status = 'cancelled'
        WHERE office_id = p_office AND id = p_id RETURNING * INTO b;
        PERFORM "qq_golden_v01".qq_release(p_office, b.channel, b.day, 1);
        RETURN NEXT b;
    END
    $$;


--
-- Name: qq_check_in(text, text, date, boolean); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_check_in(p_office text, p_id text, p_today date, p_retry boolean) RETURNS SETOF qq_golden_v01.qq_booking
    LANGUAGE plpgsql
    AS $$
    DECLARE
        b "qq_golden_v01".qq_booking;
    BEGIN
        SELECT * INTO b FROM "qq_golden_v01".qq_booking WHERE office_id = p_office AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ003', MESSAGE = 'no such booking';
        END IF;
        IF p_retry AND b.status = 'checked_in' AND b.day = p_today THEN
            RETURN NEXT b; RETURN;
        END IF;
        IF b.status <> 'booked' THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ004',
                MESSAGE = 'cannot check in a booking that is ' || b.status;
        END IF;
        IF b.day <> p_today THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ004', MESSAGE =
                'the booking is for ' || to_char(b.day, 'YYYY-MM-DD')
                || ', not today (' || to_char(p_today, 'YYYY-MM-DD') || ')';
        END IF;
        UPDATE "qq_golden_v01".qq_booking SET status = 'checked_in'
        WHERE office_id = p_office AND id = p_id RETURNING * INTO b;
        RETURN NEXT b;
    END
    $$;


--
-- Name: qq_close_day(text, date, text, timestamp with time zone, text[], text[], integer[], date[], integer[]); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_close_day(p_office text, p_day date, p_reason text, p_now timestamp with time zone, p_channels text[], p_prefixes text[], p_starts integer[], p_days date[], p_caps integer[]) RETURNS SETOF qq_golden_v01.qq_booking
    LANGUAGE plpgsql
    AS $$
    DECLARE
        b "qq_golden_v01".qq_booking;
    BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION USING ERRCODE = 'QQ901', MESSAGE =
            'queue_quota needs READ COMMITTED or SERIALIZABLE isolation, not REPEATABLE READ';
    END IF;
        INSERT INTO "qq_golden_v01".qq_closure (office_id, day, reason, created_at)
        VALUES (p_office, p_day, p_reason, p_now)
        ON CONFLICT (office_id, day) DO NOTHING;
        IF NOT FOUND THEN RETURN; END IF;
        -- Lock the day's counters: a racing reservation commits before we read the day's
        -- bookings below, or waits and then sees the closure (see qq_take).
        INSERT INTO "qq_golden_v01".qq_day AS q (office_id, channel, day, capacity)
        SELECT p_office, ch, p_day, 0 FROM unnest(p_channels) AS ch
        ON CONFLICT (office_id, channel, day) DO UPDATE SET booked = q.booked;
        FOR i IN 1 .. coalesce(cardinality(p_channels), 0) LOOP
            FOR b IN
                SELECT * FROM "qq_golden_v01".qq_booking
                WHERE office_id = p_office AND day = p_day AND channel = p_channels[i]
                  AND status = 'booked'
                ORDER BY number
                FOR UPDATE
            LOOP
                RETURN NEXT "qq_golden_v01".qq_relocate(
                    b, p_days[p_starts[i]:p_starts[i + 1] - 1],
                    p_caps[p_starts[i]:p_starts[i + 1] - 1], p_prefixes[i]);
            END LOOP;
        END LOOP;
    END
    $$;


--
-- Name: qq_mark_no_shows(text, date); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_mark_no_shows(p_office text, p_day date) RETURNS SETOF qq_golden_v01.qq_booking
    LANGUAGE plpgsql
    AS $$
    DECLARE
        v_ids text[];
        c record;
    BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION USING ERRCODE = 'QQ901', MESSAGE =
            'queue_quota needs READ COMMITTED or SERIALIZABLE isolation, not REPEATABLE READ';
    END IF;
        -- Lock the waiting bookings first, as cancel and check-in do (then the counters):
        -- a racing cancel, check-in or move commits before (and the booking is no longer
        -- 'booked' here) or waits for us. Everything below uses exactly these ids.
        SELECT coalesce(array_agg(w.id), ARRAY[]::text[]) INTO v_ids FROM (
            SELECT id FROM "qq_golden_v01".qq_booking
            WHERE office_id = p_office AND day = p_day AND status = 'booked'
            ORDER BY channel, number
            FOR UPDATE) AS w;
        FOR c IN
            SELECT channel, count(*)::integer AS n FROM "qq_golden_v01".qq_booking
            WHERE office_id = p_office AND id = ANY (v_ids)
            GROUP BY channel ORDER BY channel
        LOOP
            PERFORM "qq_golden_v01".qq_release(p_office, c.channel, p_day, c.n);
        END LOOP;
        RETURN QUERY
        WITH m AS (
            UPDATE "qq_golden_v01".qq_booking SET status = 'no_show'
            WHERE office_id = p_office AND id = ANY (v_ids)
            RETURNING *)
        SELECT * FROM m ORDER BY m.channel, m.number;
    END
    $$;


--
-- Name: qq_move(text, text, date[], integer[], text); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_move(p_office text, p_id text, p_days date[], p_caps integer[], p_prefix text) RETURNS SETOF qq_golden_v01.qq_booking
    LANGUAGE plpgsql
    AS $$
    DECLARE
        b "qq_golden_v01".qq_booking;
    BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION USING ERRCODE = 'QQ901', MESSAGE =
            'queue_quota needs READ COMMITTED or SERIALIZABLE isolation, not REPEATABLE READ';
    END IF;
        SELECT * INTO b FROM "qq_golden_v01".qq_booking WHERE office_id = p_office AND id = p_id FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ003', MESSAGE = 'no such booking';
        END IF;
        IF b.status <> 'booked' THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ004',
                MESSAGE = 'cannot move a booking that is ' || b.status;
        END IF;
        RETURN NEXT "qq_golden_v01".qq_relocate(b, p_days, p_caps, p_prefix);
    END
    $$;


--
-- Name: qq_release(text, text, date, integer); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_release(p_office text, p_channel text, p_day date, p_n integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
    BEGIN
        UPDATE "qq_golden_v01".qq_day SET booked = booked - p_n
        WHERE office_id = p_office AND channel = p_channel AND day = p_day AND booked >= p_n;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ900', MESSAGE =
                format('day counter of %s %s is inconsistent', p_channel, p_day);
        END IF;
        INSERT INTO "qq_golden_v01".qq_epoch AS e (office_id, channel, epoch)
        VALUES (p_office, p_channel, 1)
        ON CONFLICT (office_id, channel) DO UPDATE SET epoch = e.epoch + 1;
    END
    $$;


--
-- Name: qq_relocate(qq_golden_v01.qq_booking, date[], integer[], text); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_relocate(b qq_golden_v01.qq_booking, p_days date[], p_caps integer[], p_prefix text) RETURNS qq_golden_v01.qq_booking
    LANGUAGE plpgsql
    AS $$
    DECLARE
        t record;
        r "qq_golden_v01".qq_booking;
    BEGIN
        SELECT * INTO t FROM "qq_golden_v01".qq_take(b.office_id, b.channel, p_days, p_caps, b.day, false);
        UPDATE "qq_golden_v01".qq_booking
        SET day = t.o_day, number = t.o_number, label = p_prefix || '-' || lpad(t.o_number::text, greatest(3, length(t.o_number::text)), '0')
        WHERE office_id = b.office_id AND id = b.id
        RETURNING * INTO r;
        PERFORM "qq_golden_v01".qq_release(b.office_id, b.channel, b.day, 1);
        RETURN r;
    END
    $$;


--
-- Name: qq_reserve(text, text, date[], integer[], text, text, text, text, integer, date, timestamp with time zone, text, boolean, bigint); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_reserve(p_office text, p_channel text, p_days date[], p_caps integer[], p_id text, p_ticket text, p_prefix text, p_citizen text, p_per_citizen integer, p_today date, p_created timestamp with time zone, p_key text, p_retry boolean, p_epoch bigint) RETURNS TABLE(r_id text, r_office_id text, r_channel text, r_day date, r_number integer, r_label text, r_status text, r_citizen_ref text, r_created_at timestamp with time zone, r_ticket text, r_idempotency_key text, r_epoch bigint)
    LANGUAGE plpgsql
    AS $$
    DECLARE
        b "qq_golden_v01".qq_booking;
        t record;
        held bigint;
        v_epoch bigint;
    BEGIN
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION USING ERRCODE = 'QQ901', MESSAGE =
            'queue_quota needs READ COMMITTED or SERIALIZABLE isolation, not REPEATABLE READ';
    END IF;
        IF p_key IS NOT NULL THEN
            -- The same key twice at once: the second waits here, then finds the first.
            PERFORM pg_advisory_xact_lock( -1265063762, hashtext(p_office || '/' || p_key));
            SELECT * INTO b FROM "qq_golden_v01".qq_booking
            WHERE office_id = p_office AND idempotency_key = p_key;
            IF FOUND THEN RETURN QUERY SELECT (b).*, NULL::bigint; RETURN; END IF;
        END IF;
        IF p_retry THEN
            -- The connection broke during an earlier attempt that may have committed.
            SELECT * INTO b FROM "qq_golden_v01".qq_booking WHERE office_id = p_office AND id = p_id;
            IF FOUND THEN RETURN QUERY SELECT (b).*, NULL::bigint; RETURN; END IF;
        END IF;
        IF p_citizen IS NOT NULL AND p_per_citizen IS NOT NULL THEN
            PERFORM pg_advisory_xact_lock(
                 -158446537, hashtext(p_office || '/' || p_channel || '/' || p_citizen));
            SELECT count(*) INTO held FROM "qq_golden_v01".qq_booking
            WHERE office_id = p_office AND channel = p_channel AND citizen_ref = p_citizen
              AND status IN ('booked', 'checked_in') AND day >= p_today;
            IF held >= p_per_citizen THEN
                RAISE EXCEPTION USING ERRCODE = 'QQ002', MESSAGE = 'already booked';
            END IF;
        END IF;
        -- The client skipped the days it found full earlier: only valid if no place of
        -- the channel was released since (the epoch it saw then).
        SELECT coalesce(max(e.epoch), 0) INTO v_epoch FROM "qq_golden_v01".qq_epoch AS e
        WHERE e.office_id = p_office AND e.channel = p_channel;
        IF p_epoch IS NOT NULL AND v_epoch <> p_epoch THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ005', MESSAGE = 'stale skip pointer';
        END IF;
        SELECT * INTO t FROM "qq_golden_v01".qq_take(p_office, p_channel, p_days, p_caps, NULL, true);
        IF t.o_day IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'QQ001', MESSAGE = 'no place left',
                DETAIL = p_channel, HINT = v_epoch::text;
        END IF;
        INSERT INTO "qq_golden_v01".qq_booking
        VALUES (p_id, p_office, p_channel, t.o_day, t.o_number, p_prefix || '-' || lpad(t.o_number::text, greatest(3, length(t.o_number::text)), '0'),
                'booked', p_citizen, p_created, p_ticket, p_key)
        RETURNING * INTO b;
        RETURN QUERY SELECT (b).*, v_epoch;
    END
    $$;


--
-- Name: qq_take(text, text, date[], integer[], date, boolean); Type: FUNCTION; Schema: qq_golden_v01; Owner: -
--

CREATE FUNCTION qq_golden_v01.qq_take(p_office text, p_channel text, p_days date[], p_caps integer[], p_exclude date, p_soft boolean, OUT o_day date, OUT o_number integer) RETURNS record
    LANGUAGE plpgsql
    AS $$
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
            CONTINUE WHEN EXISTS (SELECT 1 FROM "qq_golden_v01".qq_closure AS z
                                  WHERE z.office_id = p_office AND z.day = d);
            -- An unlocked look first, so that full days are passed without taking locks.
            CONTINUE WHEN coalesce((SELECT q.booked FROM "qq_golden_v01".qq_day AS q
                                    WHERE q.office_id = p_office AND q.channel = p_channel
                                      AND q.day = d), 0) >= cap;
            INSERT INTO "qq_golden_v01".qq_day AS q (office_id, channel, day, capacity, booked, last_number)
            VALUES (p_office, p_channel, d, cap, 1, 1)
            ON CONFLICT (office_id, channel, day) DO UPDATE
                SET booked = q.booked + 1, last_number = q.last_number + 1,
                    capacity = excluded.capacity
                WHERE q.booked < excluded.capacity
            RETURNING q.last_number INTO o_number;
            CONTINUE WHEN o_number IS NULL;
            -- A closure that committed while we waited for the counter wins: give it back.
            IF EXISTS (SELECT 1 FROM "qq_golden_v01".qq_closure AS z
                       WHERE z.office_id = p_office AND z.day = d) THEN
                UPDATE "qq_golden_v01".qq_day SET booked = booked - 1, last_number = last_number - 1
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
    $$;


--
-- Name: qq_closure; Type: TABLE; Schema: qq_golden_v01; Owner: -
--

CREATE TABLE qq_golden_v01.qq_closure (
    office_id text NOT NULL COLLATE pg_catalog."C",
    day date NOT NULL,
    reason text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: qq_day; Type: TABLE; Schema: qq_golden_v01; Owner: -
--

CREATE TABLE qq_golden_v01.qq_day (
    office_id text NOT NULL COLLATE pg_catalog."C",
    channel text NOT NULL COLLATE pg_catalog."C",
    day date NOT NULL,
    capacity integer NOT NULL,
    booked integer DEFAULT 0 NOT NULL,
    last_number integer DEFAULT 0 NOT NULL,
    CONSTRAINT qq_day_booked CHECK (((booked >= 0) AND (booked <= capacity))),
    CONSTRAINT qq_day_capacity_check CHECK ((capacity >= 0)),
    CONSTRAINT qq_day_numbers CHECK ((last_number >= booked))
)
WITH (fillfactor='50');


--
-- Name: qq_epoch; Type: TABLE; Schema: qq_golden_v01; Owner: -
--

CREATE TABLE qq_golden_v01.qq_epoch (
    office_id text NOT NULL COLLATE pg_catalog."C",
    channel text NOT NULL COLLATE pg_catalog."C",
    epoch bigint NOT NULL
);


--
-- Name: qq_meta; Type: TABLE; Schema: qq_golden_v01; Owner: -
--

CREATE TABLE qq_golden_v01.qq_meta (
    key text NOT NULL COLLATE pg_catalog."C",
    value text NOT NULL
);


--
-- Data for Name: qq_booking; Type: TABLE DATA; Schema: qq_golden_v01; Owner: -
--

INSERT INTO qq_golden_v01.qq_booking VALUES ('50XG3P6QV2BP4BKE', 'tegal-disdukcapil', 'online', '2020-06-08', 2, 'A-002', 'booked', 'd35d2b6ee181992057adf2f96ada07d9', '2020-06-04 02:00:00+00', '50XG-3P6Q-V2BP-4BKE.3D2A-F0FC-536E-23E9', NULL);
INSERT INTO qq_golden_v01.qq_booking VALUES ('XGJ67XMSHYDA1JVZ', 'tegal-disdukcapil', 'online', '2020-06-08', 3, 'A-003', 'booked', '3df6acbcc805d52b7cee59978ddd5da2', '2020-06-04 02:00:00+00', 'XGJ6-7XMS-HYDA-1JVZ.9473-2109-652D-64DC', 'key-6');
INSERT INTO qq_golden_v01.qq_booking VALUES ('ACAA6K6KHK7XQRDV', 'tegal-disdukcapil', 'online', '2020-06-05', 2, 'A-002', 'cancelled', '4c6b1b3e17cef28ffcd3a9f6801251b8', '2020-06-04 02:00:00+00', 'ACAA-6K6K-HK7X-QRDV.5010-0FD5-6EDF-D681', 'key-2');
INSERT INTO qq_golden_v01.qq_booking VALUES ('T3P1F6JHAYYK5HAT', 'tegal-disdukcapil', 'online', '2020-06-10', 1, 'A-001', 'booked', 'c5d3fc518ba328f8db6e0a18ff1b73cd', '2020-06-04 02:00:00+00', 'T3P1-F6JH-AYYK-5HAT.75C8-DDAB-1D28-F476', 'key-4');
INSERT INTO qq_golden_v01.qq_booking VALUES ('SNYK31NWEG9K7HET', 'tegal-disdukcapil', 'online', '2020-06-05', 1, 'A-001', 'checked_in', 'abe1692b417cc8fbbf63ffac9a95bc80', '2020-06-04 02:00:00+00', 'SNYK-31NW-EG9K-7HET.82CF-E98A-E5B3-83BD', NULL);
INSERT INTO qq_golden_v01.qq_booking VALUES ('1BE5NRMGK97WBX4Z', 'tegal-disdukcapil', 'walk_in', '2020-06-05', 1, 'B-001', 'checked_in', '6451d357491f728826bcb060057ddd44', '2020-06-05 01:00:00+00', '1BE5-NRMG-K97W-BX4Z.7CC0-F348-5CD4-D438', NULL);
INSERT INTO qq_golden_v01.qq_booking VALUES ('DZ12K410TEBPRE0S', 'tegal-disdukcapil', 'online', '2020-06-10', 2, 'A-002', 'booked', '5785486394e6cdf6f84bacb5d7bdedf9', '2020-06-04 02:00:00+00', 'DZ12-K410-TEBP-RE0S.FD3E-F66D-2FB8-9EC0', NULL);
INSERT INTO qq_golden_v01.qq_booking VALUES ('A4R6NR1QBH4815FC', 'tegal-disdukcapil', 'online', '2020-06-05', 3, 'A-003', 'no_show', 'c08fe120b39b4d419b0c9536b0c8c6ac', '2020-06-04 02:00:00+00', 'A4R6-NR1Q-BH48-15FC.7B6A-3BE1-2A1A-E7F6', NULL);
INSERT INTO qq_golden_v01.qq_booking VALUES ('GYCCDPJPQP0E5WPP', 'tegal-disdukcapil', 'online', '2020-06-05', 4, 'A-004', 'no_show', 'ec515726a5825449e3c8f1f5462f62e7', '2020-06-04 02:00:00+00', 'GYCC-DPJP-QP0E-5WPP.BEE9-64E4-88F5-4CEA', NULL);
INSERT INTO qq_golden_v01.qq_booking VALUES ('V5PC6QHEEYXK62SC', 'tegal-disdukcapil', 'walk_in', '2020-06-05', 2, 'B-002', 'no_show', NULL, '2020-06-05 01:00:00+00', 'V5PC-6QHE-EYXK-62SC.8FED-18FF-2547-042E', NULL);


--
-- Data for Name: qq_closure; Type: TABLE DATA; Schema: qq_golden_v01; Owner: -
--

INSERT INTO qq_golden_v01.qq_closure VALUES ('tegal-disdukcapil', '2020-06-09', 'system maintenance', '2020-06-04 02:00:00+00');


--
-- Data for Name: qq_day; Type: TABLE DATA; Schema: qq_golden_v01; Owner: -
--

INSERT INTO qq_golden_v01.qq_day VALUES ('tegal-disdukcapil', 'online', '2020-06-08', 3, 2, 3);
INSERT INTO qq_golden_v01.qq_day VALUES ('tegal-disdukcapil', 'walk_in', '2020-06-09', 0, 0, 0);
INSERT INTO qq_golden_v01.qq_day VALUES ('tegal-disdukcapil', 'online', '2020-06-10', 3, 2, 2);
INSERT INTO qq_golden_v01.qq_day VALUES ('tegal-disdukcapil', 'online', '2020-06-09', 3, 0, 1);
INSERT INTO qq_golden_v01.qq_day VALUES ('tegal-disdukcapil', 'online', '2020-06-05', 3, 1, 4);
INSERT INTO qq_golden_v01.qq_day VALUES ('tegal-disdukcapil', 'walk_in', '2020-06-05', 4, 1, 2);


--
-- Data for Name: qq_epoch; Type: TABLE DATA; Schema: qq_golden_v01; Owner: -
--

INSERT INTO qq_golden_v01.qq_epoch VALUES ('tegal-disdukcapil', 'online', 4);
INSERT INTO qq_golden_v01.qq_epoch VALUES ('tegal-disdukcapil', 'walk_in', 1);


--
-- Data for Name: qq_meta; Type: TABLE DATA; Schema: qq_golden_v01; Owner: -
--

INSERT INTO qq_golden_v01.qq_meta VALUES ('schema_version', '1');
INSERT INTO qq_golden_v01.qq_meta VALUES ('ddl_sha256', '9070dfe42decc9cbb22d50617ffad4b45bd7b32aed3c89cbc2c1e887d28cc1de');


--
-- Name: qq_booking qq_booking_key; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_booking
    ADD CONSTRAINT qq_booking_key UNIQUE (office_id, idempotency_key);


--
-- Name: qq_booking qq_booking_number; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_booking
    ADD CONSTRAINT qq_booking_number UNIQUE (office_id, day, channel, number);


--
-- Name: qq_booking qq_booking_pkey; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_booking
    ADD CONSTRAINT qq_booking_pkey PRIMARY KEY (office_id, id);


--
-- Name: qq_closure qq_closure_pkey; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_closure
    ADD CONSTRAINT qq_closure_pkey PRIMARY KEY (office_id, day);


--
-- Name: qq_day qq_day_pkey; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_day
    ADD CONSTRAINT qq_day_pkey PRIMARY KEY (office_id, channel, day);


--
-- Name: qq_epoch qq_epoch_pkey; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_epoch
    ADD CONSTRAINT qq_epoch_pkey PRIMARY KEY (office_id, channel);


--
-- Name: qq_meta qq_meta_pkey; Type: CONSTRAINT; Schema: qq_golden_v01; Owner: -
--

ALTER TABLE ONLY qq_golden_v01.qq_meta
    ADD CONSTRAINT qq_meta_pkey PRIMARY KEY (key);


--
-- Name: qq_booking_citizen; Type: INDEX; Schema: qq_golden_v01; Owner: -
--

CREATE INDEX qq_booking_citizen ON qq_golden_v01.qq_booking USING btree (office_id, channel, citizen_ref, day) WHERE ((citizen_ref IS NOT NULL) AND (status = ANY (ARRAY['booked'::text, 'checked_in'::text])));


--
-- PostgreSQL database dump complete
--


