-- 006_time_offsets.sql: a time whose offset is out of range is not a time.
--
-- parse_rfc3339() let an offset beyond what PostgreSQL takes (+99:99,
-- -16:00) raise invalid_time_zone_displacement_value, which reached the
-- client as a 500 from POST /bookings/hold (starts_at) and GET /bookings
-- (from, to); any data exception now means NULL, that is a 422 naming the
-- parameter, like every other malformed time (tests/e2e/e2e_hostile.c).

CREATE OR REPLACE FUNCTION calendence.parse_rfc3339(t text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	IF t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$' THEN
		RETURN NULL;
	END IF;
	RETURN t::timestamptz;	-- an explicit offset: TimeZone plays no part
EXCEPTION WHEN data_exception THEN
	RETURN NULL;
END $$;
