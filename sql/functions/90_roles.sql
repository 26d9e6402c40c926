-- 90_roles.sql: least privilege. What the database role of the workers and
-- of the webhook sender needs, in one list; the function that grants it to
-- a role a DBA made, and the check that /healthz runs, so that a role
-- missing something is a failing health check (and a line in the log that
-- names it), not a 500 on every request.
--
-- Both programs call the functions of the schema (SECURITY INVOKER), so
-- the role needs the tables those functions read and write: read all but
-- the migrations' own table, write the ones listed as written. The DBA's
-- functions (create_hub, issue_key, create_location ...) write more; a
-- worker's role may not run them (their INSERTs are refused).

-- What a worker's (and the sender's) role may do on each table of the
-- schema: 'read' or 'write' (read, INSERT, UPDATE, DELETE). A table of the
-- schema missing here is reachable by no worker; the tests hold this list
-- to the schema's tables, so that a new table is a decision.
CREATE OR REPLACE FUNCTION calendence.worker_privileges(OUT tbl text, OUT access text)
RETURNS SETOF record
LANGUAGE sql IMMUTABLE AS $$
	VALUES
	    ('api_keys', 'write'),		-- last_used_at
	    ('sessions', 'write'),		-- exchange, refresh, end, maintenance
	    ('rate_windows', 'write'),		-- admission, maintenance
	    ('reservations', 'write'),		-- holds, bookings, maintenance
	    ('idempotency_keys', 'write'),	-- booking POSTs, maintenance
	    ('webhooks', 'write'),		-- the webhooks API
	    ('webhook_events', 'write'),	-- the outbox, the sender's maintenance
	    ('webhook_deliveries', 'write'),	-- the outbox, claims, records
	    ('usage_hourly', 'write'),		-- maintenance() folds the windows
	    ('plans', 'read'), ('hubs', 'read'), ('businesses', 'read'),
	    ('services', 'read'), ('service_lists', 'read'), ('locations', 'read'),
	    ('location_hours', 'read'),
	    ('staff', 'read'), ('staff_hours', 'read'), ('staff_blocked_dates', 'read'),
	    ('staff_locations', 'read'), ('resources', 'read'), ('resource_blocks', 'read'),
	    ('timezones', 'read')
$$;

-- Grants role p_role what a worker and the sender need (worker_privileges()),
-- and nothing more: USAGE on the schema (not CREATE), SELECT on the tables
-- read, SELECT, INSERT, UPDATE, DELETE on the tables written. The role must
-- exist (CREATE ROLE ... LOGIN PASSWORD ... is the DBA's); run again after
-- a migration that adds a table. Returns how many tables it covered.
CREATE OR REPLACE FUNCTION calendence.grant_worker(p_role text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	p record;
	n integer := 0;
BEGIN
	IF p_role IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_role) THEN
		RAISE EXCEPTION 'no role named %', coalesce(p_role, 'NULL')
		    USING ERRCODE = 'undefined_object',
			  HINT = 'Make it first: CREATE ROLE name LOGIN PASSWORD ''...''.';
	END IF;
	EXECUTE format('GRANT USAGE ON SCHEMA calendence TO %I', p_role);
	FOR p IN SELECT * FROM calendence.worker_privileges() LOOP
		EXECUTE format('GRANT %s ON calendence.%I TO %I',
		    CASE p.access WHEN 'write' THEN 'SELECT, INSERT, UPDATE, DELETE'
		    ELSE 'SELECT' END, p.tbl, p_role);
		n := n + 1;
	END LOOP;
	RETURN n;
END $$;

-- /healthz's look at the role it runs as: raises insufficient_privilege
-- (42501) naming the first thing of worker_privileges() the current role
-- may not do; else returns true.
CREATE OR REPLACE FUNCTION calendence.health_check() RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
	p record;
	want text;
BEGIN
	IF NOT has_schema_privilege('calendence', 'USAGE') THEN
		RAISE EXCEPTION 'role % lacks USAGE on schema calendence', current_user
		    USING ERRCODE = 'insufficient_privilege',
			  HINT = 'SELECT calendence.grant_worker(''' || current_user || ''')';
	END IF;
	FOR p IN SELECT * FROM calendence.worker_privileges() LOOP
		FOREACH want IN ARRAY CASE p.access WHEN 'write'
		    THEN ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'] ELSE ARRAY['SELECT'] END LOOP
			IF NOT has_table_privilege('calendence.' || quote_ident(p.tbl), want) THEN
				RAISE EXCEPTION 'role % lacks % on calendence.%', current_user,
				    want, p.tbl
				    USING ERRCODE = 'insufficient_privilege',
					  HINT = 'SELECT calendence.grant_worker('''
					      || current_user || ''')';
			END IF;
		END LOOP;
	END LOOP;
	RETURN true;
END $$;
