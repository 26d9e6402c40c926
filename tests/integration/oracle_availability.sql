-- oracle_availability.sql: the oracle of availability_oracle.c: free_slots()
-- and availability() as they were before issue 15 made them fast (commit
-- d06b8a6 of sql/functions/50_availability.sql), word for word but for their
-- schema, "oracle". The test loads it (and only the test): the new functions
-- must give the same answers as these over random schedules.
BEGIN;
SET LOCAL client_min_messages = warning;
SELECT pg_advisory_xact_lock(1515);
CREATE SCHEMA IF NOT EXISTS oracle;

CREATE OR REPLACE FUNCTION oracle.free_slots(p_business uuid, p_service uuid, p_from timestamptz,
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
-- staff_id, location_id) with a message, checked in that order; a date past
-- today + businesses.booking_horizon_days (business-local) is invalid.
CREATE OR REPLACE FUNCTION oracle.availability(p_business uuid, p_service text,
    p_date_from text, p_date_to text, p_staff text DEFAULT NULL,
    p_location text DEFAULT NULL, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_tz text;
	v_horizon integer;
	v_today date;
	v_service uuid := calendence.parse_uuid(p_service);
	v_from date := calendence.parse_date(p_date_from);
	v_to date := calendence.parse_date(p_date_to);
	v_staff uuid := calendence.parse_uuid(p_staff);
	v_location uuid := calendence.parse_uuid(p_location);
BEGIN
	SELECT b.timezone, b.booking_horizon_days INTO STRICT v_tz, v_horizon
	  FROM calendence.businesses b WHERE b.id = p_business;
	v_today := (now() AT TIME ZONE v_tz)::date;
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
	ELSIF v_from < v_today THEN
		status := 'invalid:date_from';
		message := 'date_from must not be before today.';
	ELSIF v_from > v_today + v_horizon THEN
		status := 'invalid:date_from';
		message := 'date_from may be at most ' || v_horizon || ' days after today.';
	ELSIF v_to > v_today + v_horizon THEN
		status := 'invalid:date_to';
		message := 'date_to may be at most ' || v_horizon || ' days after today.';
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
		  FROM oracle.free_slots(p_business, v_service,
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

COMMIT;
