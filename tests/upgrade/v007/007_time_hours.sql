-- 007_time_hours.sql: hour 24 is not an RFC 3339 time.
--
-- PostgreSQL reads "T24:00:00" as midnight of the next day, so
-- parse_rfc3339('2030-01-01T24:00:00Z') was 2030-01-02 00:00 UTC where
-- RFC 3339 allows hours 00-23 only. It is NULL now (a 422 naming the
-- parameter). Minutes past 59 and seconds past 60 were refused already by
-- PostgreSQL itself; second 60 (a leap second, which RFC 3339 allows) is
-- read as the next minute's first second.

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
