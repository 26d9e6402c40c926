-- 004_booking.sql: the booking flow of SPEC 9: locations, staff, resources,
-- availability, holds, bookings and idempotency keys.
--
-- Conventions of this file (the C handlers rely on them):
--
-- * Weekdays are ISO: 1 = Monday ... 7 = Sunday, as extract(isodow ...).
-- * Opening and working hours are wall-clock times of the LOCATION's time zone
--   (ranges [opens, closes), several a day allowed, closes up to 24:00), and
--   so are staff blocked dates: the work happens there. The slot grid is also
--   laid in the location's local time, from local midnight, every
--   businesses.slot_minutes; so a +05:30 location has slots at 09:00 local.
--   Local times become instants with (local date + local time) AT TIME ZONE,
--   so daylight saving days are right: a spring-forward night has an hour
--   less, a fall-back night has the repeated hour twice.
-- * The dates of GET /availability (date_from, date_to, the keys of "data")
--   are the BUSINESS's local dates (SPEC 9); a slot is listed under the
--   business-local date of its start, and starts_at_local/ends_at_local are in
--   the business's time zone (SPEC 7). A location normally shares the
--   business's zone, and then all of these are one and the same.
-- * A slot reserves the service's duration_max (the longest the job can
--   take) plus its buffers: the reserved span [starts_at - buffer_before,
--   ends_at + buffer_after) must lie inside both the location's and the staff
--   member's hours, and may overlap no live reservation of the staff member
--   (nor of the resource taken, when the service needs one). Spans, not bare
--   times, are what the exclusion constraints compare.
-- * Functions called by the API take the caller's business first, so that
--   nothing crosses businesses, and take what comes from a request as text,
--   which they validate themselves. They answer with
--	status	'ok', or 'invalid:<param>' (422 validation_failed, param <param>),
--		'slot_unavailable' (409), 'hold_expired' (409), 'not_found' (404),
--		'not_cancellable' (409)
--	message	a sentence for the error envelope (NULL for 'ok')
--	body	the JSON to send for 'ok' (compact, in the field order of SPEC 9)
--   and POSTs with an Idempotency-Key also say whether the answer is a replay.
--   Only unexpected faults raise.

CREATE EXTENSION IF NOT EXISTS btree_gist;	-- uuid WITH = in the exclusion constraints

------------------------------------------------------------------------------
-- Helpers

-- True when every element of tags is a lowercase word such as 'detail' or 'bay'.
CREATE FUNCTION calendence.valid_tags(tags text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT NOT EXISTS (SELECT 1 FROM unnest(tags) t
	    WHERE t IS NULL OR t !~ '^[a-z0-9][a-z0-9_-]{0,39}$')
$$;

-- The English name of ISO weekday wd (1 = monday).
CREATE FUNCTION calendence.weekday_name(wd integer) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT (ARRAY['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday',
	    'sunday'])[wd]
$$;

-- t as a uuid, or NULL when it is not one.
CREATE FUNCTION calendence.parse_uuid(t text) RETURNS uuid
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN t ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
	    THEN t::uuid END
$$;

-- t (YYYY-MM-DD) as a date, or NULL when it is not a real calendar date.
CREATE FUNCTION calendence.parse_date(t text) RETURNS date
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	IF t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
		RETURN NULL;
	END IF;
	RETURN make_date(substr(t, 1, 4)::integer, substr(t, 6, 2)::integer,
	    substr(t, 9, 2)::integer);
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
	RETURN NULL;
END $$;

-- t, an RFC 3339 time with an explicit offset, as a timestamptz; else NULL.
CREATE FUNCTION calendence.parse_rfc3339(t text) RETURNS timestamptz
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	IF t !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$' THEN
		RETURN NULL;
	END IF;
	RETURN t::timestamptz;	-- an explicit offset: TimeZone plays no part
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
	RETURN NULL;
END $$;

-- t as local time of zone tz, without offset: 2026-03-24T09:00:00 (SPEC 7).
CREATE FUNCTION calendence.local_text(t timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
	SELECT to_char(t AT TIME ZONE tz, 'YYYY-MM-DD"T"HH24:MI:SS')
$$;

-- The instants of local times [a, b) of day in zone tz; empty when a time in
-- a spring-forward gap makes them run backwards.
CREATE FUNCTION calendence.local_span(day date, a time, b time, tz text) RETURNS tstzrange
LANGUAGE sql STABLE STRICT AS $$
	SELECT CASE WHEN lo < hi THEN tstzrange(lo, hi) ELSE 'empty'::tstzrange END
	  FROM (SELECT (day + a) AT TIME ZONE tz AS lo, (day + b) AT TIME ZONE tz AS hi) x
$$;

-- Weekly hours as a DBA writes them, one row per range:
--   {"monday": ["09:00-12:00", "13:00-17:00"], "saturday": [{"opens": "09:00",
--    "closes": "13:00"}]}
-- Days left out are closed; "24:00" may end a day. Raises 22023 on anything else.
CREATE FUNCTION calendence.parse_hours(hours jsonb)
    RETURNS TABLE (weekday smallint, opens time, closes time)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	d record;
	e jsonb;
	wd integer;
	m text[];
	a text;
	b text;
BEGIN
	IF hours IS NULL OR hours = 'null'::jsonb THEN
		RETURN;
	END IF;
	IF jsonb_typeof(hours) <> 'object' THEN
		RAISE EXCEPTION 'hours must be an object keyed by weekday name'
		    USING ERRCODE = '22023';
	END IF;
	FOR d IN SELECT j.key, j.value FROM jsonb_each(hours) j LOOP
		wd := array_position(ARRAY['monday', 'tuesday', 'wednesday', 'thursday',
		    'friday', 'saturday', 'sunday'], lower(d.key));
		IF wd IS NULL THEN
			RAISE EXCEPTION 'hours: "%" is not a weekday name', d.key
			    USING ERRCODE = '22023';
		END IF;
		IF jsonb_typeof(d.value) <> 'array' THEN
			RAISE EXCEPTION 'hours: % must be a list of ranges', d.key
			    USING ERRCODE = '22023';
		END IF;
		FOR e IN SELECT v FROM jsonb_array_elements(d.value) v LOOP
			a := NULL;
			b := NULL;
			IF jsonb_typeof(e) = 'string' THEN
				m := regexp_match(e #>> '{}',
				    '^\s*([0-9]{1,2}:[0-9]{2})\s*-\s*([0-9]{1,2}:[0-9]{2})\s*$');
				a := m[1];
				b := m[2];
			ELSIF jsonb_typeof(e) = 'object' THEN
				a := e->>'opens';
				b := e->>'closes';
			END IF;
			IF a IS NULL OR b IS NULL
			    OR a !~ '^([01]?[0-9]|2[0-3]):[0-5][0-9]$'
			    OR b !~ '^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$'
			    OR a::time >= b::time THEN
				RAISE EXCEPTION 'hours: % has a bad range %; write "HH:MM-HH:MM"',
				    d.key, e USING ERRCODE = '22023';
			END IF;
			weekday := wd;
			opens := a::time;
			closes := b::time;
			RETURN NEXT;
		END LOOP;
	END LOOP;
END $$;

------------------------------------------------------------------------------
-- Data: locations, staff, resources, and what a service needs

ALTER TABLE calendence.businesses
	ADD COLUMN slot_minutes integer NOT NULL DEFAULT 15
	    CHECK (slot_minutes IN (5, 10, 15, 20, 30, 60));

ALTER TABLE calendence.services
	ADD COLUMN required_skills text[] NOT NULL DEFAULT '{}'
	    CHECK (calendence.valid_tags(required_skills)),
	ADD COLUMN resource_type text CHECK (resource_type ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
	-- for the composite foreign keys that keep a reservation in one business
	ADD CONSTRAINT services_id_business UNIQUE (id, business_id);

CREATE TABLE calendence.locations (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	business_id	uuid NOT NULL REFERENCES calendence.businesses (id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	address		text CHECK (length(address) <= 500),
	timezone	text NOT NULL CHECK (calendence.is_iana_timezone(timezone)),
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (id, business_id)
);
CREATE INDEX locations_business_name ON calendence.locations (business_id, name, id);

-- Opening hours: local times of the location, ISO weekday (1 = Monday).
CREATE TABLE calendence.location_hours (
	location_id	uuid NOT NULL REFERENCES calendence.locations (id) ON DELETE CASCADE,
	weekday		smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
	opens		time NOT NULL,
	closes		time NOT NULL CHECK (closes <= '24:00'),
	PRIMARY KEY (location_id, weekday, opens),
	CHECK (opens < closes)
);

CREATE TABLE calendence.staff (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	business_id	uuid NOT NULL REFERENCES calendence.businesses (id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	skills		text[] NOT NULL DEFAULT '{}' CHECK (calendence.valid_tags(skills)),
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (id, business_id)
);
CREATE INDEX staff_business ON calendence.staff (business_id);

-- Where each staff member works; both in the same business.
CREATE TABLE calendence.staff_locations (
	staff_id	uuid NOT NULL,
	location_id	uuid NOT NULL,
	business_id	uuid NOT NULL,
	PRIMARY KEY (staff_id, location_id),
	FOREIGN KEY (staff_id, business_id) REFERENCES calendence.staff (id, business_id)
		ON DELETE CASCADE,
	FOREIGN KEY (location_id, business_id) REFERENCES calendence.locations (id, business_id)
		ON DELETE CASCADE
);
CREATE INDEX staff_locations_location ON calendence.staff_locations (location_id);

-- Working hours: local times of the location worked at, ISO weekday. A row
-- with a location applies there only; one without applies at each of the
-- staff member's locations. Rows add up.
CREATE TABLE calendence.staff_hours (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	staff_id	uuid NOT NULL REFERENCES calendence.staff (id) ON DELETE CASCADE,
	location_id	uuid,
	weekday		smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
	starts		time NOT NULL,
	ends		time NOT NULL CHECK (ends <= '24:00'),
	CHECK (starts < ends),
	UNIQUE NULLS NOT DISTINCT (staff_id, location_id, weekday, starts),
	-- only at a location the staff member works at
	FOREIGN KEY (staff_id, location_id)
		REFERENCES calendence.staff_locations (staff_id, location_id) ON DELETE CASCADE
);

-- Days off: local dates (of the location worked at) without any slot.
CREATE TABLE calendence.staff_blocked_dates (
	staff_id	uuid NOT NULL REFERENCES calendence.staff (id) ON DELETE CASCADE,
	day		date NOT NULL,
	reason		text CHECK (length(reason) <= 500),
	PRIMARY KEY (staff_id, day)
);

-- Bays, machines, vans: a service with a resource_type needs a free one of
-- that type at the location of the slot.
CREATE TABLE calendence.resources (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	business_id	uuid NOT NULL,
	location_id	uuid NOT NULL,
	type		text NOT NULL CHECK (type ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
	name		text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now(),
	UNIQUE (id, location_id),
	FOREIGN KEY (location_id, business_id) REFERENCES calendence.locations (id, business_id)
		ON DELETE CASCADE
);
CREATE INDEX resources_location_type ON calendence.resources (location_id, type);

-- Periods a resource cannot be used (maintenance, repairs).
CREATE TABLE calendence.resource_blocks (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	resource_id	uuid NOT NULL REFERENCES calendence.resources (id) ON DELETE CASCADE,
	during		tstzrange NOT NULL CHECK (NOT isempty(during) AND NOT lower_inf(during)),
	reason		text CHECK (length(reason) <= 500)
);
CREATE INDEX resource_blocks_during ON calendence.resource_blocks USING gist (resource_id, during);

------------------------------------------------------------------------------
-- Reservations: holds and the bookings made from them, in one table, so that
-- one pair of exclusion constraints covers both.
--
-- A hold is a row in status 'held' with expires_at. Booking it turns the same
-- row (same id) into a booking: 'confirmed' or 'pending_payment'. A row stops
-- blocking when it is 'expired' or 'cancelled'. The constraints cannot look at
-- now(), so a hold past its expires_at still counts for them until it is
-- marked 'expired': hold() does that, for the rows in its way, in the same
-- transaction as its INSERT. Everything that reads availability treats a
-- 'held' row past expires_at as free, so an expired hold stops blocking at
-- once, without any cleanup job.

CREATE TABLE calendence.reservations (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	business_id		uuid NOT NULL REFERENCES calendence.businesses (id)
				ON DELETE CASCADE,
	service_id		uuid NOT NULL,
	location_id		uuid NOT NULL,
	staff_id		uuid NOT NULL,
	resource_id		uuid,
	starts_at		timestamptz NOT NULL,	-- what the client books
	ends_at			timestamptz NOT NULL,
	during			tstzrange NOT NULL,	-- what it blocks: buffers included
	status			text NOT NULL CHECK (status IN ('held', 'expired',
				    'pending_payment', 'confirmed', 'in_progress', 'completed',
				    'cancelled')),
	expires_at		timestamptz,		-- holds only
	-- who made it: a session chain (its root session), or else an API key
	root_session_id		uuid,
	key_id			uuid,
	client_first_name	text CHECK (length(btrim(client_first_name)) BETWEEN 1 AND 100),
	client_last_name	text CHECK (length(btrim(client_last_name)) BETWEEN 1 AND 100),
	client_email		text CHECK (length(client_email) <= 254
				    AND client_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
	client_phone		text CHECK (client_phone ~ '^\+[1-9][0-9]{6,14}$'),
	notes			text CHECK (char_length(notes) <= 1000),
	custom_field_values	json,
	held_at			timestamptz NOT NULL DEFAULT now(),
	booked_at		timestamptz,		-- the booking's created_at
	cancelled_at		timestamptz,
	CHECK (ends_at > starts_at),
	CHECK (lower_inc(during) AND NOT upper_inc(during)
	    AND lower(during) <= starts_at AND upper(during) >= ends_at),
	CONSTRAINT reservations_hold_has_expiry CHECK (
		status NOT IN ('held', 'expired') OR expires_at IS NOT NULL),
	CONSTRAINT reservations_booking_has_client CHECK (
		(status IN ('held', 'expired')) = (booked_at IS NULL) AND
		(booked_at IS NULL OR (client_first_name IS NOT NULL
		    AND client_last_name IS NOT NULL AND client_email IS NOT NULL))),
	CONSTRAINT reservations_cancelled_at CHECK (
		(status = 'cancelled') = (cancelled_at IS NOT NULL)),
	FOREIGN KEY (service_id, business_id) REFERENCES calendence.services (id, business_id),
	FOREIGN KEY (location_id, business_id)
		REFERENCES calendence.locations (id, business_id),
	FOREIGN KEY (staff_id, business_id) REFERENCES calendence.staff (id, business_id),
	FOREIGN KEY (resource_id, location_id)
		REFERENCES calendence.resources (id, location_id),
	-- no two live reservations of one staff member, or of one resource, overlap
	CONSTRAINT reservations_staff_free EXCLUDE USING gist
		(staff_id WITH =, during WITH &&)
		WHERE (status NOT IN ('expired', 'cancelled')),
	CONSTRAINT reservations_resource_free EXCLUDE USING gist
		(resource_id WITH =, during WITH &&)
		WHERE (resource_id IS NOT NULL AND status NOT IN ('expired', 'cancelled'))
);
CREATE INDEX reservations_business_starts ON calendence.reservations (business_id, starts_at, id);
CREATE INDEX reservations_root_session ON calendence.reservations (root_session_id, starts_at)
	WHERE root_session_id IS NOT NULL;
CREATE INDEX reservations_held ON calendence.reservations (expires_at) WHERE status = 'held';

-- Idempotency-Key answers of the POSTs, per business, caller and key. The
-- caller (subject) is the root session of a session chain, else the API key.
-- request_hash covers the endpoint and its parameters. status/message/body
-- are what the function answered (NULL while the first request runs).
CREATE TABLE calendence.idempotency_keys (
	business_id	uuid NOT NULL REFERENCES calendence.businesses (id) ON DELETE CASCADE,
	subject		uuid NOT NULL,
	idem_key	text NOT NULL CHECK (idem_key ~ '^[\x21-\x7e]{1,255}$'),
	request_hash	bytea NOT NULL CHECK (length(request_hash) = 32),
	status		text,
	message		text,
	body		text,
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (business_id, subject, idem_key)
);
CREATE INDEX idempotency_keys_created ON calendence.idempotency_keys (created_at);

------------------------------------------------------------------------------
-- JSON shapes

-- The weekly hours of a location: {"monday": [{"opens": "09:00", "closes": "17:00"}], ...},
-- every day present, Monday first.
CREATE FUNCTION calendence.location_hours_json(location uuid) RETURNS json
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
CREATE FUNCTION calendence.location_json(l calendence.locations) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT l.id, l.name, l.address, l.timezone,
	    calendence.location_hours_json(l.id) AS hours) x
$$;

-- {id, name} of a staff member, a location or a service.
CREATE FUNCTION calendence.ref_json(id uuid, name text) RETURNS json
LANGUAGE sql IMMUTABLE AS $$
	SELECT row_to_json(x) FROM (SELECT ref_json.id, ref_json.name) x
$$;

-- A hold as POST /bookings/hold answers it.
CREATE FUNCTION calendence.hold_json(r calendence.reservations) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT r.id AS hold_id, r.service_id, r.location_id,
	    calendence.ref_json(st.id, st.name) AS staff,
	    calendence.rfc3339(r.starts_at) AS starts_at,
	    calendence.rfc3339(r.ends_at) AS ends_at,
	    calendence.rfc3339(r.expires_at) AS expires_at
	  FROM calendence.staff st WHERE st.id = r.staff_id) x
$$;

-- A booking as the API shows it (SPEC 9); local times in the business's zone.
CREATE FUNCTION calendence.booking_row_json(r calendence.reservations) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT r.id, r.status,
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
	    calendence.rfc3339(r.booked_at) AS created_at
	  FROM calendence.services sv, calendence.locations l, calendence.staff st,
	       calendence.businesses b
	 WHERE sv.id = r.service_id AND sv.business_id = r.business_id
	   AND l.id = r.location_id AND st.id = r.staff_id AND b.id = r.business_id) x
$$;

------------------------------------------------------------------------------
-- Availability

-- Every free slot of a service starting in [p_from, p_to): one row per
-- (start, staff member, location), with the resource it would take (the
-- first free one by name; NULL when the service needs none). The rules are
-- those at the top of this file; this one query is all of availability, and
-- hold() asks it about a single start. Set-based: the cost grows with days x
-- staff x grid points, with one index probe per candidate, never a round trip.
CREATE FUNCTION calendence.free_slots(p_business uuid, p_service uuid, p_from timestamptz,
    p_to timestamptz, p_staff uuid DEFAULT NULL, p_location uuid DEFAULT NULL)
    RETURNS TABLE (starts_at timestamptz, ends_at timestamptz, during tstzrange,
	staff_id uuid, location_id uuid, resource_id uuid)
LANGUAGE sql STABLE AS $$
WITH svc AS (
	SELECT s.required_skills, s.resource_type, b.slot_minutes,
	       make_interval(mins => s.duration_max) AS dur,
	       make_interval(mins => s.buffer_before_min) AS bb,
	       make_interval(mins => s.buffer_after_min) AS ba
	  FROM calendence.services s
	  JOIN calendence.businesses b ON b.id = s.business_id
	 WHERE s.id = p_service AND s.business_id = p_business AND s.is_active
), days AS (
	-- the local days of each location that a reserved span may touch
	SELECT l.id AS location_id, l.timezone AS tz, d::date AS day,
	       extract(isodow FROM d)::smallint AS wd
	  FROM calendence.locations l
	 CROSS JOIN LATERAL generate_series(
	       ((p_from AT TIME ZONE l.timezone)::date - 1)::timestamp,
	       ((p_to AT TIME ZONE l.timezone)::date + 1)::timestamp, interval '1 day') d
	 WHERE l.business_id = p_business AND l.active
	   AND (p_location IS NULL OR l.id = p_location)
), open AS (
	SELECT d.location_id, d.tz,
	       range_agg(calendence.local_span(d.day, h.opens, h.closes, d.tz)) AS hours
	  FROM days d
	  JOIN calendence.location_hours h ON h.location_id = d.location_id AND h.weekday = d.wd
	 GROUP BY d.location_id, d.tz
), work AS (
	-- qualified staff at each location, their blocked dates left out
	SELECT st.id AS staff_id, d.location_id,
	       range_agg(calendence.local_span(d.day, wh.starts, wh.ends, d.tz)) AS hours
	  FROM svc
	 CROSS JOIN days d
	  JOIN calendence.staff_locations sl ON sl.location_id = d.location_id
	  JOIN calendence.staff st ON st.id = sl.staff_id
	  JOIN calendence.staff_hours wh ON wh.staff_id = st.id AND wh.weekday = d.wd
	       AND (wh.location_id IS NULL OR wh.location_id = d.location_id)
	 WHERE st.active AND st.skills @> svc.required_skills
	   AND (p_staff IS NULL OR st.id = p_staff)
	   AND NOT EXISTS (SELECT 1 FROM calendence.staff_blocked_dates bd
			    WHERE bd.staff_id = st.id AND bd.day = d.day)
	 GROUP BY st.id, d.location_id
), cand AS (
	-- starts every 5 minutes inside each stretch when both are open, kept
	-- when on the local grid; 5 minutes divides every slot size, UTC offset
	-- and daylight saving shift in use, so no grid point is missed
	SELECT w.staff_id, w.location_id, t AS starts_at, t + svc.dur AS ends_at,
	       tstzrange(t - svc.bb, t + svc.dur + svc.ba) AS during
	  FROM svc
	 CROSS JOIN work w
	  JOIN open o ON o.location_id = w.location_id
	 CROSS JOIN LATERAL unnest(w.hours * o.hours) AS span
	 CROSS JOIN LATERAL generate_series(
	       to_timestamp(ceil(extract(epoch FROM greatest(lower(span) + svc.bb, p_from))
		   / 300) * 300),
	       least(upper(span) - svc.dur - svc.ba, p_to), interval '5 minutes') AS t
	 WHERE t >= p_from AND t < p_to AND t > now()
	   AND (extract(hour FROM t AT TIME ZONE o.tz) * 60
		+ extract(minute FROM t AT TIME ZONE o.tz))::integer % svc.slot_minutes = 0
)
SELECT c.starts_at, c.ends_at, c.during, c.staff_id, c.location_id, res.id
  FROM svc
 CROSS JOIN cand c
  LEFT JOIN LATERAL (
	SELECT rs.id FROM calendence.resources rs
	 WHERE svc.resource_type IS NOT NULL
	   AND rs.location_id = c.location_id AND rs.type = svc.resource_type AND rs.active
	   AND NOT EXISTS (SELECT 1 FROM calendence.resource_blocks rb
			    WHERE rb.resource_id = rs.id AND rb.during && c.during)
	   AND NOT EXISTS (SELECT 1 FROM calendence.reservations r
			    WHERE r.resource_id = rs.id AND r.during && c.during
			      AND r.status NOT IN ('expired', 'cancelled')
			      AND (r.status <> 'held' OR r.expires_at > now()))
	 ORDER BY rs.name, rs.id
	 LIMIT 1) res ON true
 WHERE (svc.resource_type IS NULL OR res.id IS NOT NULL)
   AND NOT EXISTS (SELECT 1 FROM calendence.reservations r
		    WHERE r.staff_id = c.staff_id AND r.during && c.during
		      AND r.status NOT IN ('expired', 'cancelled')
		      AND (r.status <> 'held' OR r.expires_at > now()))
$$;

-- GET /api/v1/availability, in one round trip.
--   p_service, p_date_from, p_date_to, p_staff, p_location: the query
--   parameters as sent (NULL when absent).
-- status 'ok' with body {"data": {"YYYY-MM-DD": [slot, ...], ...}, "meta":
-- {service_id, date_from, date_to, total_slots}}: every date of the range is
-- a key (an empty list when nothing is free), slots sorted by start, location
-- name, staff name. Or 'invalid:<param>' (service_id, date_from, date_to,
-- staff_id, location_id) with a message, checked in that order.
CREATE FUNCTION calendence.availability(p_business uuid, p_service text,
    p_date_from text, p_date_to text, p_staff text DEFAULT NULL,
    p_location text DEFAULT NULL, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_tz text;
	v_service uuid := calendence.parse_uuid(p_service);
	v_from date := calendence.parse_date(p_date_from);
	v_to date := calendence.parse_date(p_date_to);
	v_staff uuid := calendence.parse_uuid(p_staff);
	v_location uuid := calendence.parse_uuid(p_location);
BEGIN
	SELECT b.timezone INTO STRICT v_tz FROM calendence.businesses b WHERE b.id = p_business;
	IF v_service IS NULL OR NOT EXISTS (SELECT 1 FROM calendence.services s
	    WHERE s.id = v_service AND s.business_id = p_business AND s.is_active) THEN
		status := 'invalid:service_id';
		message := CASE WHEN p_service IS NULL THEN 'service_id is required.'
		    ELSE 'No such service.' END;
	ELSIF v_from IS NULL THEN
		status := 'invalid:date_from';
		message := CASE WHEN p_date_from IS NULL THEN 'date_from is required.'
		    ELSE 'date_from must be a date (YYYY-MM-DD).' END;
	ELSIF v_to IS NULL THEN
		status := 'invalid:date_to';
		message := CASE WHEN p_date_to IS NULL THEN 'date_to is required.'
		    ELSE 'date_to must be a date (YYYY-MM-DD).' END;
	ELSIF v_to < v_from THEN
		status := 'invalid:date_to';
		message := 'date_to must not be before date_from.';
	ELSIF v_to - v_from > 13 THEN
		status := 'invalid:date_to';
		message := 'The range may span at most 14 days.';
	ELSIF v_from < (now() AT TIME ZONE v_tz)::date THEN
		status := 'invalid:date_from';
		message := 'date_from must not be before today.';
	ELSIF p_staff IS NOT NULL AND (v_staff IS NULL OR NOT EXISTS (
	    SELECT 1 FROM calendence.staff st
	     WHERE st.id = v_staff AND st.business_id = p_business AND st.active)) THEN
		status := 'invalid:staff_id';
		message := 'No such staff member.';
	ELSIF p_location IS NOT NULL AND (v_location IS NULL OR NOT EXISTS (
	    SELECT 1 FROM calendence.locations l
	     WHERE l.id = v_location AND l.business_id = p_business AND l.active)) THEN
		status := 'invalid:location_id';
		message := 'No such location.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;

	WITH slot AS (
		SELECT f.starts_at, (f.starts_at AT TIME ZONE v_tz)::date AS day,
		       l.name AS l_name, l.id AS l_id, st.name AS st_name, st.id AS st_id,
		       row_to_json(x)::text AS j
		  FROM calendence.free_slots(p_business, v_service,
			   v_from::timestamp AT TIME ZONE v_tz,
			   (v_to + 1)::timestamp AT TIME ZONE v_tz, v_staff, v_location) f
		  JOIN calendence.staff st ON st.id = f.staff_id
		  JOIN calendence.locations l ON l.id = f.location_id
		 CROSS JOIN LATERAL (SELECT calendence.rfc3339(f.starts_at) AS starts_at,
			calendence.rfc3339(f.ends_at) AS ends_at,
			calendence.local_text(f.starts_at, v_tz) AS starts_at_local,
			calendence.local_text(f.ends_at, v_tz) AS ends_at_local,
			calendence.ref_json(st.id, st.name) AS staff,
			calendence.ref_json(l.id, l.name) AS location) x
	), per_day AS (
		SELECT s.day, count(*) AS n,
		       '[' || string_agg(s.j, ',' ORDER BY s.starts_at, s.l_name, s.l_id,
			   s.st_name, s.st_id) || ']' AS arr
		  FROM slot s GROUP BY s.day
	)
	SELECT '{"data":{' || string_agg(to_json(to_char(d.day, 'YYYY-MM-DD'))::text || ':'
		   || coalesce(p.arr, '[]'), ',' ORDER BY d.day) || '},"meta":'
	       || (SELECT row_to_json(m)::text FROM (SELECT v_service AS service_id,
		   to_char(v_from, 'YYYY-MM-DD') AS date_from,
		   to_char(v_to, 'YYYY-MM-DD') AS date_to,
		   (SELECT coalesce(sum(n), 0) FROM per_day)::bigint AS total_slots) m)
	       || '}'
	  INTO body
	  FROM (SELECT g::date AS day FROM generate_series(v_from::timestamp,
		   v_to::timestamp, interval '1 day') g) d
	  LEFT JOIN per_day p ON p.day = d.day;
	status := 'ok';
END $$;

-- GET /api/v1/locations: the business's active locations by name; total is
-- the count of all of them, data the JSON array of the page (p_limit NULL: all).
CREATE FUNCTION calendence.locations_json(p_business uuid, p_limit integer DEFAULT NULL,
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

------------------------------------------------------------------------------
-- Idempotency keys

-- Claims Idempotency-Key idem_key of subject for a request with hash h, in
-- the caller's transaction. state:
--   'none'     no key (or no subject): go ahead, nothing is remembered
--   'new'      the key is now this request's: go ahead, then idem_store()
--   'replay'   the same request was answered: status/message/body are that answer
--   'mismatch' the key was used for another request in the last 24 hours
--   'invalid'  the key is not 1-255 printable ASCII characters
-- A concurrent request with the same key waits here until the first commits.
CREATE FUNCTION calendence.idem_claim(p_business uuid, p_subject uuid, p_key text,
    h bytea, OUT state text, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	k calendence.idempotency_keys;
BEGIN
	IF p_key IS NULL OR p_subject IS NULL THEN
		state := 'none';
		RETURN;
	END IF;
	IF p_key !~ '^[\x21-\x7e]{1,255}$' THEN
		state := 'invalid';
		RETURN;
	END IF;
	INSERT INTO calendence.idempotency_keys AS i (business_id, subject, idem_key,
	    request_hash)
	VALUES (p_business, p_subject, p_key, h)
	ON CONFLICT (business_id, subject, idem_key) DO UPDATE
	    SET request_hash = EXCLUDED.request_hash, status = NULL, message = NULL,
		body = NULL, created_at = now()
	    WHERE i.created_at <= now() - interval '24 hours'
	RETURNING i.* INTO k;
	IF FOUND THEN
		state := 'new';
		RETURN;
	END IF;
	SELECT * INTO STRICT k FROM calendence.idempotency_keys i
	 WHERE i.business_id = p_business AND i.subject = p_subject AND i.idem_key = p_key;
	IF k.request_hash <> h THEN
		state := 'mismatch';
	ELSE
		state := 'replay';
		status := k.status;
		message := k.message;
		body := k.body;
	END IF;
END $$;

-- Remembers the answer to a request that idem_claim() said 'new' to. An
-- 'invalid:...' answer is forgotten instead: the request never ran, and the
-- client may send a corrected one with the same key.
CREATE FUNCTION calendence.idem_store(p_business uuid, p_subject uuid, p_key text,
    p_status text, p_message text, p_body text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF p_status LIKE 'invalid:%' THEN
		DELETE FROM calendence.idempotency_keys
		 WHERE business_id = p_business AND subject = p_subject AND idem_key = p_key;
	ELSE
		UPDATE calendence.idempotency_keys
		   SET status = p_status, message = p_message, body = p_body
		 WHERE business_id = p_business AND subject = p_subject AND idem_key = p_key;
	END IF;
END $$;

------------------------------------------------------------------------------
-- Holds and bookings

-- A hold of a free slot, without idempotency (hold() adds it). See hold().
CREATE FUNCTION calendence.make_hold(p_business uuid, p_service text, p_location text,
    p_starts_at text, p_staff text DEFAULT NULL, p_root_session uuid DEFAULT NULL,
    p_key uuid DEFAULT NULL, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_service uuid := calendence.parse_uuid(p_service);
	v_location uuid := calendence.parse_uuid(p_location);
	v_start timestamptz := calendence.parse_rfc3339(p_starts_at);
	v_staff uuid := calendence.parse_uuid(p_staff);
	v_slot record;
	v_row calendence.reservations;
BEGIN
	IF v_service IS NULL OR NOT EXISTS (SELECT 1 FROM calendence.services s
	    WHERE s.id = v_service AND s.business_id = p_business AND s.is_active) THEN
		status := 'invalid:service_id';
		message := CASE WHEN p_service IS NULL THEN 'service_id is required.'
		    ELSE 'No such service.' END;
	ELSIF v_location IS NULL OR NOT EXISTS (SELECT 1 FROM calendence.locations l
	    WHERE l.id = v_location AND l.business_id = p_business AND l.active) THEN
		status := 'invalid:location_id';
		message := CASE WHEN p_location IS NULL THEN 'location_id is required.'
		    ELSE 'No such location.' END;
	ELSIF v_start IS NULL THEN
		status := 'invalid:starts_at';
		message := CASE WHEN p_starts_at IS NULL THEN 'starts_at is required.'
		    ELSE 'starts_at must be an RFC 3339 time with an offset.' END;
	ELSIF v_start <= now() THEN
		status := 'invalid:starts_at';
		message := 'starts_at must be in the future.';
	ELSIF p_staff IS NOT NULL AND (v_staff IS NULL OR NOT EXISTS (
	    SELECT 1 FROM calendence.staff st
	     WHERE st.id = v_staff AND st.business_id = p_business AND st.active)) THEN
		status := 'invalid:staff_id';
		message := 'No such staff member.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;

	-- A concurrent hold may take the staff member or resource chosen between
	-- the look and the INSERT: the exclusion constraint then refuses ours
	-- (after the other commits), and the next look sees it. Bounded retries.
	FOR attempt IN 1 .. 5 LOOP
		SELECT f.* INTO v_slot
		  FROM calendence.free_slots(p_business, v_service, v_start,
			   v_start + interval '1 microsecond', v_staff, v_location) f
		  JOIN calendence.staff st ON st.id = f.staff_id
		 ORDER BY st.name, st.id
		 LIMIT 1;
		EXIT WHEN NOT FOUND;
		BEGIN
			-- lapsed holds in the way stop counting for the constraints
			UPDATE calendence.reservations r SET status = 'expired'
			 WHERE r.status = 'held' AND r.expires_at <= now()
			   AND r.during && v_slot.during
			   AND (r.staff_id = v_slot.staff_id OR r.resource_id = v_slot.resource_id);
			INSERT INTO calendence.reservations (business_id, service_id, location_id,
			    staff_id, resource_id, starts_at, ends_at, during, status, expires_at,
			    root_session_id, key_id)
			VALUES (p_business, v_service, v_location, v_slot.staff_id,
			    v_slot.resource_id, v_slot.starts_at, v_slot.ends_at, v_slot.during,
			    'held', now() + interval '10 minutes', p_root_session, p_key)
			RETURNING * INTO v_row;
			EXIT;
		EXCEPTION WHEN exclusion_violation OR deadlock_detected THEN
			v_row := NULL;
		END;
	END LOOP;
	IF v_row.id IS NULL THEN
		status := 'slot_unavailable';
		message := 'This slot is not available.';
		RETURN;
	END IF;
	status := 'ok';
	body := calendence.hold_json(v_row)::text;
END $$;

-- POST /api/v1/bookings/hold, in one round trip.
--   p_service, p_location, p_starts_at, p_staff: the body's fields as sent
--   (text; NULL when absent); p_root_session: the caller's root session (a
--   session token), else NULL; p_key: the caller's key id (authenticate()'s
--   key_id); p_idem_key: the Idempotency-Key header, or NULL.
-- status 'ok' (201) with body {hold_id, service_id, location_id, staff: {id,
-- name}, starts_at, ends_at, expires_at}, the hold living 10 minutes;
-- 'slot_unavailable' (409) when the start is not a free slot of the service
-- at that location (for that staff member, when given; else any qualified
-- one is picked, by name); 'invalid:<param>' (422) for service_id,
-- location_id, starts_at (missing, not RFC 3339, not in the future),
-- staff_id, or Idempotency-Key (malformed, or already used with another
-- request). replayed: the answer is the remembered one of an earlier request.
CREATE FUNCTION calendence.hold(p_business uuid, p_service text, p_location text,
    p_starts_at text, p_staff text DEFAULT NULL, p_root_session uuid DEFAULT NULL,
    p_key uuid DEFAULT NULL, p_idem_key text DEFAULT NULL, OUT status text,
    OUT message text, OUT body text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_subject constant uuid := coalesce(p_root_session, p_key);
	c record;
	h record;
BEGIN
	replayed := false;
	c := calendence.idem_claim(p_business, v_subject, p_idem_key,
	    sha256(convert_to(jsonb_build_array('hold', p_service, p_location, p_starts_at,
		p_staff)::text, 'UTF8')));
	IF c.state = 'invalid' THEN
		status := 'invalid:Idempotency-Key';
		message := 'Idempotency-Key must be 1 to 255 printable ASCII characters.';
	ELSIF c.state = 'mismatch' THEN
		status := 'invalid:Idempotency-Key';
		message := 'This Idempotency-Key was already used with another request.';
	ELSIF c.state = 'replay' THEN
		status := c.status;
		message := c.message;
		body := c.body;
		replayed := true;
	ELSE
		h := calendence.make_hold(p_business, p_service, p_location, p_starts_at,
		    p_staff, p_root_session, p_key);
		status := h.status;
		message := h.message;
		body := h.body;
		IF c.state = 'new' THEN
			PERFORM calendence.idem_store(p_business, v_subject, p_idem_key, status,
			    message, body);
		END IF;
	END IF;
END $$;

-- The custom_field_values of a booking checked against the service's
-- definitions: bad is NULL and val the normalised JSON object (definition
-- order, only fields with a value), or bad names the offending parameter
-- ('custom_field_values' or 'custom_field_values.<id>') with a message.
CREATE FUNCTION calendence.check_custom_fields(defs jsonb, vals jsonb,
    OUT bad text, OUT message text, OUT val json)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	f record;
	v jsonb;
	out_parts text[] := '{}';
	k text;
BEGIN
	IF vals IS NULL OR vals = 'null'::jsonb THEN
		vals := '{}';
	END IF;
	IF jsonb_typeof(vals) <> 'object' THEN
		bad := 'custom_field_values';
		message := 'custom_field_values must be an object keyed by field id.';
		RETURN;
	END IF;
	SELECT j.key INTO k FROM jsonb_object_keys(vals) j(key)
	 WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(defs) d WHERE d->>'id' = j.key)
	 ORDER BY j.key LIMIT 1;
	IF k IS NOT NULL THEN
		bad := 'custom_field_values.' || k;
		message := 'This service has no custom field "' || k || '".';
		RETURN;
	END IF;
	FOR f IN SELECT d AS def, d->>'id' AS id FROM jsonb_array_elements(defs)
	    WITH ORDINALITY AS e(d, n) ORDER BY n LOOP
		v := vals -> f.id;
		IF v IS NULL OR v = 'null'::jsonb OR v = '""'::jsonb THEN
			IF (f.def->>'required')::boolean THEN
				bad := 'custom_field_values.' || f.id;
				message := '"' || (f.def->>'label') || '" is required.';
				RETURN;
			END IF;
			CONTINUE;
		END IF;
		IF jsonb_typeof(v) <> 'string' OR char_length(v #>> '{}') > 1000 THEN
			bad := 'custom_field_values.' || f.id;
			message := '"' || (f.def->>'label') || '" must be text of at most 1000 characters.';
			RETURN;
		END IF;
		IF f.def->>'type' = 'select' AND NOT (f.def->'options') @> jsonb_build_array(v) THEN
			bad := 'custom_field_values.' || f.id;
			message := '"' || (f.def->>'label') || '" must be one of its options.';
			RETURN;
		END IF;
		out_parts := out_parts || (to_json(f.id)::text || ':' || to_json(v #>> '{}')::text);
	END LOOP;
	val := ('{' || array_to_string(out_parts, ',') || '}')::json;
END $$;

-- The client of a booking checked: bad is NULL when it is fine, else the
-- offending parameter ('client' or 'client.<field>') with a message.
CREATE FUNCTION calendence.check_client(c jsonb, OUT bad text, OUT message text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	n text;
BEGIN
	IF c IS NULL OR jsonb_typeof(c) <> 'object' THEN
		bad := 'client';
		message := 'client is required: {first_name, last_name, email, phone?}.';
		RETURN;
	END IF;
	FOREACH n IN ARRAY ARRAY['first_name', 'last_name'] LOOP
		IF jsonb_typeof(c->n) IS DISTINCT FROM 'string'
		    OR length(btrim(c->>n)) NOT BETWEEN 1 AND 100 THEN
			bad := 'client.' || n;
			message := 'client.' || n || ' is required (at most 100 characters).';
			RETURN;
		END IF;
	END LOOP;
	IF jsonb_typeof(c->'email') IS DISTINCT FROM 'string' OR length(c->>'email') > 254
	    OR c->>'email' !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' THEN
		bad := 'client.email';
		message := 'client.email must be an email address.';
	ELSIF c->'phone' IS NOT NULL AND c->'phone' <> 'null'::jsonb
	    AND (jsonb_typeof(c->'phone') <> 'string'
		 OR c->>'phone' !~ '^\+[1-9][0-9]{6,14}$') THEN
		bad := 'client.phone';
		message := 'client.phone must be in E.164 form, such as +13125550100.';
	END IF;
END $$;

-- A booking from a hold, without idempotency (book() adds it). See book().
CREATE FUNCTION calendence.make_booking(p_business uuid, p_hold text, p_client jsonb,
    p_fields jsonb DEFAULT NULL, p_notes text DEFAULT NULL,
    p_root_session uuid DEFAULT NULL, p_key uuid DEFAULT NULL,
    OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_hold uuid := calendence.parse_uuid(p_hold);
	v_row calendence.reservations;
	v_svc calendence.services;
	cl record;
	cf record;
BEGIN
	-- only the caller's own holds: its session chain, or else its key
	SELECT r.* INTO v_row FROM calendence.reservations r
	 WHERE r.id = v_hold AND r.business_id = p_business
	   AND CASE WHEN p_root_session IS NOT NULL THEN r.root_session_id = p_root_session
		    ELSE r.root_session_id IS NULL AND r.key_id IS NOT DISTINCT FROM p_key END
	   FOR UPDATE;
	IF NOT FOUND THEN
		status := 'invalid:hold_id';
		message := CASE WHEN p_hold IS NULL THEN 'hold_id is required.'
		    ELSE 'No such hold.' END;
		RETURN;
	END IF;
	SELECT * INTO STRICT v_svc FROM calendence.services s
	 WHERE s.id = v_row.service_id AND s.business_id = p_business;
	cl := calendence.check_client(p_client);
	cf := calendence.check_custom_fields(v_svc.custom_fields, p_fields);
	IF cl.bad IS NOT NULL THEN
		status := 'invalid:' || cl.bad;
		message := cl.message;
	ELSIF cf.bad IS NOT NULL THEN
		status := 'invalid:' || cf.bad;
		message := cf.message;
	ELSIF char_length(p_notes) > 1000 THEN
		status := 'invalid:notes';
		message := 'notes may be at most 1000 characters.';
	ELSIF v_row.status <> 'held' THEN
		status := 'hold_expired';
		message := CASE WHEN v_row.status = 'expired' THEN 'This hold has expired.'
		    ELSE 'This hold was already used.' END;
	ELSIF v_row.expires_at <= now() THEN
		UPDATE calendence.reservations SET status = 'expired' WHERE id = v_row.id;
		status := 'hold_expired';
		message := 'This hold has expired.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;
	UPDATE calendence.reservations r SET
		status = CASE WHEN v_svc.deposit_type = 'none' THEN 'confirmed'
		    ELSE 'pending_payment' END,
		expires_at = NULL,
		booked_at = now(),
		client_first_name = btrim(p_client->>'first_name'),
		client_last_name = btrim(p_client->>'last_name'),
		client_email = p_client->>'email',
		client_phone = nullif(p_client->>'phone', ''),
		notes = p_notes,
		custom_field_values = cf.val
	 WHERE r.id = v_row.id
	RETURNING r.* INTO v_row;
	status := 'ok';
	body := calendence.booking_row_json(v_row)::text;
END $$;

-- POST /api/v1/bookings, in one round trip.
--   p_hold: hold_id as sent; p_client: the client object (JSON as sent, NULL
--   when absent); p_fields: custom_field_values (NULL when absent); p_notes:
--   notes (NULL when absent); p_root_session, p_key, p_idem_key: as hold().
-- status 'ok' (201) with the booking (booking_json()'s shape), 'confirmed',
-- or 'pending_payment' when the service takes a deposit; 'hold_expired'
-- (409) when the hold lapsed or was already booked; 'invalid:<param>' (422)
-- for hold_id (missing, unknown, or another caller's), client,
-- client.first_name, client.last_name, client.email, client.phone,
-- custom_field_values[.<field id>], notes, Idempotency-Key (in that order).
CREATE FUNCTION calendence.book(p_business uuid, p_hold text, p_client jsonb,
    p_fields jsonb DEFAULT NULL, p_notes text DEFAULT NULL,
    p_root_session uuid DEFAULT NULL, p_key uuid DEFAULT NULL,
    p_idem_key text DEFAULT NULL, OUT status text, OUT message text, OUT body text,
    OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_subject constant uuid := coalesce(p_root_session, p_key);
	c record;
	b record;
BEGIN
	replayed := false;
	c := calendence.idem_claim(p_business, v_subject, p_idem_key,
	    sha256(convert_to(jsonb_build_array('book', p_hold, p_client, p_fields,
		p_notes)::text, 'UTF8')));
	IF c.state = 'invalid' THEN
		status := 'invalid:Idempotency-Key';
		message := 'Idempotency-Key must be 1 to 255 printable ASCII characters.';
	ELSIF c.state = 'mismatch' THEN
		status := 'invalid:Idempotency-Key';
		message := 'This Idempotency-Key was already used with another request.';
	ELSIF c.state = 'replay' THEN
		status := c.status;
		message := c.message;
		body := c.body;
		replayed := true;
	ELSE
		b := calendence.make_booking(p_business, p_hold, p_client, p_fields, p_notes,
		    p_root_session, p_key);
		status := b.status;
		message := b.message;
		body := b.body;
		IF c.state = 'new' THEN
			PERFORM calendence.idem_store(p_business, v_subject, p_idem_key, status,
			    message, body);
		END IF;
	END IF;
END $$;

-- GET /api/v1/bookings/{id}: the booking's JSON, or NULL (404) when id is
-- malformed, names no booking of the business (holds are not bookings), or,
-- for a session caller (p_root_session), one made outside its session chain.
CREATE FUNCTION calendence.booking_json(p_business uuid, p_id text,
    p_root_session uuid DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT calendence.booking_row_json(r)::text FROM calendence.reservations r
	 WHERE r.id = calendence.parse_uuid(p_id) AND r.business_id = p_business
	   AND r.status NOT IN ('held', 'expired')
	   AND (p_root_session IS NULL OR r.root_session_id = p_root_session)
$$;

-- GET /api/v1/bookings: the business's bookings (a session caller: its
-- chain's) by starts_at, filtered and paginated.
--   p_status: one of the five statuses, or NULL for all
--   p_from, p_to: a business-local date (YYYY-MM-DD: from its start; to
--   through its end) or an RFC 3339 time (to: exclusive), NULL for no bound;
--   bookings whose starts_at falls in between
--   p_limit, p_offset: the page (from the C side's page/per_page)
-- status 'ok' with total (all matching) and data (the page's JSON array);
-- or 'invalid:status' | 'invalid:from' | 'invalid:to' with a message.
CREATE FUNCTION calendence.bookings_list(p_business uuid, p_status text, p_from text,
    p_to text, p_limit integer, p_offset bigint, p_root_session uuid DEFAULT NULL,
    OUT status text, OUT message text, OUT total bigint, OUT data text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_tz text;
	v_from timestamptz;
	v_to timestamptz;
BEGIN
	SELECT b.timezone INTO STRICT v_tz FROM calendence.businesses b WHERE b.id = p_business;
	v_from := coalesce(calendence.parse_rfc3339(p_from),
	    calendence.parse_date(p_from)::timestamp AT TIME ZONE v_tz);
	v_to := coalesce(calendence.parse_rfc3339(p_to),
	    (calendence.parse_date(p_to) + 1)::timestamp AT TIME ZONE v_tz);
	IF p_status IS NOT NULL AND p_status NOT IN ('pending_payment', 'confirmed',
	    'in_progress', 'completed', 'cancelled') THEN
		status := 'invalid:status';
		message := 'status must be pending_payment, confirmed, in_progress, completed or cancelled.';
	ELSIF p_from IS NOT NULL AND v_from IS NULL THEN
		status := 'invalid:from';
		message := 'from must be a date (YYYY-MM-DD) or an RFC 3339 time.';
	ELSIF p_to IS NOT NULL AND v_to IS NULL THEN
		status := 'invalid:to';
		message := 'to must be a date (YYYY-MM-DD) or an RFC 3339 time.';
	ELSIF v_to <= v_from THEN
		status := 'invalid:to';
		message := 'to must be after from.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;
	SELECT count(*) INTO total FROM calendence.reservations r
	 WHERE r.business_id = p_business AND r.status NOT IN ('held', 'expired')
	   AND (p_status IS NULL OR r.status = p_status)
	   AND (v_from IS NULL OR r.starts_at >= v_from)
	   AND (v_to IS NULL OR r.starts_at < v_to)
	   AND (p_root_session IS NULL OR r.root_session_id = p_root_session);
	SELECT coalesce('[' || string_agg(calendence.booking_row_json(r)::text, ','
		   ORDER BY r.starts_at, r.id) || ']', '[]')
	  INTO data
	  FROM (SELECT * FROM calendence.reservations r
		 WHERE r.business_id = p_business AND r.status NOT IN ('held', 'expired')
		   AND (p_status IS NULL OR r.status = p_status)
		   AND (v_from IS NULL OR r.starts_at >= v_from)
		   AND (v_to IS NULL OR r.starts_at < v_to)
		   AND (p_root_session IS NULL OR r.root_session_id = p_root_session)
		 ORDER BY r.starts_at, r.id LIMIT p_limit OFFSET coalesce(p_offset, 0)) r;
	status := 'ok';
END $$;

-- POST /api/v1/bookings/{id}/cancel: status 'ok' with the booking, now
-- 'cancelled' (its slot free again; cancelling a cancelled booking answers
-- the same); 'not_found' (404) as booking_json(); 'not_cancellable' (409)
-- when it is in_progress or completed.
CREATE FUNCTION calendence.cancel_booking(p_business uuid, p_id text,
    p_root_session uuid DEFAULT NULL, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_row calendence.reservations;
BEGIN
	SELECT r.* INTO v_row FROM calendence.reservations r
	 WHERE r.id = calendence.parse_uuid(p_id) AND r.business_id = p_business
	   AND r.status NOT IN ('held', 'expired')
	   AND (p_root_session IS NULL OR r.root_session_id = p_root_session)
	   FOR UPDATE;
	IF NOT FOUND THEN
		status := 'not_found';
		message := 'No such booking.';
		RETURN;
	END IF;
	IF v_row.status IN ('in_progress', 'completed') THEN
		status := 'not_cancellable';
		message := 'A booking that is ' || replace(v_row.status, '_', ' ')
		    || ' cannot be cancelled.';
		RETURN;
	END IF;
	IF v_row.status <> 'cancelled' THEN
		UPDATE calendence.reservations r SET status = 'cancelled', cancelled_at = now()
		 WHERE r.id = v_row.id
		RETURNING r.* INTO v_row;
	END IF;
	status := 'ok';
	body := calendence.booking_row_json(v_row)::text;
END $$;

-- Removes what can no longer matter: Idempotency-Key answers older than a
-- day, and holds that lapsed more than a day ago (a booking attempt with one
-- then gets 'invalid:hold_id' instead of 'hold_expired'). Safe to run from
-- many places at once; availability never depends on it.
CREATE FUNCTION calendence.booking_maintenance(OUT keys_removed bigint,
    OUT holds_removed bigint)
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM calendence.idempotency_keys WHERE created_at < now() - interval '24 hours';
	GET DIAGNOSTICS keys_removed = ROW_COUNT;
	DELETE FROM calendence.reservations
	 WHERE status IN ('held', 'expired') AND expires_at < now() - interval '1 day';
	GET DIAGNOSTICS holds_removed = ROW_COUNT;
END $$;

------------------------------------------------------------------------------
-- DBA functions (a DBA may also use plain INSERT/UPDATE: the tables check
-- themselves). Each raises 22023 with a message on a bad argument.

-- Replaces the weekly hours of a location (format: parse_hours()).
CREATE FUNCTION calendence.set_location_hours(location uuid, hours jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.locations l WHERE l.id = location) THEN
		RAISE EXCEPTION 'no location %', location USING ERRCODE = '22023';
	END IF;
	DELETE FROM calendence.location_hours h WHERE h.location_id = location;
	INSERT INTO calendence.location_hours (location_id, weekday, opens, closes)
	SELECT location, p.weekday, p.opens, p.closes FROM calendence.parse_hours(hours) p;
END $$;

-- A new location of a business; timezone NULL: the business's.
CREATE FUNCTION calendence.create_location(business uuid, name text,
    address text DEFAULT NULL, timezone text DEFAULT NULL, hours jsonb DEFAULT NULL)
    RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_tz text;
	v_id uuid;
BEGIN
	SELECT b.timezone INTO v_tz FROM calendence.businesses b WHERE b.id = business;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no business %', business USING ERRCODE = '22023';
	END IF;
	v_tz := coalesce(timezone, v_tz);
	IF NOT calendence.is_iana_timezone(v_tz) THEN
		RAISE EXCEPTION 'unknown time zone "%"', v_tz USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.locations (business_id, name, address, timezone)
	VALUES (business, name, address, v_tz) RETURNING id INTO v_id;
	PERFORM calendence.set_location_hours(v_id, hours);
	RETURN v_id;
END $$;

-- Replaces a staff member's working hours at one location (location NULL:
-- the hours that apply at each of their locations). Format: parse_hours().
CREATE FUNCTION calendence.set_staff_hours(staff uuid, hours jsonb,
    location uuid DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.staff s WHERE s.id = staff) THEN
		RAISE EXCEPTION 'no staff member %', staff USING ERRCODE = '22023';
	END IF;
	IF location IS NOT NULL AND NOT EXISTS (SELECT 1 FROM calendence.staff_locations sl
	    WHERE sl.staff_id = staff AND sl.location_id = location) THEN
		RAISE EXCEPTION 'staff member % does not work at location %', staff, location
		    USING ERRCODE = '22023';
	END IF;
	DELETE FROM calendence.staff_hours h
	 WHERE h.staff_id = staff AND h.location_id IS NOT DISTINCT FROM location;
	INSERT INTO calendence.staff_hours (staff_id, location_id, weekday, starts, ends)
	SELECT staff, location, p.weekday, p.opens, p.closes FROM calendence.parse_hours(hours) p;
END $$;

-- A new staff member of a business, working at locations (of that business)
-- with these skills and these hours at each of them.
CREATE FUNCTION calendence.create_staff(business uuid, name text, locations uuid[],
    skills text[] DEFAULT '{}', hours jsonb DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.businesses b WHERE b.id = business) THEN
		RAISE EXCEPTION 'no business %', business USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(coalesce(locations, '{}')) u(id)
	    WHERE NOT EXISTS (SELECT 1 FROM calendence.locations l
		WHERE l.id = u.id AND l.business_id = business)) THEN
		RAISE EXCEPTION 'every location must be one of business %', business
		    USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.staff (business_id, name, skills)
	VALUES (business, name, coalesce(skills, '{}')) RETURNING id INTO v_id;
	INSERT INTO calendence.staff_locations (staff_id, location_id, business_id)
	SELECT DISTINCT v_id, u.id, business FROM unnest(coalesce(locations, '{}')) u(id);
	PERFORM calendence.set_staff_hours(v_id, hours);
	RETURN v_id;
END $$;

-- A local date on which a staff member takes no booking (again: no-op).
CREATE FUNCTION calendence.block_staff_date(staff uuid, day date, reason text DEFAULT NULL)
    RETURNS void
LANGUAGE sql AS $$
	INSERT INTO calendence.staff_blocked_dates (staff_id, day, reason)
	VALUES (staff, day, reason)
	ON CONFLICT (staff_id, day) DO UPDATE SET reason = EXCLUDED.reason
$$;

-- A new resource (type such as 'bay', 'machine', 'van') at a location.
CREATE FUNCTION calendence.create_resource(location uuid, type text, name text)
    RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	INSERT INTO calendence.resources (business_id, location_id, type, name)
	SELECT l.business_id, l.id, create_resource.type, create_resource.name
	  FROM calendence.locations l WHERE l.id = create_resource.location
	RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'no location %', location USING ERRCODE = '22023';
	END IF;
	RETURN v_id;
END $$;

-- A period [starts, ends) in which a resource cannot be used.
CREATE FUNCTION calendence.block_resource(resource uuid, starts timestamptz,
    ends timestamptz, reason text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	IF starts IS NULL OR ends IS NULL OR ends <= starts THEN
		RAISE EXCEPTION 'a block needs starts < ends' USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.resource_blocks (resource_id, during, reason)
	VALUES (resource, tstzrange(starts, ends), reason) RETURNING id INTO v_id;
	RETURN v_id;
END $$;

-- What a service needs: staff with all of skills, and a resource of
-- resource_type (NULL: none).
CREATE FUNCTION calendence.set_service_needs(service uuid, skills text[],
    resource_type text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE calendence.services s SET required_skills = coalesce(skills, '{}'),
	    resource_type = set_service_needs.resource_type
	 WHERE s.id = service;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no service %', service USING ERRCODE = '22023';
	END IF;
END $$;

-- The booking side of the demo: two locations, four staff, bays and a van,
-- what each demo service needs, and a mobile service when there is none.
-- Does nothing for a business that already has locations.
CREATE FUNCTION calendence.load_demo_booking(business uuid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_tz text;
	dt uuid;
	ns uuid;
	st uuid;
	week constant jsonb := '{"monday": ["08:00-18:00"], "tuesday": ["08:00-18:00"],
	    "wednesday": ["08:00-18:00"], "thursday": ["08:00-18:00"],
	    "friday": ["08:00-18:00"], "saturday": ["09:00-16:00"]}';
BEGIN
	SELECT b.timezone INTO v_tz FROM calendence.businesses b WHERE b.id = business;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no business %', business USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM calendence.locations l WHERE l.business_id = business) THEN
		RETURN;
	END IF;
	dt := calendence.create_location(business, 'Downtown Studio',
	    '120 W Madison St, Chicago, IL 60602', v_tz, week);
	ns := calendence.create_location(business, 'Northside Garage',
	    '4200 N Lincoln Ave, Chicago, IL 60618', v_tz,
	    '{"monday": ["09:00-12:00", "13:00-17:00"], "tuesday": ["09:00-12:00", "13:00-17:00"],
	      "wednesday": ["09:00-12:00", "13:00-17:00"], "thursday": ["09:00-12:00", "13:00-17:00"],
	      "friday": ["09:00-12:00", "13:00-17:00"], "saturday": ["09:00-13:00"]}');
	PERFORM calendence.create_resource(dt, 'bay', 'Bay 1');
	PERFORM calendence.create_resource(dt, 'bay', 'Bay 2');
	PERFORM calendence.create_resource(dt, 'van', 'Van 1');
	PERFORM calendence.create_resource(ns, 'bay', 'Bay A');

	PERFORM calendence.create_staff(business, 'Alex Rivera', ARRAY[dt],
	    '{wash,detail}', '{"monday": ["08:00-16:00"], "tuesday": ["08:00-16:00"],
	    "wednesday": ["08:00-16:00"], "thursday": ["08:00-16:00"], "friday": ["08:00-16:00"]}');
	st := calendence.create_staff(business, 'Sam Chen', ARRAY[dt, ns], '{wash,detail}');
	PERFORM calendence.set_staff_hours(st, '{"monday": ["09:00-17:00"],
	    "wednesday": ["09:00-17:00"], "friday": ["09:00-17:00"]}', dt);
	PERFORM calendence.set_staff_hours(st, '{"tuesday": ["09:00-17:00"],
	    "thursday": ["09:00-17:00"], "saturday": ["09:00-13:00"]}', ns);
	PERFORM calendence.create_staff(business, 'Jordan Lee', ARRAY[ns], '{wash}',
	    '{"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"], "wednesday": ["09:00-17:00"],
	    "thursday": ["09:00-17:00"], "friday": ["09:00-17:00"]}');
	PERFORM calendence.create_staff(business, 'Casey Morgan', ARRAY[dt], '{wash,mobile}',
	    '{"tuesday": ["10:00-18:00"], "wednesday": ["10:00-18:00"], "thursday": ["10:00-18:00"],
	    "friday": ["10:00-18:00"], "saturday": ["09:00-16:00"]}');

	IF NOT EXISTS (SELECT 1 FROM calendence.services s
	    WHERE s.business_id = business AND s.is_mobile) THEN
		INSERT INTO calendence.services (business_id, name, description, duration_min,
		    duration_max, rate, is_mobile)
		VALUES (business, 'Mobile Wash', 'We come to you.', 45, 60, 5500, true);
	END IF;
	UPDATE calendence.services s SET
		required_skills = CASE
		    WHEN s.is_mobile THEN '{wash,mobile}'::text[]
		    WHEN s.name IN ('Interior Detail', 'Full Detail') THEN '{detail}'
		    ELSE '{wash}' END,
		resource_type = CASE
		    WHEN s.is_mobile THEN 'van'
		    WHEN s.name IN ('Interior Detail', 'Full Detail') THEN 'bay' END
	 WHERE s.business_id = business;
END $$;
