-- 013_ref_out.sql: the composite type of {id, name} (a booking's service,
-- location and staff; a hold's staff), so that ref_json() is one expression
-- that PostgreSQL inlines into the statement calling it, as service_json()
-- is (005_perf.sql). As a function with a FROM clause it was planned anew
-- at every call: three of them in every booking's JSON.
CREATE TYPE calendence.ref_out AS (
	id	uuid,
	name	text
);
