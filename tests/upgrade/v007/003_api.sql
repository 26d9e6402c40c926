-- 003_api.sql: what the FastCGI workers call: admission, authentication,
-- sessions, the JSON shapes of resources, and maintenance.

-- Admission of one request in both fixed windows of a subject (SPEC 6).
-- Admitted only when every window has room; an admitted request adds one to
-- each window, a refused one adds nothing. The row lock taken by
-- INSERT ... ON CONFLICT DO UPDATE makes it exact under any concurrency.
-- hour_limit NULL means the subject has only a minute window.
-- Returns the counts after the call (refused: the counts as they stand).
-- now_epoch comes from now(), the start of the caller's transaction, so a
-- call may reach the row after one of a later window was counted: it is then
-- judged and counted in that newer window (hence >= and greatest()), never
-- reopening the old one, which would wipe the newer window's count.
CREATE FUNCTION calendence.rl_admit(subject text, now_epoch bigint, minute_limit integer,
    hour_limit integer, OUT admitted boolean, OUT minute_count integer,
    OUT hour_count integer)
LANGUAGE plpgsql AS $$
DECLARE
	m constant bigint := now_epoch - now_epoch % 60;
	h constant bigint := now_epoch - now_epoch % 3600;
BEGIN
	INSERT INTO calendence.rate_windows AS w
	    (subject, minute_start, minute_count, hour_start, hour_count)
	VALUES (rl_admit.subject, m, 1, h, 1)
	ON CONFLICT ON CONSTRAINT rate_windows_pkey DO UPDATE SET
		minute_start = greatest(w.minute_start, m),
		minute_count = CASE WHEN w.minute_start >= m THEN w.minute_count ELSE 0 END + 1,
		hour_start = greatest(w.hour_start, h),
		hour_count = CASE WHEN w.hour_start >= h THEN w.hour_count ELSE 0 END + 1
	WHERE CASE WHEN w.minute_start >= m THEN w.minute_count ELSE 0 END < minute_limit
	  AND (hour_limit IS NULL OR
	       CASE WHEN w.hour_start >= h THEN w.hour_count ELSE 0 END < hour_limit)
	RETURNING w.minute_count, w.hour_count INTO minute_count, hour_count;
	IF FOUND THEN
		admitted := true;
		RETURN;
	END IF;
	admitted := false;
	SELECT CASE WHEN w.minute_start >= m THEN w.minute_count ELSE 0 END,
	       CASE WHEN w.hour_start >= h THEN w.hour_count ELSE 0 END
	  INTO minute_count, hour_count
	  FROM calendence.rate_windows w WHERE w.subject = rl_admit.subject;
END $$;

-- Counts a request whose credentials failed in its client IP's 'auth' window.
CREATE FUNCTION calendence.auth_fail(ip text, auth_limit integer,
    OUT admitted boolean, OUT count integer, OUT now_epoch bigint)
LANGUAGE plpgsql AS $$
DECLARE
	r record;
BEGIN
	-- only counters change here: no need to wait for the WAL flush
	PERFORM set_config('synchronous_commit', 'off', true);
	now_epoch := floor(extract(epoch FROM now()))::bigint;
	r := calendence.rl_admit('a:' || ip, now_epoch, auth_limit, NULL);
	admitted := r.admitted;
	count := r.minute_count;
END $$;

-- Authentication and admission of one request, in one round trip.
--   token_hash  SHA-256 of a well-formed token whose prefix names kind
--   kind        'hub', 'business', 'publishable' or 'session'
--   exchange    the request is POST /session (publishable keys count per IP)
--   ip          the client IP subject (IPv6 folded to its /64)
--   business    the Calendence-Business header of a hub key, or NULL
--   origin      the request's Origin header, or NULL
--   auth_limit  the failed-credentials limit per IP and minute
-- status is 'ok', or 'unknown', 'revoked', 'expired', 'session_expired' (401,
-- then counted in the IP's auth window instead: window = 'auth').
-- For 'ok', window is 'key' (minute and hour) or 'exchange' (minute only).
CREATE FUNCTION calendence.authenticate(token_hash bytea, kind text, exchange boolean,
    ip text, business uuid, origin text, auth_limit integer,
    OUT status text, OUT key_id uuid, OUT hub_id uuid, OUT business_id uuid,
    OUT display text, OUT full_api_access boolean, OUT business_ok boolean,
    OUT business_active boolean, OUT business_name text, OUT business_timezone text,
    OUT origin_ok boolean, OUT publishable_key_id uuid, OUT root_session_id uuid,
    OUT "window" text, OUT admitted boolean, OUT minute_count integer,
    OUT hour_count integer, OUT minute_limit integer, OUT hour_limit integer,
    OUT now_epoch bigint)
LANGUAGE plpgsql AS $$
DECLARE
	t constant timestamptz := now();
	k record;
	p calendence.plans;
	b calendence.businesses;
	r record;
	subject text;
BEGIN
	-- only counters and last_used_at change here: losing the last few to a
	-- crash is harmless, so the commit need not wait for the WAL flush
	PERFORM set_config('synchronous_commit', 'off', true);
	now_epoch := floor(extract(epoch FROM t))::bigint;
	IF kind = 'session' THEN
		SELECT s.id, s.business_id, s.publishable_key_id, s.root_session_id,
		       s.expires_at, s.revoked_at, pk.revoked_at AS pk_revoked,
		       pk.expires_at AS pk_expires, pk.allowed_origins
		  INTO k
		  FROM calendence.sessions s
		  JOIN calendence.api_keys pk ON pk.id = s.publishable_key_id
		 WHERE s.token_hash = authenticate.token_hash;
		IF NOT FOUND THEN
			status := 'unknown';
		ELSIF k.revoked_at IS NOT NULL OR k.expires_at <= t OR k.pk_revoked IS NOT NULL THEN
			status := 'session_expired';
		ELSIF exchange AND k.pk_expires IS NOT NULL AND k.pk_expires <= t THEN
			status := 'expired';	-- a refresh needs a live publishable key
		ELSE
			status := 'ok';
			key_id := k.id;
			business_id := k.business_id;
			publishable_key_id := k.publishable_key_id;
			root_session_id := k.root_session_id;
			subject := 's:' || k.id;
		END IF;
	ELSE
		SELECT a.id, a.hub_id, a.business_id, a.display, a.revoked_at, a.expires_at,
		       a.last_used_at, a.allowed_origins
		  INTO k
		  FROM calendence.api_keys a
		 WHERE a.token_hash = authenticate.token_hash AND a.kind = authenticate.kind;
		IF NOT FOUND THEN
			status := 'unknown';
		ELSIF k.revoked_at IS NOT NULL THEN
			status := 'revoked';
		ELSIF k.expires_at IS NOT NULL AND k.expires_at <= t THEN
			status := 'expired';
		ELSE
			status := 'ok';
			key_id := k.id;
			hub_id := k.hub_id;
			business_id := k.business_id;
			display := k.display;
			subject := 'k:' || k.id;
			IF k.last_used_at IS NULL OR k.last_used_at < t - interval '1 minute' THEN
				UPDATE calendence.api_keys SET last_used_at = t WHERE id = k.id;
			END IF;
		END IF;
	END IF;

	IF status <> 'ok' THEN
		"window" := 'auth';
		minute_limit := auth_limit;
		r := calendence.rl_admit('a:' || ip, now_epoch, auth_limit, NULL);
		admitted := r.admitted;
		minute_count := r.minute_count;
		RETURN;
	END IF;

	-- the business the request acts for: a hub key's named one, else the key's own
	IF hub_id IS NOT NULL THEN
		SELECT * INTO p FROM calendence.plans
		 WHERE code = (SELECT h.plan FROM calendence.hubs h WHERE h.id = hub_id);
		IF authenticate.business IS NOT NULL THEN
			SELECT * INTO b FROM calendence.businesses x
			 WHERE x.id = authenticate.business AND x.hub_id = authenticate.hub_id;
		END IF;
	ELSE
		SELECT * INTO b FROM calendence.businesses x WHERE x.id = business_id;
		SELECT * INTO p FROM calendence.plans
		 WHERE code = (SELECT h.plan FROM calendence.hubs h WHERE h.id = b.hub_id);
		hub_id := b.hub_id;
	END IF;
	business_ok := b.id IS NOT NULL;
	business_active := b.active;
	business_name := b.name;
	business_timezone := b.timezone;
	business_id := b.id;	-- a hub key's: NULL when not named or not reachable
	full_api_access := p.full_api_access;
	origin_ok := origin IS NULL OR k.allowed_origins IS NULL
	    OR cardinality(k.allowed_origins) = 0 OR origin = ANY (k.allowed_origins);

	IF exchange AND kind = 'publishable' THEN
		"window" := 'exchange';
		minute_limit := p.session_per_minute_per_ip;
		r := calendence.rl_admit('x:' || ip, now_epoch, minute_limit, NULL);
	ELSE
		"window" := 'key';
		minute_limit := p.api_per_minute;
		hour_limit := p.api_per_hour;
		r := calendence.rl_admit(subject, now_epoch, minute_limit, hour_limit);
		hour_count := r.hour_count;
	END IF;
	admitted := r.admitted;
	minute_count := r.minute_count;
END $$;

-- Creates a session of one hour for a business, made through a publishable
-- key; root is the first session of the refresh chain (NULL: this one).
CREATE FUNCTION calendence.create_session(token_hash bytea, business uuid,
    publishable_key uuid, root uuid, ip inet, OUT session_id uuid, OUT expires_at text)
LANGUAGE plpgsql AS $$
DECLARE
	v_id constant uuid := gen_random_uuid();
	v_exp timestamptz;
BEGIN
	INSERT INTO calendence.sessions (id, token_hash, business_id, publishable_key_id,
	    root_session_id, client_ip, created_at, expires_at)
	VALUES (v_id, token_hash, business, publishable_key, coalesce(root, v_id), ip,
	    now(), now() + interval '1 hour')
	RETURNING sessions.expires_at INTO v_exp;
	session_id := v_id;
	expires_at := calendence.rfc3339(v_exp);
END $$;

-- The JSON of a service as the API shows it (SPEC 8), compact, in field order.
CREATE FUNCTION calendence.service_json(s calendence.services) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT s.id, s.name, s.description, s.category,
	    s.duration_min, s.duration_max, s.rate, s.rate_type, s.deposit_type,
	    s.deposit_amount, s.buffer_before_min, s.buffer_after_min, s.is_mobile,
	    s.is_active, s.show_staff_picker, s.custom_fields) x
$$;

-- The JSON of a business as the API shows it.
CREATE FUNCTION calendence.business_json(b calendence.businesses) RETURNS json
LANGUAGE sql STABLE AS $$
	SELECT row_to_json(x) FROM (SELECT b.id, b.name, b.slug, b.timezone, b.active,
	    calendence.rfc3339(b.created_at) AS created_at) x
$$;

-- Removes what can no longer be used: sessions expired for a day, rate
-- windows whose hour has passed. Safe to run from many places at once.
CREATE FUNCTION calendence.maintenance(OUT sessions_removed bigint,
    OUT windows_removed bigint)
LANGUAGE plpgsql AS $$
DECLARE
	e constant bigint := floor(extract(epoch FROM now()))::bigint;
BEGIN
	DELETE FROM calendence.sessions WHERE expires_at < now() - interval '1 day';
	GET DIAGNOSTICS sessions_removed = ROW_COUNT;
	DELETE FROM calendence.rate_windows WHERE hour_start < e - e % 3600
	    AND minute_start < e - e % 60;
	GET DIAGNOSTICS windows_removed = ROW_COUNT;
END $$;
