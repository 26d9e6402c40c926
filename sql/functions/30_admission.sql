-- 30_admission.sql: what every request of the FastCGI workers calls first:
-- authentication and admission in both rate windows (SPEC 5, 6), failed
-- credentials counted per IP, sessions made, maintenance() of sessions
-- and windows, and usage: the windows' counts folded into usage_hourly.
--
-- Advisory lock classes (pg_advisory_xact_lock(class, hashtext(key))) of the
-- project, all four:
--   1  the rate window of one subject (rl_admit(), maintenance())
--   2  the live holds of one session chain (key: its root session id), so
--      that two concurrent holds of a chain cannot both pass the count
--      (make_hold(), 60_booking.sql)
--   3  the holds of one staff member being inserted (key: the staff id), so
--      that concurrent holds of one staff member queue instead of waiting
--      for each other in the exclusion constraint (a deadlock, found only
--      after deadlock_timeout) (make_hold())
--   4  the webhooks of one business being created (key: the business id), so
--      that concurrent creations cannot pass the count of 10 together
--      (webhook_create(), 80_webhooks.sql)

-- Admission of one request in both fixed windows of a subject (SPEC 6).
-- Admitted only when every window has room; an admitted request adds one to
-- each window, a refused one adds nothing. hour_limit NULL means the subject
-- has only a minute window (its hour is still counted, for usage). Returns
-- the counts after the call (refused: the counts as they stand).
--
-- For usage (maintenance()): a refusal adds one to hour_refused, the row's
-- only write on that path (a worker answers the next ones from memory and
-- reports them with usage_refused()); an
-- admission that starts a new hour keeps the passing hour in prev_hour_*,
-- in the same UPDATE, until maintenance() folds it. A second new hour
-- before maintenance() has run overwrites it: maintenance runs every few
-- minutes (maintenance_interval).
--
-- Admissions of one subject queue on an advisory lock that only they (and
-- maintenance() and usage_refused(), which take it before the row) ever
-- take. Holding it, the row can be locked by nobody but an outsider, such
-- as a DBA's open transaction; so the upsert waits for no row lock but
-- briefly (lock_timeout 100 ms for it alone): an outsider's lock ends the
-- call with lock_not_available (55P03), which the worker answers 503, that
-- tenant's only. Not 1 ms: the table's own lock may be held a moment by
-- autovacuum truncating the table's end (it lets go within 20 ms of a
-- waiter), and 1 ms made that a 503 for anybody (seen in a CI run).
-- (Until issue 15 a SELECT ... FOR NO KEY UPDATE SKIP LOCKED found the
-- outsider first and said stalled; that row lock cost a WAL record per
-- request, and the admission was 14 % slower with it: pgbench of
-- authenticate(), 4 clients, five interleaved pairs. stalled is kept in
-- the signature, always false.) The upsert's own row lock makes the count
-- exact under any concurrency.
--
-- now_epoch comes from now(), the start of the caller's transaction, so a
-- call may reach the row after one of a later window was counted: it is then
-- judged and counted in that newer window (hence >= and greatest()), never
-- reopening the old one, which would wipe the newer window's count.
CREATE OR REPLACE FUNCTION calendence.rl_admit(subject text, now_epoch bigint, minute_limit integer,
    hour_limit integer, OUT admitted boolean, OUT minute_count integer,
    OUT hour_count integer, OUT stalled boolean)
LANGUAGE plpgsql AS $$
DECLARE
	m constant bigint := now_epoch - now_epoch % 60;
	h constant bigint := now_epoch - now_epoch % 3600;
	waits constant text := current_setting('lock_timeout');
	x text;
BEGIN
	admitted := false;
	stalled := false;
	PERFORM pg_advisory_xact_lock(1, hashtext(rl_admit.subject));
	x := set_config('lock_timeout', '100ms', true);
	INSERT INTO calendence.rate_windows AS w
	    (subject, minute_start, minute_count, hour_start, hour_count)
	VALUES (rl_admit.subject, m, 1, h, 1)
	ON CONFLICT ON CONSTRAINT rate_windows_pkey DO UPDATE SET
		minute_start = greatest(w.minute_start, m),
		minute_count = CASE WHEN w.minute_start >= m THEN w.minute_count ELSE 0 END + 1,
		hour_start = greatest(w.hour_start, h),
		hour_count = CASE WHEN w.hour_start >= h THEN w.hour_count ELSE 0 END + 1,
		hour_refused = CASE WHEN w.hour_start >= h THEN w.hour_refused ELSE 0 END,
		prev_hour_start = CASE WHEN w.hour_start < h AND w.hour_count + w.hour_refused > 0
		    THEN w.hour_start ELSE w.prev_hour_start END,
		prev_hour_count = CASE WHEN w.hour_start < h AND w.hour_count + w.hour_refused > 0
		    THEN w.hour_count ELSE w.prev_hour_count END,
		prev_hour_refused = CASE WHEN w.hour_start < h AND w.hour_count + w.hour_refused > 0
		    THEN w.hour_refused ELSE w.prev_hour_refused END
	WHERE CASE WHEN w.minute_start >= m THEN w.minute_count ELSE 0 END < minute_limit
	  AND (hour_limit IS NULL OR
	       CASE WHEN w.hour_start >= h THEN w.hour_count ELSE 0 END < hour_limit)
	RETURNING w.minute_count, w.hour_count INTO minute_count, hour_count;
	admitted := FOUND;
	x := set_config('lock_timeout', waits, true);
	IF admitted THEN
		RETURN;
	END IF;
	-- refused: counted in the row's hour (which the upsert left locked)
	UPDATE calendence.rate_windows w SET hour_refused = w.hour_refused + 1
	 WHERE w.subject = rl_admit.subject AND w.hour_start >= h;
	SELECT x.minute_count, x.hour_count INTO minute_count, hour_count
	  FROM calendence.rl_peek(rl_admit.subject, now_epoch) x;
END $$;

-- The counts of a subject's windows as they stand at now_epoch (0 for a
-- window that has passed or a subject never counted), counting nothing.
CREATE OR REPLACE FUNCTION calendence.rl_peek(subject text, now_epoch bigint,
    OUT minute_count integer, OUT hour_count integer)
LANGUAGE sql STABLE AS $$
	SELECT coalesce(max(CASE WHEN w.minute_start >= now_epoch - now_epoch % 60
		       THEN w.minute_count ELSE 0 END), 0),
	       coalesce(max(CASE WHEN w.hour_start >= now_epoch - now_epoch % 3600
		       THEN w.hour_count ELSE 0 END), 0)
	  FROM calendence.rate_windows w WHERE w.subject = rl_peek.subject
$$;

-- Takes back one admission of subject in its minute window (and hour
-- window, when counted there): the caller's transaction admitted it a
-- moment ago and still holds the row, so nothing else counted in between.
CREATE OR REPLACE FUNCTION calendence.rl_unadmit(subject text, with_hour boolean) RETURNS void
LANGUAGE sql AS $$
	UPDATE calendence.rate_windows w
	   SET minute_count = w.minute_count - 1,
	       hour_count = w.hour_count - CASE WHEN with_hour THEN 1 ELSE 0 END
	 WHERE w.subject = rl_unadmit.subject
$$;

-- Counts a request whose credentials failed in its client IP's 'auth' window.
-- stalled: always false (rl_admit(): an outsider's lock on the row is an
-- error, 55P03, which the worker answers 503).
CREATE OR REPLACE FUNCTION calendence.auth_fail(ip text, auth_limit integer,
    OUT admitted boolean, OUT count integer, OUT now_epoch bigint, OUT stalled boolean)
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
	stalled := r.stalled;
END $$;

-- Authentication and admission of one request, in one round trip. The
-- workers call it for POST /session (an exchange, or a refresh with its two
-- windows); every other request runs the plain SQL statement ADMIT_SQL of
-- fcgi/db.c, which follows the rules below for exchange = false (no
-- PL/pgSQL on the hot path: issue 15). tests/integration/admit.c compares
-- the two column by column; a change of the rules is made in both.
--   token_hash  SHA-256 of a well-formed token whose prefix names kind
--   kind        'hub', 'business', 'publishable' or 'session'
--   exchange    the request is POST /session (publishable keys count per IP;
--               a session token's is a refresh)
--   ip          the client IP subject (IPv6 folded to its /64)
--   business    the Calendence-Business header of a hub key, or NULL
--   origin      the request's Origin header, or NULL
--   auth_limit  the failed-credentials limit per IP and minute
-- status is 'ok'; or 'unknown', 'revoked', 'expired', 'session_expired'
-- (401, then counted in the IP's auth window instead: window = 'auth'); or
-- (no longer 'stalled': a window's row held by another transaction now
-- ends the call with lock_not_available, 55P03, answered 503: rl_admit()).
-- For 'ok', window is
--   'key'       minute and hour of the key, or of a session's whole chain
--   'exchange'  the client IP's session window (minute_* columns)
--   'refresh'   the chain's minute and hour, and the client IP's session
--               window (session_*): admitted only when all three have room
CREATE OR REPLACE FUNCTION calendence.authenticate(token_hash bytea, kind text, exchange boolean,
    ip text, business uuid, origin text, auth_limit integer,
    OUT status text, OUT key_id uuid, OUT hub_id uuid, OUT business_id uuid,
    OUT display text, OUT full_api_access boolean, OUT business_ok boolean,
    OUT business_active boolean, OUT business_name text, OUT business_timezone text,
    OUT origin_ok boolean, OUT publishable_key_id uuid, OUT root_session_id uuid,
    OUT "window" text, OUT admitted boolean, OUT minute_count integer,
    OUT hour_count integer, OUT minute_limit integer, OUT hour_limit integer,
    OUT now_epoch bigint, OUT session_count integer, OUT session_limit integer)
LANGUAGE plpgsql AS $$
DECLARE
	t constant timestamptz := now();
	k record;
	p calendence.plans;
	b calendence.businesses;
	r record;
	sw record;
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
			subject := 's:' || k.root_session_id;	-- the chain (SPEC 5)
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
			-- bookkeeping: skipped, never waited for, while a DBA holds the row
			IF k.last_used_at IS NULL OR k.last_used_at < t - interval '1 minute' THEN
				UPDATE calendence.api_keys a SET last_used_at = t
				 WHERE a.id = (SELECT l.id FROM calendence.api_keys l
				     WHERE l.id = k.id FOR NO KEY UPDATE SKIP LOCKED);
			END IF;
		END IF;
	END IF;

	IF status <> 'ok' THEN
		-- counted in the client IP's failed-credentials window instead
		"window" := 'auth';
		subject := 'a:' || ip;
		minute_limit := auth_limit;
	ELSE
		-- the business the request acts for: a hub key's named one, else the key's own
		IF hub_id IS NOT NULL THEN
			SELECT * INTO p FROM calendence.plans
			 WHERE code = (SELECT h.plan FROM calendence.hubs h WHERE h.id = hub_id);
			IF authenticate.business IS NOT NULL THEN
				SELECT * INTO b FROM calendence.businesses x
				 WHERE x.id = authenticate.business
				   AND x.hub_id = authenticate.hub_id;
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
			subject := 'x:' || ip;
			minute_limit := p.session_per_minute_per_ip;
		ELSE
			"window" := CASE WHEN exchange THEN 'refresh' ELSE 'key' END;
			minute_limit := p.api_per_minute;
			hour_limit := p.api_per_hour;
		END IF;
	END IF;

	IF "window" = 'refresh' THEN
		-- the client IP's session window first, then the chain's below
		session_limit := p.session_per_minute_per_ip;
		sw := calendence.rl_admit('x:' || ip, now_epoch, session_limit, NULL);
		session_count := sw.minute_count;
		IF sw.stalled THEN
			status := 'stalled';
			RETURN;
		END IF;
		IF NOT sw.admitted THEN
			admitted := false;
			r := calendence.rl_peek(subject, now_epoch);
			minute_count := r.minute_count;
			hour_count := r.hour_count;
			RETURN;
		END IF;
	END IF;
	r := calendence.rl_admit(subject, now_epoch, minute_limit, hour_limit);
	admitted := r.admitted;
	minute_count := r.minute_count;
	IF hour_limit IS NOT NULL THEN
		hour_count := r.hour_count;
	END IF;
	IF "window" = 'refresh' AND NOT r.admitted THEN
		-- refused by the chain: the IP's session window did not count it
		-- either (nor its hour, which usage reports)
		PERFORM calendence.rl_unadmit('x:' || ip, true);
		session_count := session_count - 1;
	END IF;
	IF r.stalled THEN
		status := 'stalled';
	END IF;
END $$;

-- Creates a session of one hour for a business, made through a publishable
-- key; root is the first session of the refresh chain (NULL: this one).
-- Sent twice with one token hash (the connection broke after the first was
-- sent: db.c sends it again), it creates one session and answers the same:
-- the hash is of a token made for this one request.
CREATE OR REPLACE FUNCTION calendence.create_session(token_hash bytea, business uuid,
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
	ON CONFLICT ON CONSTRAINT sessions_pkey DO NOTHING
	RETURNING sessions.id, sessions.expires_at INTO session_id, v_exp;
	IF NOT FOUND THEN
		-- the first attempt of this very request, or else a real clash
		SELECT s.id, s.expires_at INTO session_id, v_exp
		  FROM calendence.sessions s
		 WHERE s.token_hash = create_session.token_hash
		   AND s.business_id = create_session.business
		   AND s.publishable_key_id = create_session.publishable_key;
		IF NOT FOUND THEN
			RAISE unique_violation USING MESSAGE =
			    'a session with this token hash exists for another key';
		END IF;
	END IF;
	expires_at := calendence.rfc3339(v_exp);
END $$;

-- What usage (usage_hourly) knows of a rate window's subject: its kind
-- (NULL: not one of the four, such as a test's, and never folded), and the
-- key, business or client IP it stands for. A session chain (s:<root>)
-- stands for the publishable key it was made through; a root session
-- whose row is gone, or an IP that is not one, gives NULL there.
CREATE OR REPLACE FUNCTION calendence.usage_subject(subject text, OUT kind text,
    OUT key_id uuid, OUT business_id uuid, OUT ip inet)
LANGUAGE plpgsql STABLE AS $$
DECLARE
	v_id constant text := substr(subject, 3);
	is_uuid constant boolean := v_id ~
	    '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
BEGIN
	CASE left(subject, 2)
	WHEN 'k:' THEN
		kind := 'key';
		IF is_uuid THEN
			key_id := v_id::uuid;
			SELECT a.business_id INTO business_id
			  FROM calendence.api_keys a WHERE a.id = key_id;
		END IF;
	WHEN 's:' THEN
		kind := 'session';
		IF is_uuid THEN
			-- the root session, kept a day after it expired: a chain
			-- refreshed for longer shows no key (no index on
			-- root_session_id to find a later one, and none is wanted
			-- on the exchange's path)
			SELECT s.publishable_key_id, s.business_id INTO key_id, business_id
			  FROM calendence.sessions s WHERE s.id = v_id::uuid;
		END IF;
	WHEN 'x:', 'a:' THEN
		kind := CASE left(subject, 2) WHEN 'x:' THEN 'exchange' ELSE 'auth' END;
		IF v_id ~ '^[0-9a-fA-F.:]+(/[0-9]{1,3})?$' THEN
			BEGIN
				ip := v_id::inet;
			EXCEPTION WHEN invalid_text_representation THEN
				ip := NULL;
			END;
		END IF;
	ELSE
		kind := NULL;
	END CASE;
END $$;

-- Adds hours of windows to usage_hourly: the i-th of each array is one
-- window's subject, hour start, count and refusals (an auth window's count
-- is its failed credentials, another's its admissions). Rows are added in
-- the order of their key, so that two maintenance() calls adding to the
-- same rows queue instead of deadlocking.
CREATE OR REPLACE FUNCTION calendence.usage_add(subjects text[], hour_starts bigint[],
    counts integer[], refusals integer[]) RETURNS void
LANGUAGE sql AS $$
	INSERT INTO calendence.usage_hourly AS u
	    (hour, subject_kind, key_id, business_id, ip, admitted, refused, failed)
	SELECT to_timestamp(x.h), s.kind, s.key_id, s.business_id, s.ip,
	       sum(CASE WHEN s.kind = 'auth' THEN 0 ELSE x.n END),
	       sum(x.r),
	       sum(CASE WHEN s.kind = 'auth' THEN x.n ELSE 0 END)
	  FROM unnest(subjects, hour_starts, counts, refusals) x(subject, h, n, r),
	       LATERAL calendence.usage_subject(x.subject) s
	 WHERE s.kind IS NOT NULL AND x.n + x.r > 0
	 GROUP BY 1, 2, 3, 4, 5
	 ORDER BY 1, 2, 3, 5
	ON CONFLICT ON CONSTRAINT usage_hourly_one DO UPDATE SET
		admitted = u.admitted + excluded.admitted,
		refused = u.refused + excluded.refused,
		failed = u.failed + excluded.failed
$$;

-- The refusals a worker answered from memory (SPEC 6: a refused subject's
-- further requests until its window resets), reported now and then
-- (fcgi/usage.c): the i-th of each array is a window's subject, the hour
-- the refusals fell in and how many. Each is added where that hour's
-- refusals are kept: the window's hour_refused, else its prev_hour_refused,
-- else (the window gone, or its hour folded already) usage_hourly itself;
-- so every 429 is counted once. Waits for no window: one whose advisory
-- lock (class 1) or row another transaction holds is left out, and its
-- index (1-based) returned in skipped, for the caller to report next time.
CREATE OR REPLACE FUNCTION calendence.usage_refused(subjects text[], hour_starts bigint[],
    counts integer[], OUT skipped integer[])
LANGUAGE plpgsql AS $$
DECLARE
	i integer;
	w record;
	gone_s text[] := '{}';
	gone_h bigint[] := '{}';
	gone_n integer[] := '{}';
BEGIN
	-- only counters change here, as in authenticate()
	PERFORM set_config('synchronous_commit', 'off', true);
	skipped := '{}';
	FOR i IN 1 .. coalesce(cardinality(subjects), 0) LOOP
		CONTINUE WHEN counts[i] IS NULL OR counts[i] <= 0;
		IF NOT pg_try_advisory_xact_lock(1, hashtext(subjects[i])) THEN
			skipped := skipped || i;
			CONTINUE;
		END IF;
		SELECT x.hour_start, x.prev_hour_start INTO w
		  FROM calendence.rate_windows x WHERE x.subject = subjects[i]
		   FOR NO KEY UPDATE SKIP LOCKED;
		IF NOT FOUND AND EXISTS (SELECT 1 FROM calendence.rate_windows x
		    WHERE x.subject = subjects[i]) THEN
			skipped := skipped || i;	-- an outsider holds the row
		ELSIF FOUND AND w.hour_start = hour_starts[i] THEN
			UPDATE calendence.rate_windows x SET hour_refused = x.hour_refused + counts[i]
			 WHERE x.subject = subjects[i];
		ELSIF FOUND AND w.prev_hour_start = hour_starts[i] THEN
			UPDATE calendence.rate_windows x
			   SET prev_hour_refused = x.prev_hour_refused + counts[i]
			 WHERE x.subject = subjects[i];
		ELSE
			gone_s := gone_s || subjects[i];
			gone_h := gone_h || hour_starts[i];
			gone_n := gone_n || counts[i];
		END IF;
	END LOOP;
	IF cardinality(gone_s) > 0 THEN
		PERFORM calendence.usage_add(gone_s, gone_h,
		    array_fill(0, ARRAY[cardinality(gone_s)]), gone_n);
	END IF;
END $$;

-- Removes what can no longer be used: sessions expired for a day, rate
-- windows whose hour has passed, usage older than 90 days. Safe to run
-- from many places at once, and waits for nobody but another
-- maintenance() adding to the same usage rows: rows another transaction
-- holds are left for next time.
-- A window's advisory lock (class 1) is taken before its row, as rl_admit()
-- does, so that an admission never finds a row locked by maintenance.
--
-- Usage: a window is folded into usage_hourly in the statement that removes
-- it (its hour, and the earlier hour it may keep in prev_hour_*), and a live
-- window's prev_hour_* in the statement that clears it; so each count is in
-- rate_windows or in usage_hourly, never both, and a second run adds
-- nothing.
CREATE OR REPLACE FUNCTION calendence.maintenance(OUT sessions_removed bigint,
    OUT windows_removed bigint)
LANGUAGE plpgsql AS $$
DECLARE
	e constant bigint := floor(extract(epoch FROM now()))::bigint;
	n bigint;
BEGIN
	DELETE FROM calendence.sessions WHERE token_hash IN (
		SELECT s.token_hash FROM calendence.sessions s
		 WHERE s.expires_at < now() - interval '1 day'
		   FOR UPDATE SKIP LOCKED);
	GET DIAGNOSTICS sessions_removed = ROW_COUNT;
	WITH gone AS (
		DELETE FROM calendence.rate_windows WHERE subject IN (
			SELECT w.subject FROM calendence.rate_windows w
			 WHERE w.hour_start < e - e % 3600 AND w.minute_start < e - e % 60
			   AND pg_try_advisory_xact_lock(1, hashtext(w.subject))
			   FOR UPDATE SKIP LOCKED)
		RETURNING subject, hour_start, hour_count, hour_refused,
		    prev_hour_start, prev_hour_count, prev_hour_refused),
	folded AS (
		SELECT calendence.usage_add(
		    array_agg(g.subject) || array_agg(g.subject)
			FILTER (WHERE g.prev_hour_start IS NOT NULL),
		    array_agg(g.hour_start) || array_agg(g.prev_hour_start)
			FILTER (WHERE g.prev_hour_start IS NOT NULL),
		    array_agg(g.hour_count) || array_agg(g.prev_hour_count)
			FILTER (WHERE g.prev_hour_start IS NOT NULL),
		    array_agg(g.hour_refused) || array_agg(g.prev_hour_refused)
			FILTER (WHERE g.prev_hour_start IS NOT NULL))
		  FROM gone g)
	SELECT (SELECT count(*) FROM gone) INTO windows_removed FROM folded;
	-- live windows that keep a passed hour: folded, and cleared
	WITH kept AS (
		UPDATE calendence.rate_windows w
		   SET prev_hour_start = NULL, prev_hour_count = NULL, prev_hour_refused = NULL
		  FROM (SELECT l.subject, l.prev_hour_start, l.prev_hour_count, l.prev_hour_refused
			  FROM calendence.rate_windows l
			 WHERE l.prev_hour_start IS NOT NULL
			   AND pg_try_advisory_xact_lock(1, hashtext(l.subject))
			   FOR UPDATE SKIP LOCKED) o
		 WHERE w.subject = o.subject
		RETURNING o.subject, o.prev_hour_start, o.prev_hour_count, o.prev_hour_refused),
	folded AS (
		SELECT calendence.usage_add(array_agg(k.subject), array_agg(k.prev_hour_start),
		    array_agg(k.prev_hour_count), array_agg(k.prev_hour_refused))
		  FROM kept k)
	SELECT count(*) INTO n FROM folded;
	DELETE FROM calendence.usage_hourly WHERE ctid IN (
		SELECT u.ctid FROM calendence.usage_hourly u
		 WHERE u.hour < now() - interval '90 days'
		   FOR UPDATE SKIP LOCKED);
END $$;

-- Usage since 'since' (the hour that holds it included), per hour and what
-- was counted (usage_hourly's kinds), of one key (p_key: a key's own
-- windows, or a publishable key's session chains) or one business (p_business:
-- its keys and sessions; a hub key's usage has no business), or of all
-- (both NULL). The folded hours and the windows not yet folded, added up:
-- current to the request. display is the key's display form.
CREATE OR REPLACE FUNCTION calendence.usage(p_since timestamptz, p_key uuid, p_business uuid)
RETURNS TABLE (hour timestamptz, kind text, key_id uuid, display text, business_id uuid,
    ip inet, admitted bigint, refused bigint, failed bigint)
LANGUAGE sql STABLE AS $$
	WITH live AS (
		SELECT to_timestamp(x.h) AS hour, s.kind, s.key_id, s.business_id, s.ip,
		       CASE WHEN s.kind = 'auth' THEN 0 ELSE x.n END AS admitted,
		       x.r AS refused,
		       CASE WHEN s.kind = 'auth' THEN x.n ELSE 0 END AS failed
		  FROM calendence.rate_windows w,
		       LATERAL (VALUES (w.hour_start, w.hour_count, w.hour_refused),
			   (w.prev_hour_start, w.prev_hour_count, w.prev_hour_refused))
			   x(h, n, r),
		       LATERAL calendence.usage_subject(w.subject) s
		 WHERE x.h IS NOT NULL AND x.n + x.r > 0 AND s.kind IS NOT NULL
		   AND to_timestamp(x.h) > p_since - interval '1 hour'
		   -- only the subjects that may be the key's or business's
		   AND (p_key IS NULL OR w.subject = 'k:' || p_key OR w.subject LIKE 's:%')
		   AND (p_business IS NULL OR w.subject LIKE 'k:%' OR w.subject LIKE 's:%')
	), folded AS (
		SELECT u.hour, u.subject_kind AS kind, u.key_id, u.business_id, u.ip,
		       u.admitted, u.refused, u.failed
		  FROM calendence.usage_hourly u
		 WHERE u.hour > p_since - interval '1 hour'
		   AND (p_key IS NULL OR u.key_id = p_key)
		   AND (p_business IS NULL OR u.business_id = p_business)
	)
	SELECT a.hour, a.kind, a.key_id, k.display, a.business_id, a.ip,
	       sum(a.admitted)::bigint, sum(a.refused)::bigint, sum(a.failed)::bigint
	  FROM (SELECT * FROM folded UNION ALL
		SELECT * FROM live l
		 WHERE (p_key IS NULL OR l.key_id = p_key)
		   AND (p_business IS NULL OR l.business_id = p_business)) a
	  LEFT JOIN calendence.api_keys k ON k.id = a.key_id
	 GROUP BY a.hour, a.kind, a.key_id, k.display, a.business_id, a.ip
	 ORDER BY a.hour, a.kind, k.display, a.key_id, a.ip
$$;
