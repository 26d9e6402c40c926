-- 10_parsing.sql: what comes from a request as text, checked and parsed
-- (uuids, dates, RFC 3339 times, weekly hours, blank values), and times
-- written back: RFC 3339 in UTC, local wall-clock times and spans.

-- RFC 3339 in UTC, whole seconds, explicit offset. STABLE as to_char() is,
-- so that PostgreSQL inlines it into the statement calling it (an IMMUTABLE
-- function over a STABLE one is called, and planned, at every use).
CREATE OR REPLACE FUNCTION calendence.rfc3339(t timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"')
$$;

-- t as a uuid, or NULL when it is not one.
CREATE OR REPLACE FUNCTION calendence.parse_uuid(t text) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN t ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
	    THEN t::uuid END
$$;

-- t (YYYY-MM-DD) as a date, or NULL when it is not a real calendar date.
CREATE OR REPLACE FUNCTION calendence.parse_date(t text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	IF t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		RETURN NULL;
	END IF;
	RETURN make_date(substr(t, 1, 4)::integer, substr(t, 6, 2)::integer,
	    substr(t, 9, 2)::integer);
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
	RETURN NULL;
END $$;

-- t, an RFC 3339 time with an explicit offset, as a timestamptz; else NULL.
-- Hours run 00-23 (PostgreSQL alone would read T24:00:00 as the next day's
-- midnight); second 60, a leap second, is the next minute's first second.
-- Any data exception, such as an offset PostgreSQL does not take (+99:99),
-- means NULL too: a 422 naming the parameter, never a 500.
CREATE OR REPLACE FUNCTION calendence.parse_rfc3339(t text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	IF t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$' THEN
		RETURN NULL;
	END IF;
	RETURN t::timestamptz;	-- an explicit offset: TimeZone plays no part
EXCEPTION WHEN data_exception THEN
	RETURN NULL;
END $$;

-- t as local time of zone tz, without offset: 2026-03-24T09:00:00 (SPEC 7).
CREATE OR REPLACE FUNCTION calendence.local_text(t timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
	SELECT to_char(t AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
$$;

-- The instants of local times [a, b) of day in zone tz; empty when a time in
-- a spring-forward gap makes them run backwards.
CREATE OR REPLACE FUNCTION calendence.local_span(day date, a time, b time, tz text) RETURNS tstzrange
LANGUAGE sql STABLE STRICT AS $$
	SELECT CASE WHEN lo < hi THEN tstzrange(lo, hi) ELSE 'empty'::tstzrange END
	  FROM (SELECT (day + a) AT TIME ZONE tz AS lo, (day + b) AT TIME ZONE tz AS hi) x
$$;

-- The English name of ISO weekday wd (1 = monday).
CREATE OR REPLACE FUNCTION calendence.weekday_name(wd integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT (ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday',
	    'sunday'])[wd]
$$;

-- Weekly hours as a DBA writes them, one row per range:
--   {"monday": ["09:00-12:00", "13:00-17:00"], "saturday": [{"opens": "09:00",
--    "closes": "13:00"}]}
-- Days left out are closed; "24:00" may end a day. Raises 22023 on anything else.
CREATE OR REPLACE FUNCTION calendence.parse_hours(hours jsonb)
    RETURNS TABLE (weekday smallint, opens time, closes time)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	d record;
	e jsonb;
	wd integer;
	m text[];
	a text;
	b text;
BEGIN
	IF hours IS NULL OR hours = 'null'::jsonb THEN
		RETURN;
	END IF;
	IF jsonb_typeof(hours) <> 'object' THEN
		RAISE EXCEPTION 'hours must be an object keyed by weekday name'
		    USING ERRCODE = '22023';
	END IF;
	FOR d IN SELECT j.key, j.value FROM jsonb_each(hours) j LOOP
		wd := array_position(ARRAY['monday', 'tuesday', 'wednesday', 'thursday',
		    'friday', 'saturday', 'sunday'], lower(d.key));
		IF wd IS NULL THEN
			RAISE EXCEPTION 'hours: "%" is not a weekday name', d.key
			    USING ERRCODE = '22023';
		END IF;
		IF jsonb_typeof(d.value) <> 'array' THEN
			RAISE EXCEPTION 'hours: % must be a list of ranges', d.key
			    USING ERRCODE = '22023';
		END IF;
		FOR e IN SELECT v FROM jsonb_array_elements(d.value) v LOOP
			a := NULL;
			b := NULL;
			IF jsonb_typeof(e) = 'string' THEN
				m := regexp_match(e #>> '{}',
				    '^\s*([0-9]{1,2}:[0-9]{2})\s*-\s*([0-9]{1,2}:[0-9]{2})\s*$');
				a := m[1];
				b := m[2];
			ELSIF jsonb_typeof(e) = 'object' THEN
				a := e->>'opens';
				b := e->>'closes';
			END IF;
			IF a IS NULL OR b IS NULL
			    OR a !~ '^([01]?[0-9]|2[0-3]):[0-5][0-9]$'
			    OR b !~ '^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$'
			    OR a::time >= b::time THEN
				RAISE EXCEPTION 'hours: % has a bad range %; write "HH:MM-HH:MM"',
				    d.key, e USING ERRCODE = '22023';
			END IF;
			weekday := wd;
			opens := a::time;
			closes := b::time;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END $$;

-- True when t holds nothing a person can read: empty, or only white space
-- (Unicode White_Space: ASCII blanks, U+0085, the no-break spaces, U+1680,
-- U+2000-U+200A, U+2028/9, U+205F, U+3000), control characters, and
-- characters that draw nothing (Default_Ignorable_Code_Point: U+00AD, the
-- zero-width spaces, joiners and bidi marks U+200B-U+200F and
-- U+202A-U+202E, U+2060-U+206F, U+FEFF, the variation selectors, the
-- Hangul fillers, U+180B-U+180F, tags U+E0000-U+E0FFF ...) and the braille
-- blank U+2800. The one test of "blank" for client names and required
-- custom fields (SPEC 9). NULL for NULL.
CREATE OR REPLACE FUNCTION calendence.is_blank(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT t ~ ('^[\u0001-\u0020\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680'
	    '\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800'
	    '\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U0001bca0-\U0001bca3'
	    '\U0001d173-\U0001d17a\U000e0000-\U000e0fff]*$')
$$;
