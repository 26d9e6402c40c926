-- 40_json.sql: resources as the API shows them, compact JSON in the field
-- order of SPEC 8 and 9, built in the statement that reads them.

-- The JSON of a service as the API shows it (SPEC 8), compact, in field order.
-- A single expression over a composite type (service_out, whose fields are in
-- the API's order), so that PostgreSQL inlines it into the calling statement:
-- a SQL function with a FROM clause is never inlined, and every row of GET
-- /services would pay a function call with its own executor start-up.
CREATE OR REPLACE FUNCTION calendence.service_json(s calendence.services) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(ROW(s.id, s.name, s.description, s.category,
	    s.duration_min, s.duration_max, s.rate, s.rate_type, s.deposit_type,
	    s.deposit_amount, s.buffer_before_min, s.buffer_after_min, s.is_mobile,
	    s.is_active, s.show_staff_picker, s.custom_fields)::calendence.service_out)
$$;

-- Writes services.api_json (kept by the trigger services_api_json,
-- 00_tables.sql) where it is not service_json() of its row: rows from
-- before the column, or from before a change of service_json() (a
-- migration runs before the function files, so with the old definition).
-- `calendence-admin migrate` runs it once the function files are applied,
-- in the same transaction. Returns how many rows it wrote.
CREATE OR REPLACE FUNCTION calendence.refresh_service_json() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	n bigint;
BEGIN
	WITH u AS (UPDATE calendence.services s SET api_json = calendence.service_json(s)::text
	    WHERE s.api_json IS DISTINCT FROM calendence.service_json(s)::text RETURNING 1)
	SELECT count(*) INTO n FROM u;
	-- the lists of those rows were written by their trigger; the others'
	-- (a new service_list(), a change made with the triggers off)
	PERFORM calendence.refresh_service_list(b.id) FROM calendence.businesses b
	 WHERE (SELECT (l.n, l.list) FROM calendence.service_lists l WHERE l.business_id = b.id)
	       IS DISTINCT FROM (SELECT (x.n, x.list) FROM calendence.service_list(b.id) x);
	RETURN n;
END $$;

-- The list of a business's active services as a worker's catalogue reads
-- it with the admission (fcgi/catalogue.c, STMT_ADMIT_SERVICES): each
-- service, by name then id, as its id, the length in bytes of its JSON
-- (services.api_json), ':' and that JSON, joined with commas; n is how
-- many there are. list is NULL when there are none, or more than 500 (the
-- catalogue's CAT_MAX_ROWS: such a list is read by pages, not kept).
CREATE OR REPLACE FUNCTION calendence.service_list(p_business uuid, OUT n integer,
    OUT list text)
LANGUAGE sql STABLE AS $$
	SELECT count(*)::integer,
	       CASE WHEN count(*) <= 500 THEN string_agg(y.id::text || octet_length(y.body)
		   || ':' || y.body, ',' ORDER BY y.name, y.id) END
	  FROM (SELECT x.id, x.name, coalesce(x.api_json, calendence.service_json(x)::text) AS body
		  FROM calendence.services x WHERE x.business_id = p_business AND x.is_active
		 ORDER BY x.name, x.id LIMIT 501) y
$$;

-- Writes calendence.service_lists of one business as service_list() has
-- it now (no row for a business without active services, or gone).
CREATE OR REPLACE FUNCTION calendence.refresh_service_list(p_business uuid) RETURNS void
LANGUAGE sql AS $$
	DELETE FROM calendence.service_lists l WHERE l.business_id = p_business
	   AND NOT EXISTS (SELECT FROM calendence.services x
			    WHERE x.business_id = p_business AND x.is_active);
	INSERT INTO calendence.service_lists AS l (business_id, n, list)
	SELECT p_business, x.n, x.list FROM calendence.service_list(p_business) x
	 WHERE x.n > 0 AND EXISTS (SELECT FROM calendence.businesses b WHERE b.id = p_business)
	ON CONFLICT (business_id) DO UPDATE SET n = excluded.n, list = excluded.list
	 WHERE (l.n, l.list) IS DISTINCT FROM (excluded.n, excluded.list);
$$;

-- The JSON of a business as the API shows it; inlined as service_json() is.
-- created_at as calendence.rfc3339() writes it, spelled out: rfc3339() is
-- IMMUTABLE over a STABLE to_char(), which would stop the inlining here
CREATE OR REPLACE FUNCTION calendence.business_json(b calendence.businesses) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(ROW(b.id, b.name, b.slug, b.timezone, b.active,
	    to_char(b.created_at AT TIME ZONE 'UTC',
		'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'))::calendence.business_out)
$$;

-- {id, name} of a staff member, a location or a service; inlined as
-- service_json() is (one expression over ref_out, STABLE as row_to_json()).
CREATE OR REPLACE FUNCTION calendence.ref_json(id uuid, name text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(ROW(ref_json.id, ref_json.name)::calendence.ref_out)
$$;

-- The weekly hours of a location: {"monday": [{"opens": "09:00", "closes": "17:00"}], ...},
-- every day present, Monday first.
CREATE OR REPLACE FUNCTION calendence.location_hours_json(location uuid) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT ('{' || string_agg(to_json(calendence.weekday_name(wd))::text || ':' ||
	    coalesce((SELECT '[' || string_agg(row_to_json(h)::text, ',' ORDER BY h.opens) || ']'
	      FROM (SELECT to_char(lh.opens, 'HH24:MI') AS opens,
			   to_char(lh.closes, 'HH24:MI') AS closes
		      FROM calendence.location_hours lh
		     WHERE lh.location_id = location_hours_json.location
		       AND lh.weekday = wd) h), '[]'), ',' ORDER BY wd) || '}')::json
	  FROM generate_series(1, 7) wd
$$;

-- A location as GET /locations shows it.
CREATE OR REPLACE FUNCTION calendence.location_json(l calendence.locations) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT l.id, l.name, l.address, l.timezone,
	    calendence.location_hours_json(l.id) AS hours) x
$$;

-- GET /api/v1/locations: the business's active locations by name; total is
-- the count of all of them, data the JSON array of the page (p_limit NULL: all).
CREATE OR REPLACE FUNCTION calendence.locations_json(p_business uuid, p_limit integer DEFAULT NULL,
    p_offset bigint DEFAULT 0, OUT total bigint, OUT data text)
LANGUAGE sql STABLE AS $$
	SELECT (SELECT count(*) FROM calendence.locations
		 WHERE business_id = p_business AND active),
	       coalesce((SELECT '[' || string_agg(calendence.location_json(l)::text, ','
		   ORDER BY l.name, l.id) || ']'
		  FROM (SELECT * FROM calendence.locations
			 WHERE business_id = p_business AND active
			 ORDER BY name, id LIMIT p_limit OFFSET coalesce(p_offset, 0)) l), '[]')
$$;

-- A hold as POST /bookings/hold answers it.
CREATE OR REPLACE FUNCTION calendence.hold_json(r calendence.reservations) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT r.id AS hold_id, r.service_id, r.location_id,
	    calendence.ref_json(st.id, st.name) AS staff,
	    calendence.rfc3339(r.starts_at) AS starts_at,
	    calendence.rfc3339(r.ends_at) AS ends_at,
	    calendence.rfc3339(r.expires_at) AS expires_at
	  FROM calendence.staff st WHERE st.id = r.staff_id) x
$$;

-- A booking as the API shows it (SPEC 9); local times in the business's zone.
-- PL/pgSQL, so that its one query is planned once per connection: as a SQL
-- function reading four tables it is never inlined, and was planned anew
-- at every call (about 0.4 ms, a third of POST /bookings; make bench, w).
CREATE OR REPLACE FUNCTION calendence.booking_row_json(r calendence.reservations) RETURNS json
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (SELECT row_to_json(x) FROM (SELECT r.id, r.status,
	    calendence.ref_json(sv.id, sv.name) AS service,
	    calendence.ref_json(l.id, l.name) AS location,
	    calendence.ref_json(st.id, st.name) AS staff,
	    (SELECT row_to_json(c) FROM (SELECT r.client_first_name AS first_name,
		r.client_last_name AS last_name, r.client_email AS email,
		r.client_phone AS phone) c) AS client,
	    calendence.rfc3339(r.starts_at) AS starts_at,
	    calendence.rfc3339(r.ends_at) AS ends_at,
	    calendence.local_text(r.starts_at, b.timezone) AS starts_at_local,
	    calendence.local_text(r.ends_at, b.timezone) AS ends_at_local,
	    r.notes,
	    coalesce(r.custom_field_values, '{}'::json) AS custom_field_values,
	    calendence.rfc3339(r.booked_at) AS created_at,
	    calendence.rfc3339(r.updated_at) AS updated_at,
	    r.cancel_reason
	  FROM calendence.services sv, calendence.locations l, calendence.staff st,
	       calendence.businesses b
	 WHERE sv.id = r.service_id AND sv.business_id = r.business_id
	   AND l.id = r.location_id AND st.id = r.staff_id AND b.id = r.business_id) x);
END $$;
