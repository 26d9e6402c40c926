-- 80_webhooks.sql: webhooks (SPEC 11): the outbox trigger that records an
-- event for every booking change in the change's own transaction, the
-- endpoints' API (create, list, show, delete, delivery log, retry), and
-- what the sender (webhooks/ in the source tree) calls: claim, record,
-- release and maintenance.
--
-- API functions answer as those of 60_booking.sql (status 'ok', or
-- 'invalid:<param>', 'not_found', 'webhook_limit'; message; body). Advisory
-- lock class 4 (30_admission.sql) serialises the creations of one business.

-- The events a webhook may subscribe to, in the order they are listed.
CREATE OR REPLACE FUNCTION calendence.webhook_event_names() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
	SELECT ARRAY['booking.created', 'booking.updated', 'booking.cancelled',
	    'booking.completed']
$$;

-- The event id as the API shows it: "evt_" and the uuid's 32 hex digits.
CREATE OR REPLACE FUNCTION calendence.event_ref(id uuid) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT 'evt_' || replace(id::text, '-', '')
$$;

-- Which event a change of a booking is, or NULL for none: made (its
-- booked_at set), cancelled, completed, or else updated when anything the
-- booking's JSON shows changed (a reschedule, another status, its client,
-- notes or fields).
CREATE OR REPLACE FUNCTION calendence.booking_event_name(op text, o calendence.reservations,
    n calendence.reservations) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE
	    WHEN op = 'INSERT' OR o.booked_at IS NULL THEN 'booking.created'
	    WHEN n.status = o.status THEN
		CASE WHEN (o.starts_at, o.ends_at, o.staff_id, o.location_id, o.resource_id,
			o.service_id, o.client_first_name, o.client_last_name, o.client_email,
			o.client_phone, o.notes, o.custom_field_values::text, o.cancel_reason)
		    IS DISTINCT FROM (n.starts_at, n.ends_at, n.staff_id, n.location_id,
			n.resource_id, n.service_id, n.client_first_name, n.client_last_name,
			n.client_email, n.client_phone, n.notes, n.custom_field_values::text,
			n.cancel_reason)
		THEN 'booking.updated' END
	    WHEN n.status = 'cancelled' THEN 'booking.cancelled'
	    WHEN n.status = 'completed' THEN 'booking.completed'
	    ELSE 'booking.updated' END
$$;

-- The outbox (trigger on reservations, for rows that are bookings): the
-- event row, with the payload every delivery sends (SPEC 11: the booking as
-- GET /bookings/{id} shows it at that moment), one delivery for each active
-- webhook of the business that subscribed to it, and a NOTIFY that wakes
-- the senders when the transaction commits. All in the change's own
-- transaction: a rolled-back change leaves nothing.
--
-- The booking's JSON is built here once and kept for the rest of the
-- transaction (calendence.booking_json_cache), so that the API function
-- that made the change answers with it (booking_body()) instead of
-- building it again: the outbox then costs its INSERTs, not a second JSON.
CREATE OR REPLACE FUNCTION calendence.booking_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	v_event text := calendence.booking_event_name(TG_OP,
	    CASE WHEN TG_OP = 'UPDATE' THEN OLD END, NEW);
	v_id uuid;
	v_json text;
BEGIN
	IF v_event IS NULL THEN
		PERFORM set_config('calendence.booking_json_cache', '', true);
		RETURN NULL;
	END IF;
	v_id := gen_random_uuid();
	v_json := calendence.booking_row_json(NEW)::text;
	PERFORM set_config('calendence.booking_json_cache', NEW.id::text || v_json, true);
	INSERT INTO calendence.webhook_events (id, business_id, booking_id, event, payload)
	VALUES (v_id, NEW.business_id, NEW.id, v_event,
	    '{"id":' || to_json(calendence.event_ref(v_id))::text
	    || ',"event":' || to_json(v_event)::text
	    || ',"timestamp":' || to_json(calendence.rfc3339(now()))::text
	    || ',"data":' || v_json || '}');
	INSERT INTO calendence.webhook_deliveries (webhook_id, event_id)
	SELECT w.id, v_id FROM calendence.webhooks w
	 WHERE w.business_id = NEW.business_id AND w.active AND v_event = ANY (w.events);
	IF FOUND THEN
		PERFORM pg_notify('calendence_webhooks', '');
	END IF;
	RETURN NULL;
END $$;

-- The JSON of booking r as the API shows it: the one booking_event() built
-- for this very row version when it was the last booking the transaction
-- changed, else built now (booking_row_json()). The cache names the row by
-- its id; the trigger clears it on any change of a booking that records no
-- event, and its value ends with the transaction.
CREATE OR REPLACE FUNCTION calendence.booking_body(r calendence.reservations) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	c text := current_setting('calendence.booking_json_cache', true);
BEGIN
	IF c IS NOT NULL AND left(c, 36) = r.id::text THEN
		RETURN substr(c, 37);
	END IF;
	RETURN calendence.booking_row_json(r)::text;
END $$;

CREATE OR REPLACE TRIGGER reservations_booking_event
	AFTER INSERT OR UPDATE ON calendence.reservations
	FOR EACH ROW WHEN (NEW.booked_at IS NOT NULL)
	EXECUTE FUNCTION calendence.booking_event();

-- A webhook as the API shows it (its secret never: that is shown once, by
-- the C side, when it is made).
CREATE OR REPLACE FUNCTION calendence.webhook_json(w calendence.webhooks) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT w.id, w.url, w.events, w.description, w.active,
	    calendence.rfc3339(w.created_at) AS created_at) x
$$;

-- A delivery as the delivery log shows it; event is its event's name.
CREATE OR REPLACE FUNCTION calendence.delivery_json(d calendence.webhook_deliveries,
    event text) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT d.id, calendence.event_ref(d.event_id) AS event_id,
	    delivery_json.event, d.status, d.attempts, d.last_status_code, d.last_error,
	    calendence.rfc3339(d.next_attempt_at) AS next_attempt_at,
	    calendence.rfc3339(d.created_at) AS created_at,
	    calendence.rfc3339(d.delivered_at) AS delivered_at) x
$$;

-- bad names the parameter of a webhook's url or NULL when it is fine: an
-- absolute https:// URL (http:// too when p_allow_http) with a host name
-- (labels of 1 to 63 characters) or an IP literal (an IPv6 one that is a
-- real address), an optional port from 1 to 65535, no user information, no
-- white space or control characters, at most 2048 characters: a URL that
-- a client can send to.
CREATE OR REPLACE FUNCTION calendence.check_webhook_url(p_url text, p_allow_http boolean,
    OUT bad text, OUT message text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	m text[] := regexp_match(p_url,
	    '^https?://([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*'
	    || '|\[([0-9a-f:.]+)\])(:([0-9]{1,5}))?([/?#].*)?$', 'i');
BEGIN
	IF p_url IS NULL THEN
		bad := 'url';
		message := 'url is required.';
	ELSIF char_length(p_url) > 2048 OR p_url ~ '[[:space:][:cntrl:]]' OR m IS NULL
	    OR (m[7] IS NOT NULL AND m[7]::integer NOT BETWEEN 1 AND 65535)
	    OR (m[5] IS NOT NULL AND NOT calendence.is_ipv6(m[5])) THEN
		bad := 'url';
		message := 'url must be an absolute URL such as https://example.com/hooks.';
	ELSIF p_url !~* '^https://' AND NOT (p_allow_http AND p_url ~* '^http://') THEN
		bad := 'url';
		message := CASE WHEN p_allow_http THEN 'url must be http:// or https://.'
		    ELSE 'url must be https://.' END;
	END IF;
END $$;

-- True when t is an IPv6 address (as in a URL's brackets).
CREATE OR REPLACE FUNCTION calendence.is_ipv6(t text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
BEGIN
	RETURN family(t::inet) = 6 AND t !~ '/';
EXCEPTION WHEN invalid_text_representation THEN
	RETURN false;
END $$;

-- The events of a webhook as sent (JSON text) checked: bad is NULL and val
-- the names without repeats in the order of webhook_event_names(), or bad
-- is 'events' with a message (missing, not a non-empty array of strings, or
-- a name not known: SPEC 11 says 422).
CREATE OR REPLACE FUNCTION calendence.check_webhook_events(p_events text,
    OUT bad text, OUT message text, OUT val text[])
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	j jsonb;
	unknown text;
BEGIN
	bad := 'events';
	message := 'events must be a list of one or more of booking.created, booking.updated, '
	    || 'booking.cancelled, booking.completed.';
	IF p_events IS NULL THEN
		RETURN;
	END IF;
	j := p_events::jsonb;
	IF jsonb_typeof(j) <> 'array' OR jsonb_array_length(j) = 0 OR EXISTS (
	    SELECT 1 FROM jsonb_array_elements(j) e WHERE jsonb_typeof(e) <> 'string') THEN
		RETURN;
	END IF;
	SELECT e INTO unknown FROM jsonb_array_elements_text(j) e
	 WHERE e <> ALL (calendence.webhook_event_names()) LIMIT 1;
	IF unknown IS NOT NULL THEN
		message := 'Unknown event "' || left(unknown, 100) || '": ' || message;
		RETURN;
	END IF;
	SELECT array_agg(n ORDER BY i) INTO val
	  FROM unnest(calendence.webhook_event_names()) WITH ORDINALITY AS x(n, i)
	 WHERE j ? n;
	bad := NULL;
	message := NULL;
END $$;

-- POST /api/v1/webhooks {url, events, description?}: a webhook of
-- p_business, its secret sealed by the C side (p_secret_box). p_url,
-- p_events (JSON text), p_description as sent (NULL when absent);
-- p_allow_http: the server's webhook_allow_http.
-- status 'ok' (201) with the webhook's JSON (webhook_json()); 'invalid:url',
-- 'invalid:events', 'invalid:description' (422); 'webhook_limit' (409) when
-- the business has 10 already.
CREATE OR REPLACE FUNCTION calendence.webhook_create(p_business uuid, p_url text,
    p_events text, p_description text, p_secret_box bytea, p_allow_http boolean,
    OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	u record := calendence.check_webhook_url(p_url, p_allow_http);
	e record := calendence.check_webhook_events(p_events);
	v_row calendence.webhooks;
BEGIN
	IF u.bad IS NOT NULL THEN
		status := 'invalid:' || u.bad;
		message := u.message;
	ELSIF e.bad IS NOT NULL THEN
		status := 'invalid:' || e.bad;
		message := e.message;
	ELSIF char_length(p_description) > 500 THEN
		status := 'invalid:description';
		message := 'description may be at most 500 characters.';
	END IF;
	IF status IS NOT NULL THEN
		RETURN;
	END IF;
	PERFORM pg_advisory_xact_lock(4, hashtext(p_business::text));
	IF (SELECT count(*) FROM calendence.webhooks w WHERE w.business_id = p_business) >= 10 THEN
		status := 'webhook_limit';
		message := 'A business may have at most 10 webhooks; delete one first.';
		RETURN;
	END IF;
	INSERT INTO calendence.webhooks (business_id, url, events, description, secret_box)
	VALUES (p_business, p_url, e.val, p_description, p_secret_box)
	RETURNING * INTO v_row;
	status := 'ok';
	body := calendence.webhook_json(v_row)::text;
END $$;

-- GET /api/v1/webhooks: the business's webhooks by creation, paginated.
CREATE OR REPLACE FUNCTION calendence.webhooks_list(p_business uuid, p_limit integer,
    p_offset bigint, OUT total bigint, OUT data text)
LANGUAGE sql STABLE AS $$
	SELECT (SELECT count(*) FROM calendence.webhooks WHERE business_id = p_business),
	    coalesce((SELECT '[' || string_agg(calendence.webhook_json(w)::text, ','
		ORDER BY w.created_at, w.id) || ']'
		FROM (SELECT * FROM calendence.webhooks WHERE business_id = p_business
		       ORDER BY created_at, id LIMIT p_limit OFFSET p_offset) w), '[]')
$$;

-- GET /api/v1/webhooks/{id}: the webhook's JSON, or NULL (404) when p_id is
-- malformed or names no webhook of the business.
CREATE OR REPLACE FUNCTION calendence.webhook_get(p_business uuid, p_id text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT calendence.webhook_json(w)::text FROM calendence.webhooks w
	 WHERE w.id = calendence.parse_uuid(p_id) AND w.business_id = p_business
$$;

-- DELETE /api/v1/webhooks/{id}: status 'ok' (204), the webhook gone with
-- its delivery log (nothing more is sent for it; an attempt in flight
-- finishes), or 'not_found' (404) as webhook_get().
CREATE OR REPLACE FUNCTION calendence.webhook_delete(p_business uuid, p_id text,
    OUT status text, OUT message text)
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM calendence.webhooks w
	 WHERE w.id = calendence.parse_uuid(p_id) AND w.business_id = p_business;
	IF FOUND THEN
		status := 'ok';
	ELSE
		status := 'not_found';
		message := 'No such webhook.';
	END IF;
END $$;

-- GET /api/v1/webhooks/{id}/deliveries: the webhook's delivery log, newest
-- first, paginated: status 'ok' with total and data, or 'not_found' (404)
-- as webhook_get().
CREATE OR REPLACE FUNCTION calendence.webhook_deliveries(p_business uuid, p_id text,
    p_limit integer, p_offset bigint, OUT status text, OUT message text,
    OUT total bigint, OUT data text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_hook uuid;
BEGIN
	SELECT w.id INTO v_hook FROM calendence.webhooks w
	 WHERE w.id = calendence.parse_uuid(p_id) AND w.business_id = p_business;
	IF NOT FOUND THEN
		status := 'not_found';
		message := 'No such webhook.';
		RETURN;
	END IF;
	SELECT count(*) INTO total FROM calendence.webhook_deliveries d
	 WHERE d.webhook_id = v_hook;
	SELECT coalesce('[' || string_agg(calendence.delivery_json(d, e.event)::text, ','
		ORDER BY d.created_at DESC, d.id DESC) || ']', '[]') INTO data
	  FROM (SELECT * FROM calendence.webhook_deliveries x WHERE x.webhook_id = v_hook
		 ORDER BY x.created_at DESC, x.id DESC LIMIT p_limit OFFSET p_offset) d
	  JOIN calendence.webhook_events e ON e.id = d.event_id;
	status := 'ok';
END $$;

-- POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry: sends the
-- delivery again. One that ended (succeeded or failed) is pending again
-- with a fresh count of attempts; a pending one is due now (one in an
-- attempt right now is left to it). status 'ok' (202) with the delivery;
-- 'not_found' (404) when either id is malformed or unknown, or the
-- delivery is another webhook's.
CREATE OR REPLACE FUNCTION calendence.webhook_retry(p_business uuid, p_id text,
    p_delivery text, OUT status text, OUT message text, OUT body text)
LANGUAGE plpgsql AS $$
DECLARE
	v_row calendence.webhook_deliveries;
	v_event text;
BEGIN
	SELECT d.* INTO v_row FROM calendence.webhook_deliveries d
	  JOIN calendence.webhooks w ON w.id = d.webhook_id
	 WHERE d.id = calendence.parse_uuid(p_delivery)
	   AND w.id = calendence.parse_uuid(p_id) AND w.business_id = p_business
	   FOR UPDATE OF d;
	IF NOT FOUND THEN
		status := 'not_found';
		message := 'No such delivery.';
		RETURN;
	END IF;
	IF v_row.status <> 'pending' THEN
		UPDATE calendence.webhook_deliveries d SET status = 'pending', attempts = 0,
		    next_attempt_at = now(), delivered_at = NULL
		 WHERE d.id = v_row.id RETURNING d.* INTO v_row;
	ELSIF v_row.claimed_until IS NULL OR v_row.claimed_until < clock_timestamp() THEN
		UPDATE calendence.webhook_deliveries d SET next_attempt_at = now()
		 WHERE d.id = v_row.id RETURNING d.* INTO v_row;
	END IF;
	PERFORM pg_notify('calendence_webhooks', '');
	SELECT e.event INTO v_event FROM calendence.webhook_events e WHERE e.id = v_row.event_id;
	status := 'ok';
	body := calendence.delivery_json(v_row, v_event)::text;
END $$;

-- The sender: claims up to p_limit due deliveries for p_sender (a uuid the
-- sender made at start) for p_lease_ms, skipping rows another sender is
-- claiming at this moment; a delivery whose lease ran out (its sender died)
-- is due again. A webhook a DBA made inactive keeps its deliveries
-- pending, unsent, until it is active again. Each claim begins an attempt
-- (attempts + 1). Answers what
-- the attempt needs: where, the sealed secret, the event and its payload.
CREATE OR REPLACE FUNCTION calendence.webhook_claim(p_sender uuid, p_limit integer,
    p_lease_ms integer)
RETURNS TABLE (delivery_id uuid, webhook_id uuid, url text, secret_box bytea, event text,
    payload text, attempt integer)
LANGUAGE sql AS $$
	WITH due AS (
		SELECT d.id FROM calendence.webhook_deliveries d
		 WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
		   AND (d.claimed_until IS NULL OR d.claimed_until < clock_timestamp())
		   AND EXISTS (SELECT 1 FROM calendence.webhooks w
				WHERE w.id = d.webhook_id AND w.active)
		 ORDER BY d.next_attempt_at LIMIT p_limit
		   FOR UPDATE OF d SKIP LOCKED),
	claimed AS (
		UPDATE calendence.webhook_deliveries d SET claimed_by = p_sender,
		    claimed_until = clock_timestamp() + p_lease_ms * interval '1 millisecond',
		    attempts = d.attempts + 1
		  FROM due WHERE d.id = due.id
		RETURNING d.id, d.webhook_id, d.event_id, d.attempts)
	SELECT c.id, c.webhook_id, w.url, w.secret_box, e.event, e.payload, c.attempts
	  FROM claimed c JOIN calendence.webhooks w ON w.id = c.webhook_id
	  JOIN calendence.webhook_events e ON e.id = c.event_id
$$;

-- The sender: the outcome of an attempt of a delivery it holds. p_code: the
-- HTTP status (NULL when none came: p_error says why); p_retry_ms: when the
-- next attempt is due if this one failed, NULL when it was the last. A 2xx
-- is 'succeeded'; a failure is 'pending' again, or 'failed' after the last.
-- recorded is false (nothing changed) when the delivery is no longer held
-- by p_sender: its lease ran out and another sender took it, or its
-- webhook was deleted.
CREATE OR REPLACE FUNCTION calendence.webhook_record(p_delivery uuid, p_sender uuid,
    p_code integer, p_error text, p_retry_ms integer, OUT recorded boolean,
    OUT status text)
LANGUAGE plpgsql AS $$
DECLARE
	ok constant boolean := coalesce(p_code BETWEEN 200 AND 299, false);
BEGIN
	UPDATE calendence.webhook_deliveries d SET
		status = CASE WHEN ok THEN 'succeeded' WHEN p_retry_ms IS NULL THEN 'failed'
		    ELSE 'pending' END,
		last_status_code = p_code,
		last_error = CASE WHEN ok THEN NULL ELSE left(p_error, 500) END,
		next_attempt_at = CASE WHEN ok OR p_retry_ms IS NULL THEN NULL
		    ELSE clock_timestamp() + p_retry_ms * interval '1 millisecond' END,
		delivered_at = CASE WHEN ok THEN clock_timestamp() END,
		claimed_by = NULL, claimed_until = NULL
	 WHERE d.id = p_delivery AND d.claimed_by = p_sender
	RETURNING d.status INTO webhook_record.status;
	recorded := FOUND;
END $$;

-- The sender: gives back a delivery it claimed but did not attempt (it is
-- stopping), as if never claimed: due at once for any sender. released is
-- false when p_sender no longer held it.
CREATE OR REPLACE FUNCTION calendence.webhook_release(p_delivery uuid, p_sender uuid,
    OUT released boolean)
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE calendence.webhook_deliveries d SET attempts = greatest(d.attempts - 1, 0),
	    claimed_by = NULL, claimed_until = NULL
	 WHERE d.id = p_delivery AND d.claimed_by = p_sender;
	released := FOUND;
END $$;

-- Removes events older than p_keep whose deliveries all ended (or that had
-- none), with their delivery log. Rows another transaction holds are left
-- for next time. Run by the sender now and then.
CREATE OR REPLACE FUNCTION calendence.webhook_maintenance(p_keep interval DEFAULT '30 days',
    OUT events_removed bigint)
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM calendence.webhook_events WHERE id IN (
		SELECT e.id FROM calendence.webhook_events e
		 WHERE e.created_at < now() - p_keep
		   AND NOT EXISTS (SELECT 1 FROM calendence.webhook_deliveries d
				    WHERE d.event_id = e.id AND d.status = 'pending')
		   FOR UPDATE SKIP LOCKED);
	GET DIAGNOSTICS events_removed = ROW_COUNT;
END $$;
