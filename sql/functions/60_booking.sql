-- 60_booking.sql: the booking flow of SPEC 9: holds, bookings, cancelling,
-- the Idempotency-Key answers of its POSTs, and their maintenance.
--
-- Functions called by the API take the caller's business first, so that
-- nothing crosses businesses, and take what comes from a request as text,
-- which they validate themselves. They answer with
--	status	'ok', or 'invalid:<param>' (422 validation_failed, param <param>),
--		'slot_unavailable' (409), 'too_many_holds' (409), 'hold_expired'
--		(409), 'not_found' (404), 'not_cancellable' (409), 'invalid_transition'
--		(409)
--	message	a sentence for the error envelope (NULL for 'ok')
--	body	the JSON to send for 'ok' (compact, in the field order of SPEC 9)
-- and POSTs with an Idempotency-Key also say whether the answer is a replay.
-- Only unexpected faults raise. Advisory lock classes 2 and 3 are described
-- in 30_admission.sql.

-- Claims Idempotency-Key idem_key of subject for a request with hash h, in
-- the caller's transaction. state:
--   'none'     no key (or no subject): go ahead, nothing is remembered
--   'new'      the key is now this request's: go ahead, then idem_store()
--   'replay'   the same request was answered: status/message/body are that answer
--   'mismatch' the key was used for another request in the last 24 hours
--   'invalid'  the key is not 1-255 printable ASCII characters
-- A concurrent request with the same key waits here until the first commits.
CREATE OR REPLACE FUNCTION calendence.idem_claim(p_business uuid, p_subject uuid, p_key text,
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
CREATE OR REPLACE FUNCTION calendence.idem_store(p_business uuid, p_subject uuid, p_key text,
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

-- Every booking POST with its Idempotency-Key (SPEC 9): hold(), book(),
-- cancel() and reschedule() are this function. p_request is the endpoint
-- ('hold', 'book', 'cancel' or 'reschedule') and its parameters as sent, a
-- JSON array that is both what the key's request hash covers and what runs:
-- make_hold(), make_booking(), cancel_booking() or reschedule_booking() (a
-- JSON null is an absent parameter). The key is claimed
-- for the caller (idem_claim(): its session chain, else its API key); a
-- replay answers what the first request answered (replayed), a malformed
-- key or one used with another request is 'invalid:Idempotency-Key' (422);
-- otherwise the request runs and its answer is remembered (idem_store()).
-- p_root_session, p_key, p_idem_key, p_max_holds: as hold().
CREATE OR REPLACE FUNCTION calendence.idempotent(p_business uuid, p_root_session uuid,
    p_key uuid, p_idem_key text, p_request jsonb, p_max_holds integer DEFAULT NULL,
    OUT status text, OUT message text, OUT body text, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
	v_subject constant uuid := coalesce(p_root_session, p_key);
	r constant jsonb := p_request;
	c record;
	x record;
BEGIN
	replayed := false;
	c := calendence.idem_claim(p_business, v_subject, p_idem_key,
	    sha256(convert_to(r::text, 'UTF8')));
	IF c.state = 'invalid' THEN
		status := 'invalid:Idempotency-Key';
		message := 'Idempotency-Key must be 1 to 255 printable ASCII characters.';
		RETURN;
	ELSIF c.state = 'mismatch' THEN
		status := 'invalid:Idempotency-Key';
		message := 'This Idempotency-Key was already used with another request.';
		RETURN;
	ELSIF c.state = 'replay' THEN
		status := c.status;
		message := c.message;
		body := c.body;
		replayed := true;
		RETURN;
	END IF;
	CASE r->>0
	WHEN 'hold' THEN
		x := calendence.make_hold(p_business, r->>1, r->>2, r->>3, r->>4, p_root_session,
		    p_key, p_max_holds);
	WHEN 'book' THEN
		x := calendence.make_booking(p_business, r->>1, nullif(r->2, 'null'),
		    nullif(r->3, 'null'), r->>4, p_root_session, p_key);
	WHEN 'cancel' THEN
		x := calendence.cancel_booking(p_business, r->>1, p_root_session, r->>2);
	WHEN 'reschedule' THEN
		x := calendence.reschedule_booking(p_business, r->>1, r->>2, p_root_session);
	END CASE;
	status := x.status;
	message := x.message;
	body := x.body;
	IF c.state = 'new' THEN
		PERFORM calendence.idem_store(p_business, v_subject, p_idem_key, status, message,
		    body);
	END IF;
END $$;

-- Who may use (book, release) a hold (SPEC 9): one made in a session chain
-- belongs to that chain; one made with a hub or business key belongs to the
-- business, so any of its live hub or business keys may use it (the C side
-- has authenticated the caller's key for this business). hold_root is the
-- hold's root_session_id; p_root_session the caller's chain, NULL for a key.
CREATE OR REPLACE FUNCTION calendence.hold_usable(hold_root uuid, p_root_session uuid)
    RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN p_root_session IS NOT NULL
	    THEN hold_root IS NOT DISTINCT FROM p_root_session
	    ELSE hold_root IS NULL END
$$;

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
CREATE OR REPLACE FUNCTION calendence.make_hold(p_business uuid, p_service text, p_location text,
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
		-- a start off the slot grid (businesses.slot_minutes from midnight
		-- in the location's local time, whole minutes: 50_availability.sql)
		-- is never free: the message names the grid
		SELECT CASE WHEN (extract(hour FROM lt.t) * 60
			    + extract(minute FROM lt.t))::integer % b.slot_minutes <> 0
			    OR extract(second FROM lt.t) <> 0
		       THEN 'This slot is not available: starts must be on the '
			    || 'business''s ' || b.slot_minutes || '-minute grid (e.g. 10:00, '
			    || to_char(time '10:00' + make_interval(mins => b.slot_minutes),
				'HH24:MI') || ') in the location''s time zone.'
		       ELSE 'This slot is not available.' END
		  INTO message
		  FROM calendence.businesses b
		 CROSS JOIN LATERAL (SELECT v_start AT TIME ZONE l.timezone AS t
				       FROM calendence.locations l
				      WHERE l.id = v_location) lt
		 WHERE b.id = p_business;
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
CREATE OR REPLACE FUNCTION calendence.hold(p_business uuid, p_service text, p_location text,
    p_starts_at text, p_staff text DEFAULT NULL, p_root_session uuid DEFAULT NULL,
    p_key uuid DEFAULT NULL, p_idem_key text DEFAULT NULL,
    p_max_holds integer DEFAULT NULL, OUT status text, OUT message text,
    OUT body text, OUT replayed boolean)
LANGUAGE sql AS $$
	SELECT * FROM calendence.idempotent(p_business, p_root_session, p_key, p_idem_key,
	    jsonb_build_array('hold', p_service, p_location, p_starts_at, p_staff), p_max_holds)
$$;

-- DELETE /api/v1/bookings/hold/{id}: releases a hold at once, so that its
-- slot is free again (it becomes 'expired', expires_at now at the latest).
-- status 'ok' (204) when the hold may be used by the caller (hold_usable())
-- and is held, lapsed or already released (a second call answers the same
-- and changes nothing); 'not_found' (404) when p_id is malformed or names no
-- such hold of the business, or one the caller may not use, or a hold that
-- was booked.
CREATE OR REPLACE FUNCTION calendence.release_hold(p_business uuid, p_id text,
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
		updated_at = now(),
		client_first_name = btrim(p_client->>'first_name'),
		client_last_name = btrim(p_client->>'last_name'),
		client_email = p_client->>'email',
		client_phone = nullif(p_client->>'phone', ''),
		notes = p_notes,
		custom_field_values = cf.val
	 WHERE r.id = v_row.id
	RETURNING r.* INTO v_row;
	status := 'ok';
	body := calendence.booking_body(v_row);
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
CREATE OR REPLACE FUNCTION calendence.book(p_business uuid, p_hold text, p_client jsonb,
    p_fields jsonb DEFAULT NULL, p_notes text DEFAULT NULL,
    p_root_session uuid DEFAULT NULL, p_key uuid DEFAULT NULL,
    p_idem_key text DEFAULT NULL, OUT status text, OUT message text, OUT body text,
    OUT replayed boolean)
LANGUAGE sql AS $$
	SELECT * FROM calendence.idempotent(p_business, p_root_session, p_key, p_idem_key,
	    jsonb_build_array('book', p_hold, p_client, p_fields, p_notes))
$$;

-- GET /api/v1/bookings/{id}: the booking's JSON, or NULL (404) when id is
-- malformed, names no booking of the business (holds are not bookings), or,
-- for a session caller (p_root_session), one made outside its session chain.
CREATE OR REPLACE FUNCTION calendence.booking_json(p_business uuid, p_id text,
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
--   p_updated_since: an RFC 3339 time, NULL for no bound: only bookings whose
--   updated_at is at or after it, then listed by updated_at (for polling)
-- status 'ok' with total (all matching) and data (the page's JSON array);
-- or 'invalid:status' | 'invalid:from' | 'invalid:to' |
-- 'invalid:updated_since' with a message.
CREATE OR REPLACE FUNCTION calendence.bookings_list(p_business uuid, p_status text, p_from text,
    p_to text, p_limit integer, p_offset bigint, p_root_session uuid DEFAULT NULL,
    p_updated_since text DEFAULT NULL,
    OUT status text, OUT message text, OUT total bigint, OUT data text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_tz text;
	v_from timestamptz;
	v_to timestamptz;
	v_since timestamptz := calendence.parse_rfc3339(p_updated_since);
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
	ELSIF p_updated_since IS NOT NULL AND v_since IS NULL THEN
		status := 'invalid:updated_since';
		message := 'updated_since must be an RFC 3339 time with an offset.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;
	SELECT count(*) INTO total FROM calendence.reservations r
	 WHERE r.business_id = p_business AND r.status NOT IN ('held', 'expired')
	   AND (p_status IS NULL OR r.status = p_status)
	   AND (v_from IS NULL OR r.starts_at >= v_from)
	   AND (v_to IS NULL OR r.starts_at < v_to)
	   AND (p_root_session IS NULL OR r.root_session_id = p_root_session)
	   AND (v_since IS NULL OR r.updated_at >= v_since);
	SELECT coalesce('[' || string_agg(calendence.booking_row_json(r)::text, ','
		   ORDER BY CASE WHEN v_since IS NULL THEN r.starts_at ELSE r.updated_at END,
		   r.id) || ']', '[]')
	  INTO data
	  FROM (SELECT * FROM calendence.reservations r
		 WHERE r.business_id = p_business AND r.status NOT IN ('held', 'expired')
		   AND (p_status IS NULL OR r.status = p_status)
		   AND (v_from IS NULL OR r.starts_at >= v_from)
		   AND (v_to IS NULL OR r.starts_at < v_to)
		   AND (p_root_session IS NULL OR r.root_session_id = p_root_session)
		   AND (v_since IS NULL OR r.updated_at >= v_since)
		 ORDER BY CASE WHEN v_since IS NULL THEN r.starts_at ELSE r.updated_at END,
		   r.id LIMIT p_limit OFFSET coalesce(p_offset, 0)) r;
	status := 'ok';
END $$;

-- POST /api/v1/bookings/{id}/cancel: status 'ok' with the booking, now
-- 'cancelled' with p_reason kept as its cancel_reason (its slot free again;
-- cancelling a cancelled booking answers the same and keeps the first
-- reason); 'not_found' (404) as booking_json(); 'invalid:reason' (422) for
-- a reason over 500 characters; 'not_cancellable' (409) when it is
-- in_progress or completed.
CREATE OR REPLACE FUNCTION calendence.cancel_booking(p_business uuid, p_id text,
    p_root_session uuid DEFAULT NULL, p_reason text DEFAULT NULL, OUT status text,
    OUT message text, OUT body text)
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
	IF char_length(p_reason) > 500 THEN
		status := 'invalid:reason';
		message := 'reason may be at most 500 characters.';
		RETURN;
	END IF;
	IF v_row.status IN ('in_progress', 'completed') THEN
		status := 'not_cancellable';
		message := 'A booking that is ' || replace(v_row.status, '_', ' ')
		    || ' cannot be cancelled.';
		RETURN;
	END IF;
	IF v_row.status <> 'cancelled' THEN
		UPDATE calendence.reservations r SET status = 'cancelled', cancelled_at = now(),
		    cancel_reason = p_reason, updated_at = now()
		 WHERE r.id = v_row.id
		RETURNING r.* INTO v_row;
	END IF;
	status := 'ok';
	body := calendence.booking_body(v_row);
END $$;

-- POST /api/v1/bookings/{id}/cancel, in one round trip: cancel_booking()
-- with Idempotency-Key (SPEC 9: every booking POST). p_reason: the body's
-- reason (NULL when absent); p_root_session, p_key, p_idem_key as hold().
-- status, message, body as cancel_booking(), or 'invalid:Idempotency-Key'
-- (422); replayed as hold().
CREATE OR REPLACE FUNCTION calendence.cancel(p_business uuid, p_id text,
    p_root_session uuid DEFAULT NULL, p_key uuid DEFAULT NULL,
    p_idem_key text DEFAULT NULL, p_reason text DEFAULT NULL, OUT status text,
    OUT message text, OUT body text, OUT replayed boolean)
LANGUAGE sql AS $$
	SELECT * FROM calendence.idempotent(p_business, p_root_session, p_key, p_idem_key,
	    jsonb_build_array('cancel', p_id, p_reason))
$$;

-- POST /api/v1/bookings/{id}/reschedule, without idempotency (reschedule()
-- adds it): the booking p_id (found as booking_json() finds it) moves to the
-- slot of the hold p_hold, in the caller's transaction: the hold is used
-- (it becomes 'expired', so that it blocks nothing and cannot be booked),
-- then the booking takes its staff member, resource, location and times,
-- which frees its old slot. The booking keeps its id, client and status.
-- status 'ok' with the booking; 'not_found' (404) as booking_json();
-- 'invalid:hold_id' (422) for a hold missing, unknown, not the caller's to
-- use (hold_usable()) or of another service; 'invalid_transition' (409)
-- for a booking neither pending_payment nor confirmed; 'hold_expired'
-- (409) for a hold lapsed, released or already used. The horizon holds
-- through the hold (make_hold() checked it).
CREATE OR REPLACE FUNCTION calendence.reschedule_booking(p_business uuid, p_id text,
    p_hold text, p_root_session uuid DEFAULT NULL, OUT status text, OUT message text,
    OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_row calendence.reservations;
	v_hold calendence.reservations;
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
	SELECT r.* INTO v_hold FROM calendence.reservations r
	 WHERE r.id = calendence.parse_uuid(p_hold) AND r.business_id = p_business
	   AND r.id <> v_row.id
	   AND calendence.hold_usable(r.root_session_id, p_root_session)
	   FOR UPDATE;
	IF NOT FOUND THEN
		status := 'invalid:hold_id';
		message := CASE WHEN p_hold IS NULL THEN 'hold_id is required.'
		    ELSE 'No such hold.' END;
	ELSIF v_hold.service_id <> v_row.service_id THEN
		status := 'invalid:hold_id';
		message := 'The hold is for another service than the booking.';
	ELSIF v_row.status NOT IN ('pending_payment', 'confirmed') THEN
		status := 'invalid_transition';
		message := 'A booking that is ' || replace(v_row.status, '_', ' ')
		    || ' cannot be rescheduled.';
	ELSIF v_hold.status <> 'held' OR v_hold.expires_at <= now() THEN
		status := 'hold_expired';
		message := CASE WHEN v_hold.status IN ('held', 'expired')
		    THEN 'This hold has expired.' ELSE 'This hold was already used.' END;
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;
	UPDATE calendence.reservations r SET status = 'expired',
	    expires_at = least(r.expires_at, now()), updated_at = now()
	 WHERE r.id = v_hold.id;
	UPDATE calendence.reservations r SET location_id = v_hold.location_id,
	    staff_id = v_hold.staff_id, resource_id = v_hold.resource_id,
	    starts_at = v_hold.starts_at, ends_at = v_hold.ends_at, during = v_hold.during,
	    updated_at = now()
	 WHERE r.id = v_row.id
	RETURNING r.* INTO v_row;
	status := 'ok';
	body := calendence.booking_body(v_row);
END $$;

-- POST /api/v1/bookings/{id}/reschedule, in one round trip:
-- reschedule_booking() with Idempotency-Key. p_id, p_hold: the path's id and
-- the body's hold_id as sent; p_root_session, p_key, p_idem_key as hold()
-- (the C side sends a key of its own when the client sent none). status,
-- message, body as reschedule_booking(), or 'invalid:Idempotency-Key'
-- (422); replayed as hold().
CREATE OR REPLACE FUNCTION calendence.reschedule(p_business uuid, p_id text, p_hold text,
    p_root_session uuid DEFAULT NULL, p_key uuid DEFAULT NULL,
    p_idem_key text DEFAULT NULL, OUT status text, OUT message text, OUT body text,
    OUT replayed boolean)
LANGUAGE sql AS $$
	SELECT * FROM calendence.idempotent(p_business, p_root_session, p_key, p_idem_key,
	    jsonb_build_array('reschedule', p_id, p_hold))
$$;

-- PATCH /api/v1/bookings/{id} {status}, for hub and business keys (the C
-- side refuses sessions). The moves allowed (SPEC 9): pending_payment ->
-- confirmed, confirmed -> in_progress, in_progress -> completed, confirmed
-- -> completed. A move to the status the booking already has changes
-- nothing and answers 'ok' (so that a re-sent PATCH answers the same).
-- status 'ok' with the booking; 'not_found' (404) as booking_json();
-- 'invalid:status' (422) for a status missing or not one of confirmed,
-- in_progress, completed; 'invalid_transition' (409) for any other move.
CREATE OR REPLACE FUNCTION calendence.set_booking_status(p_business uuid, p_id text,
    p_status text, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_row calendence.reservations;
BEGIN
	SELECT r.* INTO v_row FROM calendence.reservations r
	 WHERE r.id = calendence.parse_uuid(p_id) AND r.business_id = p_business
	   AND r.status NOT IN ('held', 'expired')
	   FOR UPDATE;
	IF NOT FOUND THEN
		status := 'not_found';
		message := 'No such booking.';
		RETURN;
	END IF;
	IF p_status IS NULL OR p_status NOT IN ('confirmed', 'in_progress', 'completed') THEN
		status := 'invalid:status';
		message := 'status must be confirmed, in_progress or completed.';
		RETURN;
	END IF;
	IF v_row.status <> p_status THEN
		IF (v_row.status, p_status) NOT IN (('pending_payment', 'confirmed'),
		    ('confirmed', 'in_progress'), ('in_progress', 'completed'),
		    ('confirmed', 'completed')) THEN
			status := 'invalid_transition';
			message := 'A booking that is ' || replace(v_row.status, '_', ' ')
			    || ' cannot become ' || replace(p_status, '_', ' ') || '.';
			RETURN;
		END IF;
		UPDATE calendence.reservations r SET status = p_status, updated_at = now()
		 WHERE r.id = v_row.id
		RETURNING r.* INTO v_row;
	END IF;
	status := 'ok';
	body := calendence.booking_body(v_row);
END $$;

-- Removes what can no longer matter: Idempotency-Key answers older than a
-- day, and holds that lapsed more than a day ago (a booking attempt with one
-- then gets 'invalid:hold_id' instead of 'hold_expired'). Safe to run from
-- many places at once; availability never depends on it; rows another
-- transaction holds are left for next time.
CREATE OR REPLACE FUNCTION calendence.booking_maintenance(OUT keys_removed bigint,
    OUT holds_removed bigint)
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM calendence.idempotency_keys k USING (
		SELECT i.business_id, i.subject, i.idem_key FROM calendence.idempotency_keys i
		 WHERE i.created_at < now() - interval '24 hours'
		   FOR UPDATE SKIP LOCKED) old
	 WHERE (k.business_id, k.subject, k.idem_key) =
	       (old.business_id, old.subject, old.idem_key);
	GET DIAGNOSTICS keys_removed = ROW_COUNT;
	DELETE FROM calendence.reservations WHERE id IN (
		SELECT r.id FROM calendence.reservations r
		 WHERE r.status IN ('held', 'expired') AND r.expires_at < now() - interval '1 day'
		   FOR UPDATE SKIP LOCKED);
	GET DIAGNOSTICS holds_removed = ROW_COUNT;
END $$;
