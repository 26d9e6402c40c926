-- 005_perf.sql: the hot path made cheaper, same answers (README "Performance").
--
-- The types that service_json() and business_json() (sql/functions/40_json.sql)
-- build their objects from. Those functions built their object from a subquery
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

CREATE TYPE calendence.business_out AS (
	id			uuid,
	name			text,
	slug			text,
	timezone		text,
	active			boolean,
	created_at		text
);

-- authenticate() sets api_keys.last_used_at at most once a minute per key;
-- no index covers that column, so with room left in the page the update is
-- HOT (no new index entries, no index bloat). Pages written from now on keep
-- a tenth free; VACUUM FULL calendence.api_keys applies it to older ones.
ALTER TABLE calendence.api_keys SET (fillfactor = 90);
