-- 00_tables.sql: the functions the tables themselves call: CHECK helpers and
-- the trigger function. `calendence-admin migrate` applies this file (as every
-- 0N_*.sql) before the pending migrations too, so that a migration creating
-- a table may name them; their signatures use built-in types only.
--
-- Function files hold every calendence.* function, each in exactly one file,
-- as it is now: a fix edits the function here (CREATE OR REPLACE), and
-- `migrate` re-applies every file after the migrations, in one transaction.
-- A change of a function's arguments or OUT columns also needs a migration
-- that drops the old one (DROP FUNCTION IF EXISTS).

-- Adds the zones of pg_timezone_names that calendence.timezones lacks (run it
-- after a tzdata upgrade); returns how many were added.
CREATE OR REPLACE FUNCTION calendence.refresh_timezones() RETURNS bigint
LANGUAGE sql AS $$
	WITH n AS (INSERT INTO calendence.timezones
	    SELECT name FROM pg_timezone_names ON CONFLICT DO NOTHING RETURNING 1)
	SELECT count(*) FROM n
$$;

-- True when tz is an IANA zone name that this PostgreSQL knows.
CREATE OR REPLACE FUNCTION calendence.is_iana_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE STRICT AS $$
	SELECT EXISTS (SELECT 1 FROM calendence.timezones WHERE name = tz)
$$;

-- True when f is a list of custom field definitions of SPEC 8.
-- A missing member makes its test NULL, not false: coalesce() counts it as a
-- failure. CASE keeps jsonb_array_elements() away from anything but an array.
CREATE OR REPLACE FUNCTION calendence.valid_custom_fields(f jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN jsonb_typeof(f) = 'array' THEN NOT EXISTS (
	    SELECT 1 FROM jsonb_array_elements(f) e
	     WHERE NOT coalesce(jsonb_typeof(e) = 'object'
		AND jsonb_typeof(e->'id') = 'string'
		AND jsonb_typeof(e->'label') = 'string'
		AND e->>'type' IN ('text', 'textarea', 'select')
		AND jsonb_typeof(e->'required') = 'boolean'
		AND jsonb_typeof(e->'options') = 'array', false))
	ELSE false END
$$;

-- True when every element of tags is a lowercase word such as 'detail' or 'bay'.
CREATE OR REPLACE FUNCTION calendence.valid_tags(tags text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT NOT EXISTS (SELECT 1 FROM unnest(tags) t
	    WHERE t IS NULL OR t !~ '^[a-z0-9][a-z0-9_-]{0,39}$')
$$;

-- Revoking a publishable key, by function or by a DBA's UPDATE, ends its sessions.
CREATE OR REPLACE FUNCTION calendence.end_sessions_of_revoked_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE calendence.sessions SET revoked_at = NEW.revoked_at
	 WHERE publishable_key_id = NEW.id AND revoked_at IS NULL;
	RETURN NULL;
END $$;

-- Writes services.api_json, the service as the API shows it, on every
-- INSERT and UPDATE of a service, whoever makes it: service_json() of the
-- row as written (sql/functions/40_json.sql, the one definition), as text.
-- Rows written before a change of service_json() are written again by
-- calendence.refresh_service_json(), which `calendence-admin migrate` runs.
CREATE OR REPLACE FUNCTION calendence.services_api_json() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.api_json := calendence.service_json(NEW)::text;
	RETURN NEW;
END $$;

-- INSERT, UPDATE, DELETE and TRUNCATE of services, whoever makes them:
-- calendence.service_lists (020_service_lists.sql) of each business whose
-- services the statement changed (both, for a service moved to another
-- business) written anew through calendence.refresh_service_list()
-- (40_json.sql), once per statement and business, in the order of their
-- ids (021_service_lists_by_statement.sql: a bulk load of N services no
-- longer writes the list N times); a TRUNCATE empties it. The statement's
-- rows are the transition tables old_rows and new_rows.
-- (A trigger names only the transition tables of its event, and a query
-- that reads another fails: hence one read per event.)
CREATE OR REPLACE FUNCTION calendence.services_list_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	ids uuid[];
BEGIN
	IF TG_OP = 'TRUNCATE' THEN
		DELETE FROM calendence.service_lists;
		RETURN NULL;
	ELSIF TG_OP = 'INSERT' THEN
		ids := ARRAY(SELECT business_id FROM new_rows);
	ELSIF TG_OP = 'DELETE' THEN
		ids := ARRAY(SELECT business_id FROM old_rows);
	ELSE
		ids := ARRAY(SELECT business_id FROM old_rows UNION ALL
			     SELECT business_id FROM new_rows);
	END IF;
	PERFORM calendence.refresh_service_list(b.id)
	   FROM (SELECT DISTINCT id FROM unnest(ids) AS u(id) ORDER BY 1) b;
	RETURN NULL;
END $$;

-- Tells the workers that a part of the catalogue they cache changed
-- (fcgi/catalogue.c): NOTIFY calendence_catalogue, sent at the commit of
-- the change (and not at all when it rolls back), whoever makes it, with
-- what changed: 's:<business>' the services of a business, 'l:<business>'
-- its locations and their hours, 'h:<hub>' the businesses of a hub, '*'
-- anything (a TRUNCATE). A row moved to another owner names both.
-- PostgreSQL sends one notification per distinct payload and transaction.
-- TG_ARGV[0] is the kind of the table: 'services', 'locations',
-- 'location_hours' or 'businesses'.
--
-- The workers also keep answers of GET /availability (fcgi/answers.c); the
-- tables those read besides the catalogue's name the business whose
-- schedule changed, 'a:<business>': 'reservations' (holds and bookings),
-- 'staff', 'staff_locations', 'staff_hours', 'staff_blocked_dates',
-- 'resources', 'resource_blocks' (018_availability_answers.sql). The first
-- four of the rows that carry their business_id are read as columns, not
-- through to_jsonb(): reservations change at every hold and booking.
CREATE OR REPLACE FUNCTION calendence.catalogue_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	j jsonb;
	p text;
BEGIN
	IF TG_LEVEL = 'STATEMENT' THEN
		PERFORM pg_notify('calendence_catalogue', '*');
		RETURN NULL;
	END IF;
	IF TG_ARGV[0] IN ('reservations', 'staff', 'staff_locations', 'resources') THEN
		IF TG_OP <> 'INSERT' THEN
			p := 'a:' || OLD.business_id;
			PERFORM pg_notify('calendence_catalogue', p);
		END IF;
		IF TG_OP <> 'DELETE' AND p IS DISTINCT FROM 'a:' || NEW.business_id THEN
			PERFORM pg_notify('calendence_catalogue', 'a:' || NEW.business_id);
		END IF;
		RETURN NULL;
	END IF;
	FOREACH j IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
	    CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END] LOOP
		CONTINUE WHEN j IS NULL;
		p := CASE TG_ARGV[0]
		    WHEN 'services' THEN 's:' || (j ->> 'business_id')
		    WHEN 'locations' THEN 'l:' || (j ->> 'business_id')
		    WHEN 'location_hours' THEN 'l:' || (SELECT l.business_id::text
			FROM calendence.locations l WHERE l.id = (j ->> 'location_id')::uuid)
		    WHEN 'businesses' THEN 'h:' || (j ->> 'hub_id')
		    WHEN 'staff_hours' THEN 'a:' || (SELECT st.business_id::text
			FROM calendence.staff st WHERE st.id = (j ->> 'staff_id')::uuid)
		    WHEN 'staff_blocked_dates' THEN 'a:' || (SELECT st.business_id::text
			FROM calendence.staff st WHERE st.id = (j ->> 'staff_id')::uuid)
		    WHEN 'resource_blocks' THEN 'a:' || (SELECT rs.business_id::text
			FROM calendence.resources rs WHERE rs.id = (j ->> 'resource_id')::uuid)
		    END;
		-- NULL: an hour (a block) whose owner went with it (the owner notified)
		IF p IS NOT NULL THEN
			PERFORM pg_notify('calendence_catalogue', p);
		END IF;
	END LOOP;
	RETURN NULL;
END $$;
