-- 014_usage.sql: usage you can query (issue 14 item 5): per key (or IP)
-- and hour, the requests admitted, refused (429) and whose credentials
-- failed (401), kept for 90 days. Folded from the rate windows by
-- maintenance() (sql/functions/30_admission.sql), so that an admitted
-- request costs nothing more than it did.
--
-- rate_windows (UNLOGGED, one row per subject) gains
--   hour_refused    the refusals the database decided in the hour window
--                   (one UPDATE on the refusal path only: a worker answers
--                   the following ones from memory, SPEC 6)
--   prev_hour_*     the hour a row held when a new hour overwrote it,
--                   kept in the same UPDATE until maintenance() folds it
-- Appended with defaults, so INSERTs that list the first five columns only
-- (the tests') still work.
ALTER TABLE calendence.rate_windows
	ADD COLUMN hour_refused		integer NOT NULL DEFAULT 0,
	ADD COLUMN prev_hour_start	bigint,
	ADD COLUMN prev_hour_count	integer,
	ADD COLUMN prev_hour_refused	integer;

-- One row per hour and what was counted:
--   kind 'key'       a key's own windows (k:<key>): key_id, business_id
--                    (NULL for a hub key, which acts for many)
--   kind 'session'   every session chain (s:<root>) made through one
--                    publishable key: key_id is that key
--   kind 'exchange'  session exchanges and refreshes per client IP (x:<ip>)
--   kind 'auth'      requests whose credentials failed, per client IP
--                    (a:<ip>): failed are the 401s, refused the 429s
-- A NULL key_id or ip in a row of its kind means "no longer known" (a
-- deleted key, an IP the worker could not tell): NULLS NOT DISTINCT keeps
-- such counts in one row as well.
CREATE TABLE calendence.usage_hourly (
	hour		timestamptz NOT NULL,
	subject_kind	text NOT NULL
			CHECK (subject_kind IN ('key', 'session', 'exchange', 'auth')),
	key_id		uuid,
	business_id	uuid,
	ip		inet,
	admitted	bigint NOT NULL DEFAULT 0 CHECK (admitted >= 0),
	refused		bigint NOT NULL DEFAULT 0 CHECK (refused >= 0),
	failed		bigint NOT NULL DEFAULT 0 CHECK (failed >= 0),
	CONSTRAINT usage_hourly_one UNIQUE NULLS NOT DISTINCT
		(hour, subject_kind, key_id, ip)
);

CREATE INDEX usage_hourly_key ON calendence.usage_hourly (key_id, hour)
	WHERE key_id IS NOT NULL;
CREATE INDEX usage_hourly_business ON calendence.usage_hourly (business_id, hour)
	WHERE business_id IS NOT NULL;
