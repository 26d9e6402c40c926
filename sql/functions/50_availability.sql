-- 50_availability.sql: the free slots of SPEC 9, computed in SQL with
-- PostgreSQL's time zone data: free_slots() is all of availability, and
-- availability() is GET /api/v1/availability (it answers as the API functions
-- of 60_booking.sql do: status, message, body).
--
-- The rules (the C handlers and the tests rely on them):
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
-- * No date past today + businesses.booking_horizon_days (business-local).

-- Every free slot of a service starting in [p_from, p_to): one row per
-- (start, staff member, location), with the resource it would take (the
-- first free one by name; NULL when the service needs none). The rules are
-- those at the top of this file; this one query is all of availability, and
-- hold() asks it about a single start.
--
-- How it stays cheap (issue 15): every table is read through an index by this
-- business's locations and staff, so other tenants cost nothing; the plan is
-- made once per connection (PL/pgSQL keeps it; generic, since no parameter
-- changes its shape; jit off, as the generic plan's estimates, millions of
-- rows from generate_series() and unnest(), would have it compiled at every
-- call, for seconds); and the work is per day and staff member, not per
-- candidate start:
-- * free time: the staff member's hours x the location's hours, less the
--   spans of their live reservations in the window (one index scan a staff
--   member), as multiranges. A reserved span [t - buffer_before,
--   t + duration_max + buffer_after) fits the hours and overlaps no
--   reservation exactly when it lies inside one stretch of that free time;
-- * starts: each stretch gives the closed range of starts whose span fits
--   it. A range of a day at most with the same UTC offset at both ends has
--   that offset throughout (no zone changes its offset twice in a day);
--   others are cut at the location's local midnights into such pieces. The
--   grid points of a piece are every slot_minutes from the first one, found
--   by arithmetic; a piece whose two ends have different offsets (the day of
--   a change) walks every 5 minutes and keeps the starts on the local grid
--   instead: 5 minutes divides every slot size, UTC offset and daylight
--   saving shift in use, so none is missed;
-- * a resource: each one's blocks and live reservations in the window as one
--   multirange, looked at per start in memory.
CREATE OR REPLACE FUNCTION calendence.free_slots(p_business uuid, p_service uuid, p_from timestamptz,
    p_to timestamptz, p_staff uuid DEFAULT NULL, p_location uuid DEFAULT NULL)
    RETURNS TABLE (starts_at timestamptz, ends_at timestamptz, during tstzrange,
	staff_id uuid, location_id uuid, resource_id uuid)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan SET jit = off AS $$
DECLARE
	v_skills text[];
	v_type text;
	v_grid integer;		-- slot_minutes, in seconds
	v_dur interval;
	v_bb interval;
	v_ba interval;
	v_window tstzrange;	-- every span a start in [p_from, p_to) reserves
	v_tail interval;	-- duration_max + buffer_after
	v_starts tstzrange;	-- the starts asked for that are still to come
BEGIN
	SELECT s.required_skills, s.resource_type, b.slot_minutes * 60,
	       make_interval(mins => s.duration_max), make_interval(mins => s.buffer_before_min),
	       make_interval(mins => s.buffer_after_min)
	  INTO v_skills, v_type, v_grid, v_dur, v_bb, v_ba
	  FROM calendence.services s
	  JOIN calendence.businesses b ON b.id = s.business_id
	 WHERE s.id = p_service AND s.business_id = p_business AND s.is_active;
	IF NOT FOUND OR p_from >= p_to THEN
		RETURN;
	END IF;
	v_window := tstzrange(p_from - v_bb, p_to + v_dur + v_ba);
	v_tail := v_dur + v_ba;
	v_starts := tstzrange(p_from, p_to) * tstzrange(now(), NULL, '()');

	RETURN QUERY
	WITH loc AS (
		SELECT l.id, l.timezone AS tz
		  FROM calendence.locations l
		 WHERE l.business_id = p_business AND l.active
		   AND (p_location IS NULL OR l.id = p_location)
	), days AS (
		-- the local days of each location that a reserved span may touch;
		-- hours are calendence.local_span() of them, written out below
		-- ([lo, greatest(lo, hi)) is empty where local_span() is) since a
		-- call of that SQL function is not inlined and costs more
		SELECT loc.id, loc.tz, d::date AS day, extract(isodow FROM d)::smallint AS wd
		  FROM loc
		 CROSS JOIN LATERAL generate_series(
		       ((p_from AT TIME ZONE loc.tz)::date - 1)::timestamp,
		       ((p_to AT TIME ZONE loc.tz)::date + 1)::timestamp, interval '1 day') d
	), open AS (
		SELECT d.id AS location_id,
		       range_agg(tstzrange((d.day + h.opens) AT TIME ZONE d.tz,
			   greatest((d.day + h.opens) AT TIME ZONE d.tz,
				    (d.day + h.closes) AT TIME ZONE d.tz))) AS hours
		  FROM days d
		  JOIN calendence.location_hours h ON h.location_id = d.id AND h.weekday = d.wd
		 GROUP BY d.id
	), crew AS MATERIALIZED (
		-- qualified staff at each location
		SELECT st.id AS staff_id, loc.id AS location_id
		  FROM loc
		  JOIN calendence.staff_locations sl ON sl.location_id = loc.id
		  JOIN calendence.staff st ON st.id = sl.staff_id
		 WHERE st.active AND st.skills @> v_skills
		   AND (p_staff IS NULL OR st.id = p_staff)
	), work AS (
		-- their hours there, their blocked dates left out
		SELECT c.staff_id, c.location_id, d.tz,
		       range_agg(tstzrange((d.day + wh.starts) AT TIME ZONE d.tz,
			   greatest((d.day + wh.starts) AT TIME ZONE d.tz,
				    (d.day + wh.ends) AT TIME ZONE d.tz))) AS hours
		  FROM crew c
		  JOIN days d ON d.id = c.location_id
		  JOIN calendence.staff_hours wh ON wh.staff_id = c.staff_id AND wh.weekday = d.wd
		       AND (wh.location_id IS NULL OR wh.location_id = d.id)
		 WHERE NOT EXISTS (SELECT 1 FROM calendence.staff_blocked_dates bd
				    WHERE bd.staff_id = c.staff_id AND bd.day = d.day)
		 GROUP BY c.staff_id, c.location_id, d.tz
	), fits AS MATERIALIZED (
		-- the starts whose reserved span lies in one stretch of free time
		SELECT w.staff_id, w.location_id, w.tz,
		       tstzrange(lower(span) + v_bb, upper(span) - v_tail, '[]') * v_starts AS starts
		  FROM work w
		  JOIN open o ON o.location_id = w.location_id
		 CROSS JOIN LATERAL unnest(w.hours * o.hours - coalesce((
			SELECT range_agg(r.during) FROM calendence.reservations r
			 WHERE r.staff_id = w.staff_id AND r.during && v_window
			   AND r.status NOT IN ('expired', 'cancelled')
			   AND (r.status <> 'held' OR r.expires_at > now())),
			'{}'::tstzmultirange)) AS span
		 WHERE lower(span) + v_bb <= upper(span) - v_tail
	), span AS MATERIALIZED (
		-- each stretch of starts with the UTC offsets (s) at its ends
		SELECT f.staff_id, f.location_id, f.tz, f.starts,
		       date_part('epoch', lower(f.starts) AT TIME ZONE f.tz)
			   - date_part('epoch', lower(f.starts)) AS off_lo,
		       date_part('epoch', upper(f.starts) AT TIME ZONE f.tz)
			   - date_part('epoch', upper(f.starts)) AS off_hi
		  FROM fits f
		 WHERE NOT isempty(f.starts)
	), piece AS MATERIALIZED (
		-- a stretch of a day at most with one offset at both ends has one
		-- throughout; any other is cut at the location's local midnights
		SELECT s.staff_id, s.location_id, s.tz, s.starts, s.off_lo, s.off_hi
		  FROM span s
		 WHERE s.off_lo = s.off_hi AND upper(s.starts) - lower(s.starts) <= interval '1 day'
		UNION ALL
		SELECT s.staff_id, s.location_id, s.tz, p.starts,
		       date_part('epoch', lower(p.starts) AT TIME ZONE s.tz)
			   - date_part('epoch', lower(p.starts)),
		       date_part('epoch', upper(p.starts) AT TIME ZONE s.tz)
			   - date_part('epoch', upper(p.starts))
		  FROM span s
		 CROSS JOIN LATERAL (
			SELECT s.starts * tstzrange(g::timestamp AT TIME ZONE s.tz,
				   (g::date + 1)::timestamp AT TIME ZONE s.tz) AS starts
			  FROM generate_series((lower(s.starts) AT TIME ZONE s.tz)::date::timestamp,
				   (upper(s.starts) AT TIME ZONE s.tz)::date::timestamp,
				   interval '1 day') g) p
		 WHERE NOT (s.off_lo = s.off_hi AND upper(s.starts) - lower(s.starts) <= interval '1 day')
		   AND NOT isempty(p.starts)
	), cand AS (
		-- (generate_series() in the select list: its rows stream, where in
		-- FROM they would be stored first)
		SELECT g.staff_id, g.location_id, g.t
		  FROM (SELECT p.staff_id, p.location_id, p.tz, p.starts, p.off_lo, p.off_hi,
			       generate_series(
			       CASE WHEN p.off_lo = p.off_hi
				    -- the grid point before lower(starts): the filter
				    -- below drops it, but no rounding can skip the first
				    THEN to_timestamp(floor((date_part('epoch', lower(p.starts))
					+ p.off_lo) / v_grid) * v_grid - p.off_lo)
				    ELSE to_timestamp(floor(date_part('epoch', lower(p.starts)) / 300)
					* 300)
			       END,
			       upper(p.starts),
			       CASE WHEN p.off_lo = p.off_hi THEN make_interval(secs => v_grid)
				    ELSE interval '5 minutes' END) AS t
			  FROM piece p) g
		 WHERE g.starts @> g.t
		   AND (g.off_lo = g.off_hi
			OR (extract(hour FROM g.t AT TIME ZONE g.tz) * 60
			    + extract(minute FROM g.t AT TIME ZONE g.tz))::integer % (v_grid / 60) = 0)
	), res AS (
		-- the resources the service may take, each with its busy time
		SELECT rs.id, rs.location_id, rs.name,
		       coalesce((SELECT range_agg(x.during) FROM (
				SELECT rb.during FROM calendence.resource_blocks rb
				 WHERE rb.resource_id = rs.id AND rb.during && v_window
				UNION ALL
				SELECT r.during FROM calendence.reservations r
				 WHERE r.resource_id = rs.id AND r.during && v_window
				   AND r.status NOT IN ('expired', 'cancelled')
				   AND (r.status <> 'held' OR r.expires_at > now())) x),
			'{}'::tstzmultirange) AS busy
		  FROM loc
		  JOIN calendence.resources rs ON rs.location_id = loc.id
		 WHERE v_type IS NOT NULL AND rs.type = v_type AND rs.active
	)
	SELECT x.t, x.t + v_dur, x.during, x.staff_id, x.location_id, x.resource_id
	  FROM (SELECT c.*, tstzrange(c.t - v_bb, c.t + v_dur + v_ba) AS during,
		       CASE WHEN v_type IS NOT NULL THEN (
			SELECT res.id FROM res
			 WHERE res.location_id = c.location_id
			   AND NOT res.busy && tstzrange(c.t - v_bb, c.t + v_dur + v_ba)
			 ORDER BY res.name, res.id
			 LIMIT 1) END AS resource_id
		  FROM cand c
		OFFSET 0) x	-- (the resource's subquery once a row)
	 WHERE v_type IS NULL OR x.resource_id IS NOT NULL;
END $$;

-- Until when an answer of availability() for the business, made now, stays
-- what it would be made again, if no row it was read from changes (a change
-- notifies the workers that keep answers: fcgi/answers.c): the next
-- 5-minute mark, or the first of the business's live holds to expire,
-- whichever comes first (the bound is exclusive). Time changes an answer
-- only there: every start is a multiple of 5 minutes since the epoch (the
-- grid is laid from local midnights every slot_minutes, and 5 minutes
-- divides every slot size and UTC offset in use: free_slots()), so a start
-- that is still to come stays so until the mark, and so does the business's
-- date (its midnight is a mark too); a hold stops blocking at its
-- expires_at.
CREATE OR REPLACE FUNCTION calendence.availability_fresh_until(p_business uuid)
    RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT least(to_timestamp((floor(extract(epoch FROM now()) / 300) + 1) * 300),
	    (SELECT min(r.expires_at) FROM calendence.reservations r
	      WHERE r.business_id = p_business AND r.status = 'held' AND r.expires_at > now()))
$$;

-- GET /api/v1/availability, in one round trip.
--   p_service, p_date_from, p_date_to, p_staff, p_location, p_format: the
--   query parameters as sent (NULL when absent).
-- status 'ok' with body {"data": {"YYYY-MM-DD": [slot, ...], ...}, "meta":
-- {service_id, date_from, date_to, total_slots}}: every date of the range is
-- a key (an empty list when nothing is free), slots sorted by start, location
-- name, staff name. With format=compact each date lists its starts instead,
-- each once with the options free at it in that order: {starts_at, ends_at,
-- starts_at_local, ends_at_local, options: [{staff, location}, ...]}
-- (total_slots still counts the options). Or 'invalid:<param>' (service_id,
-- date_from, date_to, staff_id, location_id, format) with a message, checked
-- in that order; a date past today + businesses.booking_horizon_days
-- (business-local) is invalid.
--
-- The JSON is made per start, not per slot: a start's times are written once
-- and each (staff member, location) once, then joined (issue 15).
CREATE OR REPLACE FUNCTION calendence.availability(p_business uuid, p_service text,
    p_date_from text, p_date_to text, p_staff text DEFAULT NULL,
    p_location text DEFAULT NULL, p_format text DEFAULT NULL, OUT status text,
    OUT message text, OUT body text)
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
	ELSIF p_format IS NOT NULL AND p_format NOT IN ('slots', 'compact') THEN
		status := 'invalid:format';
		message := 'format must be slots or compact.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;

	WITH who AS MATERIALIZED (
		-- each (staff member, location) that may have slots, once:
		-- "staff":{..},"location":{..}, and its place in the order of slots
		SELECT sl.staff_id, sl.location_id,
		       row_number() OVER (ORDER BY l.name, l.id, st.name, st.id) AS k,
		       '"staff":' || calendence.ref_json(st.id, st.name)::text
		       || ',"location":' || calendence.ref_json(l.id, l.name)::text AS j
		  FROM calendence.locations l
		  JOIN calendence.staff_locations sl ON sl.location_id = l.id
		  JOIN calendence.staff st ON st.id = sl.staff_id
		 WHERE l.business_id = p_business AND l.active AND st.active
		   AND (v_staff IS NULL OR st.id = v_staff)
		   AND (v_location IS NULL OR l.id = v_location)
	), start AS (
		-- each start once, its options' JSON in order, \x01 between them
		-- (JSON text never holds that byte: escape_json() writes \u0001).
		-- The rows are sorted once, narrow, and string_agg() takes them in
		-- that order: an ORDER BY in it would sort each group's rows apart
		SELECT o.starts_at, min(o.ends_at) AS ends_at, count(*) AS n,
		       string_agg(o.j, E'\x01') AS opts
		  FROM (SELECT f.starts_at, f.ends_at, w.j
			  FROM calendence.free_slots(p_business, v_service,
				   v_from::timestamp AT TIME ZONE v_tz,
				   (v_to + 1)::timestamp AT TIME ZONE v_tz, v_staff, v_location) f
			  JOIN who w ON w.staff_id = f.staff_id AND w.location_id = f.location_id
			 ORDER BY f.starts_at, w.k) o
		 GROUP BY o.starts_at
	), head AS (
		-- a start's four times as the head of its slots' JSON, each written
		-- by one to_char() with the JSON around it as the format's quoted
		-- text (\" is a double quote there); OFFSET 0 keeps it one
		-- evaluation a start where the slots use it twice
		SELECT s.starts_at, s.n, s.opts, (s.starts_at AT TIME ZONE v_tz)::date AS day,
		       to_char(s.starts_at AT TIME ZONE 'UTC',
			   '"{\"starts_at\":\""YYYY-MM-DD"T"HH24:MI:SS"+00:00\",\"ends_at\":\""')
		       || to_char(s.ends_at AT TIME ZONE 'UTC',
			   'YYYY-MM-DD"T"HH24:MI:SS"+00:00\",\"starts_at_local\":\""')
		       || to_char(s.starts_at AT TIME ZONE v_tz,
			   'YYYY-MM-DD"T"HH24:MI:SS"\",\"ends_at_local\":\""')
		       || to_char(s.ends_at AT TIME ZONE v_tz, 'YYYY-MM-DD"T"HH24:MI:SS"\","') AS head
		  FROM start s
		 ORDER BY s.starts_at	-- (as start gives them: known sorted, not sorted again)
		OFFSET 0
	)
	-- the body in one string_agg() over the starts in order, without
	-- sorting their text again. A date's first start opens its list, after
	-- the keys of any dates before it with no start (and closes the previous
	-- date's list); a string_agg() delimiter is given per row and goes before
	-- the row's text: "," between a date's slots, none before its first.
	-- The half-megabyte text is copied once more, to add what follows the
	-- last start, instead of once per date and again for the whole.
	SELECT CASE WHEN count(*) = 0
		    THEN '{"data":{' || (SELECT string_agg('"' || to_char(g, 'YYYY-MM-DD') || '":[]', ',')
			  FROM generate_series(v_from::timestamp, v_to::timestamp, interval '1 day') g)
		    ELSE string_agg(x.piece, x.sep) || (']' || coalesce((
			  SELECT string_agg(',"' || to_char(g, 'YYYY-MM-DD') || '":[]', '')
			    FROM generate_series((max(x.day) + 1)::timestamp, v_to::timestamp,
				 interval '1 day') g), '')) END
	       || ('},"meta":{"service_id":"' || v_service || '","date_from":"'
	       || to_char(v_from, 'YYYY-MM-DD') || '","date_to":"' || to_char(v_to, 'YYYY-MM-DD')
	       || '","total_slots":' || coalesce(sum(x.n), 0) || '}}')
	  INTO body
	  FROM (SELECT y.starts_at, y.day, y.n,
		       CASE WHEN y.prev = y.day THEN ',' ELSE '' END AS sep,
		       CASE WHEN y.prev IS DISTINCT FROM y.day THEN
			   CASE WHEN y.prev IS NULL THEN '{"data":{' ELSE '],' END
			   || (SELECT string_agg('"' || to_char(g, 'YYYY-MM-DD')
				   || CASE WHEN g::date = y.day THEN '":[' ELSE '":[],' END, '')
				 FROM generate_series(coalesce(y.prev + 1, v_from)::timestamp,
				      y.day::timestamp, interval '1 day') g)
			   ELSE '' END
		       -- a slot is the start's head and an option's JSON; compact:
		       -- the head once and "options":[{..},{..}]
		       || CASE WHEN p_format = 'compact'
			   THEN y.head || '"options":[{' || replace(y.opts, E'\x01', '},{') || '}]}'
			   ELSE y.head || replace(y.opts, E'\x01', '},' || y.head) || '}' END AS piece
		  FROM (SELECT h.*, lag(h.day) OVER (ORDER BY h.starts_at) AS prev FROM head h) y
		 ORDER BY y.starts_at) x;
	status := 'ok';
END $$;
