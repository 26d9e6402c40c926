-- avail_before.sql: availability as it was before issue 15, for a side by
-- side run of rows (g) and (g2): make bench BENCH_ONLY="g g2"
-- BENCH_SQL=tests/bench/avail_before.sql. It loads the old functions (the
-- oracle of tests/integration/availability_oracle.c, schema "oracle") and
-- points calendence.availability() at them; the next run without BENCH_SQL
-- puts the new one back (migrate applies sql/functions/ at every start).
\set ON_ERROR_STOP on
\ir ../integration/oracle_availability.sql

CREATE OR REPLACE FUNCTION calendence.availability(p_business uuid, p_service text,
    p_date_from text, p_date_to text, p_staff text DEFAULT NULL,
    p_location text DEFAULT NULL, p_format text DEFAULT NULL, OUT status text,
    OUT message text, OUT body text)
LANGUAGE sql STABLE AS $$
	SELECT * FROM oracle.availability(p_business, p_service, p_date_from, p_date_to,
	    p_staff, p_location)
$$;
