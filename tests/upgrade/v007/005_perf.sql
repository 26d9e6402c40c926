-- 005_perf.sql: the hot path made cheaper, same answers (README "Performance").
--
-- service_json() and business_json() built their object from a subquery
-- (SELECT row_to_json(x) FROM (SELECT s.id, ...) x): a SQL function with a
-- FROM clause is never inlined, so every row of GET /services paid a function
-- call with its own executor start-up. Defined as a single expression over a
-- composite type, PostgreSQL inlines them into the calling statement. The
-- types name the fields in the API's order, so the JSON is byte for byte what
-- it was.

CREATE TYPE calendence.service_out AS (
	id			uuid,
	name			text,
	description		text,
	category		text,
	duration_min		integer,
	duration_max		integer,
	rate			integer,
	rate_type		text,
	deposit_type		text,
	deposit_amount		integer,
	buffer_before_min	integer,
	buffer_after_min	integer,
	is_mobile		boolean,
	is_active		boolean,
	show_staff_picker	boolean,
	custom_fields		jsonb
);

CREATE OR REPLACE FUNCTION calendence.service_json(s calendence.services) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(ROW(s.id, s.name, s.description, s.category,
	    s.duration_min, s.duration_max, s.rate, s.rate_type, s.deposit_type,
	    s.deposit_amount, s.buffer_before_min, s.buffer_after_min, s.is_mobile,
	    s.is_active, s.show_staff_picker, s.custom_fields)::calendence.service_out)
$$;

CREATE TYPE calendence.business_out AS (
	id			uuid,
	name			text,
	slug			text,
	timezone		text,
	active			boolean,
	created_at		text
);

-- created_at as calendence.rfc3339() writes it, spelled out: rfc3339() is
-- IMMUTABLE over a STABLE to_char(), which would stop the inlining here
CREATE OR REPLACE FUNCTION calendence.business_json(b calendence.businesses) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(ROW(b.id, b.name, b.slug, b.timezone, b.active,
	    to_char(b.created_at AT TIME ZONE 'UTC',
		'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))::calendence.business_out)
$$;

-- authenticate() sets api_keys.last_used_at at most once a minute per key;
-- no index covers that column, so with room left in the page the update is
-- HOT (no new index entries, no index bloat). Pages written from now on keep
-- a tenth free; VACUUM FULL calendence.api_keys applies it to older ones.
ALTER TABLE calendence.api_keys SET (fillfactor = 90);
