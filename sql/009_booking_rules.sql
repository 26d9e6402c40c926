-- 009_booking_rules.sql: the booking rules of SPEC 9 that issue 11 found
-- missing: a cap on a session chain's live holds, holds released at once,
-- who may use a hold, a horizon, blank values refused, a hold without
-- staff_id that keeps looking, and Idempotency-Key on cancel.
--
-- Advisory lock classes (pg_advisory_xact_lock(class, hashtext(key))) used here:
--   2  the live holds of one session chain (key: its root session id), so
--      that two concurrent holds of a chain cannot both pass the count
--   3  the holds of one staff member being inserted (key: the staff id), so
--      that concurrent holds of one staff member queue instead of waiting
--      for each other in the exclusion constraint (a deadlock, found only
--      after deadlock_timeout)

DROP FUNCTION calendence.hold(uuid, text, text, text, text, uuid, uuid, text);
DROP FUNCTION calendence.make_hold(uuid, text, text, text, text, uuid, uuid);

------------------------------------------------------------------------------
-- The horizon: how far ahead availability, holds and reschedules reach

ALTER TABLE calendence.businesses
	ADD COLUMN booking_horizon_days integer NOT NULL DEFAULT 180
	    CHECK (booking_horizon_days BETWEEN 1 AND 3650);

------------------------------------------------------------------------------
-- Helpers

-- True when t holds nothing a person can read: empty, or only white space
-- (Unicode White_Space: ASCII blanks, U+0085, the no-break spaces, U+1680,
-- U+2000-U+200A, U+2028/9, U+205F, U+3000), control characters, and
-- characters that draw nothing (Default_Ignorable_Code_Point: U+00AD, the
-- zero-width spaces, joiners and bidi marks U+200B-U+200F and
-- U+202A-U+202E, U+2060-U+206F, U+FEFF, the variation selectors, the
-- Hangul fillers, U+180B-U+180F, tags U+E0000-U+E0FFF ...) and the braille
-- blank U+2800. The one test of "blank" for client names and required
-- custom fields (SPEC 9). NULL for NULL.
CREATE FUNCTION calendence.is_blank(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT t ~ ('^[\u0001-\u0020\u007f-\u00a0\u00ad\u034f\u061c\u115f\u1160\u1680'
	    '\u17b4\u17b5\u180b-\u180f\u2000-\u200f\u2028-\u202f\u205f-\u206f\u2800'
	    '\u3000\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U0001bca0-\U0001bca3'
	    '\U0001d173-\U0001d17a\U000e0000-\U000e0fff]*$')
$$;

-- Who may use (book, release) a hold (SPEC 9): one made in a session chain
-- belongs to that chain; one made with a hub or business key belongs to the
-- business, so any of its live hub or business keys may use it (the C side
-- has authenticated the caller's key for this business). hold_root is the
-- hold's root_session_id; p_root_session the caller's chain, NULL for a key.
CREATE FUNCTION calendence.hold_usable(hold_root uuid, p_root_session uuid)
    RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN p_root_session IS NOT NULL
	    THEN hold_root IS NOT DISTINCT FROM p_root_session
	    ELSE hold_root IS NULL END
$$;

------------------------------------------------------------------------------
-- Availability: as in 004, and no date past the business's horizon

-- GET /api/v1/availability, in one round trip.
--   p_service, p_date_from, p_date_to, p_staff, p_location: the query
--   parameters as sent (NULL when absent).
-- status 'ok' with body {"data": {"YYYY-MM-DD": [slot, ...], ...}, "meta":
-- {service_id, date_from, date_to, total_slots}}: every date of the range is
-- a key (an empty list when nothing is free), slots sorted by start, location
-- name, staff name. Or 'invalid:<param>' (service_id, date_from, date_to,
-- staff_id, location_id) with a message, checked in that order; a date past
-- today + businesses.booking_horizon_days (business-local) is invalid.
CREATE OR REPLACE FUNCTION calendence.availability(p_business uuid, p_service text,
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

------------------------------------------------------------------------------
-- Holds

-- A hold of a free slot, without idempotency (hold() adds it). See hold().
-- Without a staff member named, the first qualified free one by name is
-- taken; a concurrent hold may take them (or the resource) between the look
-- and the INSERT: the exclusion constraint then refuses ours once the other
-- commits, and the next look sees the winner's row, so each lost race takes
-- a staff member or a resource out of the candidates. The loop therefore
-- ends with a hold or with no candidate left; its bound (the candidates of
-- the first look, the resources of the type there, and a margin) only
-- guards against slots freed meanwhile. Inserts for one staff member queue
-- on advisory lock class 3, taken in the attempt's subtransaction (so a
-- lost attempt lets go of it at once).
CREATE FUNCTION calendence.make_hold(p_business uuid, p_service text, p_location text,
    p_starts_at text, p_staff text DEFAULT NULL, p_root_session uuid DEFAULT NULL,
    p_key uuid DEFAULT NULL, p_max_holds integer DEFAULT NULL, OUT status text,
    OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_service uuid := calendence.parse_uuid(p_service);
	v_location uuid := calendence.parse_uuid(p_location);
	v_start timestamptz := calendence.parse_rfc3339(p_starts_at);
	v_staff uuid := calendence.parse_uuid(p_staff);
	v_tz text;
	v_horizon integer;
	v_slot record;
	v_row calendence.reservations;
	v_attempt integer := 0;
	v_bound integer;
BEGIN
	SELECT b.timezone, b.booking_horizon_days INTO STRICT v_tz, v_horizon
	  FROM calendence.businesses b WHERE b.id = p_business;
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
	ELSIF (v_start AT TIME ZONE v_tz)::date > (now() AT TIME ZONE v_tz)::date + v_horizon THEN
		status := 'invalid:starts_at';
		message := 'starts_at may be at most ' || v_horizon || ' days after today.';
	ELSIF p_staff IS NOT NULL AND (v_staff IS NULL OR NOT EXISTS (
	    SELECT 1 FROM calendence.staff st
	     WHERE st.id = v_staff AND st.business_id = p_business AND st.active)) THEN
		status := 'invalid:staff_id';
		message := 'No such staff member.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;

	-- a session chain's live holds, counted one hold of the chain at a time
	IF p_root_session IS NOT NULL AND p_max_holds IS NOT NULL THEN
		PERFORM pg_advisory_xact_lock(2, hashtext(p_root_session::text));
		IF (SELECT count(*) FROM calendence.reservations r
		     WHERE r.root_session_id = p_root_session AND r.business_id = p_business
		       AND r.status = 'held' AND r.expires_at > now()) >= p_max_holds THEN
			status := 'too_many_holds';
			message := 'This session already holds ' || p_max_holds || ' slot'
			    || CASE WHEN p_max_holds = 1 THEN '' ELSE 's' END
			    || ', the most it may hold at once: book or release one first.';
			RETURN;
		END IF;
	END IF;

	LOOP
		v_attempt := v_attempt + 1;
		SELECT f.*, count(*) OVER () AS candidates INTO v_slot
		  FROM calendence.free_slots(p_business, v_service, v_start,
			   v_start + interval '1 microsecond', v_staff, v_location) f
		  JOIN calendence.staff st ON st.id = f.staff_id
		 ORDER BY st.name, st.id
		 LIMIT 1;
		EXIT WHEN NOT FOUND;
		IF v_bound IS NULL THEN
			v_bound := v_slot.candidates + 5 + (SELECT count(*)
			    FROM calendence.resources rs
			    JOIN calendence.services s ON s.id = v_service
			     AND rs.type = s.resource_type
			   WHERE rs.location_id = v_location);
		END IF;
		BEGIN
			PERFORM pg_advisory_xact_lock(3, hashtext(v_slot.staff_id::text));
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
		EXIT WHEN v_attempt >= v_bound;
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
--   key_id); p_idem_key: the Idempotency-Key header (the C side sends a
--   key of its own when the client sent none, so that a statement re-sent
--   after a broken connection finds its first answer), or NULL;
--   p_max_holds: the most live holds a session chain may have (NULL: no
--   cap; keys have none).
-- status 'ok' (201) with body {hold_id, service_id, location_id, staff: {id,
-- name}, starts_at, ends_at, expires_at}, the hold living 10 minutes;
-- 'slot_unavailable' (409) when the start is not a free slot of the service
-- at that location (for that staff member, when given; else any qualified
-- one is picked, by name); 'too_many_holds' (409) when the caller's session
-- chain already has p_max_holds live holds; 'invalid:<param>' (422) for
-- service_id, location_id, starts_at (missing, not RFC 3339, not in the
-- future, past the business's horizon), staff_id, or Idempotency-Key
-- (malformed, or already used with another request). replayed: the answer
-- is the remembered one of an earlier request.
CREATE FUNCTION calendence.hold(p_business uuid, p_service text, p_location text,
    p_starts_at text, p_staff text DEFAULT NULL, p_root_session uuid DEFAULT NULL,
    p_key uuid DEFAULT NULL, p_idem_key text DEFAULT NULL,
    p_max_holds integer DEFAULT NULL, OUT status text, OUT message text,
    OUT body text, OUT replayed boolean)
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
		    p_staff, p_root_session, p_key, p_max_holds);
		status := h.status;
		message := h.message;
		body := h.body;
		IF c.state = 'new' THEN
			PERFORM calendence.idem_store(p_business, v_subject, p_idem_key, status,
			    message, body);
		END IF;
	END IF;
END $$;

-- DELETE /api/v1/bookings/hold/{id}: releases a hold at once, so that its
-- slot is free again (it becomes 'expired', expires_at now at the latest).
-- status 'ok' (204) when the hold may be used by the caller (hold_usable())
-- and is held, lapsed or already released (a second call answers the same
-- and changes nothing); 'not_found' (404) when p_id is malformed or names no
-- such hold of the business, or one the caller may not use, or a hold that
-- was booked.
CREATE FUNCTION calendence.release_hold(p_business uuid, p_id text,
    p_root_session uuid DEFAULT NULL, OUT status text, OUT message text)
LANGUAGE plpgsql AS $$
DECLARE
	v_row calendence.reservations;
BEGIN
	SELECT r.* INTO v_row FROM calendence.reservations r
	 WHERE r.id = calendence.parse_uuid(p_id) AND r.business_id = p_business
	   AND r.status IN ('held', 'expired')
	   AND calendence.hold_usable(r.root_session_id, p_root_session)
	   FOR UPDATE;
	IF NOT FOUND THEN
		status := 'not_found';
		message := 'No such hold.';
		RETURN;
	END IF;
	IF v_row.status = 'held' THEN
		UPDATE calendence.reservations r SET status = 'expired',
		    expires_at = least(r.expires_at, now())
		 WHERE r.id = v_row.id;
	END IF;
	status := 'ok';
END $$;

------------------------------------------------------------------------------
-- Bookings

-- The custom_field_values of a booking checked against the service's
-- definitions: bad is NULL and val the normalised JSON object (definition
-- order, only fields with a value), or bad names the offending parameter
-- ('custom_field_values' or 'custom_field_values.<id>') with a message. A
-- blank string (is_blank()) is no value: refused for a required field,
-- left out for another.
CREATE OR REPLACE FUNCTION calendence.check_custom_fields(defs jsonb, vals jsonb,
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
		IF v IS NULL OR v = 'null'::jsonb OR (jsonb_typeof(v) = 'string'
		    AND calendence.is_blank(v #>> '{}')) THEN
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
-- offending parameter ('client' or 'client.<field>') with a message. A
-- blank name (is_blank()) is a missing one.
CREATE OR REPLACE FUNCTION calendence.check_client(c jsonb, OUT bad text, OUT message text)
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
		    OR calendence.is_blank(c->>n) OR length(btrim(c->>n)) > 100 THEN
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
-- The hold must be one the caller may use (hold_usable()).
CREATE OR REPLACE FUNCTION calendence.make_booking(p_business uuid, p_hold text,
    p_client jsonb, p_fields jsonb DEFAULT NULL, p_notes text DEFAULT NULL,
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
	SELECT r.* INTO v_row FROM calendence.reservations r
	 WHERE r.id = v_hold AND r.business_id = p_business
	   AND calendence.hold_usable(r.root_session_id, p_root_session)
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

-- POST /api/v1/bookings/{id}/cancel, in one round trip: cancel_booking()
-- with Idempotency-Key (SPEC 9: every booking POST). p_root_session,
-- p_key, p_idem_key as hold(). status, message, body as cancel_booking(),
-- or 'invalid:Idempotency-Key' (422); replayed as hold().
CREATE FUNCTION calendence.cancel(p_business uuid, p_id text,
    p_root_session uuid DEFAULT NULL, p_key uuid DEFAULT NULL,
    p_idem_key text DEFAULT NULL, OUT status text, OUT message text, OUT body text,
    OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_subject constant uuid := coalesce(p_root_session, p_key);
	c record;
	x record;
BEGIN
	replayed := false;
	c := calendence.idem_claim(p_business, v_subject, p_idem_key,
	    sha256(convert_to(jsonb_build_array('cancel', p_id)::text, 'UTF8')));
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
		x := calendence.cancel_booking(p_business, p_id, p_root_session);
		status := x.status;
		message := x.message;
		body := x.body;
		IF c.state = 'new' THEN
			PERFORM calendence.idem_store(p_business, v_subject, p_idem_key, status,
			    message, body);
		END IF;
	END IF;
END $$;
