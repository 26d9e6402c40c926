-- 20_keys.sql: the token format of SPEC 2 in SQL (tests/integration/token_sql.c
-- holds it to fcgi/token.c), and the DBA's functions for hubs, businesses and
-- keys (README "The DBA's guide"; calendence-admin calls them).

-- n (0 <= n < 2^63) in base62 (0-9A-Za-z), left-padded with '0' to width
-- (never cut: a number wider than width keeps all its digits).
CREATE OR REPLACE FUNCTION calendence.base62(n bigint, width integer) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
	alphabet constant text :=
	    '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
	out text := '';
BEGIN
	IF n < 0 THEN
		RAISE EXCEPTION 'base62: negative input';
	END IF;
	LOOP
		out := substr(alphabet, (n % 62)::integer + 1, 1) || out;
		n := n / 62;
		EXIT WHEN n = 0;
	END LOOP;
	RETURN CASE WHEN length(out) >= width THEN out ELSE lpad(out, width, '0') END;
END $$;

-- The 6-character checksum of the first 40 characters of a token:
-- SHA-256, first 4 bytes big-endian, in base62.
CREATE OR REPLACE FUNCTION calendence.token_checksum(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT calendence.base62(('x' || lpad(encode(substring(
	    sha256(convert_to(body, 'UTF8')) FROM 1 FOR 4), 'hex'), 16, '0'))::bit(64)::bigint, 6)
$$;

-- n characters drawn uniformly from base62 with a CSPRNG (bytes >= 248 rejected).
CREATE OR REPLACE FUNCTION calendence.random_base62(n integer) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
	alphabet constant text :=
	    '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
	out text := '';
	buf bytea;
	b integer;
BEGIN
	WHILE length(out) < n LOOP
		buf := gen_random_bytes(64);
		FOR i IN 0 .. 63 LOOP
			b := get_byte(buf, i);
			IF b < 248 AND length(out) < n THEN
				out := out || substr(alphabet, b % 62 + 1, 1);
			END IF;
		END LOOP;
	END LOOP;
	RETURN out;
END $$;

-- A new token of the given kind: prefix, 32 random characters, checksum.
CREATE OR REPLACE FUNCTION calendence.new_token(kind text) RETURNS text
LANGUAGE plpgsql VOLATILE STRICT AS $$
DECLARE
	body text;
BEGIN
	body := 'cal_' || CASE kind WHEN 'hub' THEN 'hub' WHEN 'business' THEN 'biz'
	    WHEN 'publishable' THEN 'pub' WHEN 'session' THEN 'ses' END || '_';
	IF body IS NULL THEN
		RAISE EXCEPTION 'unknown key kind %', kind USING ERRCODE = '22023';
	END IF;
	body := body || calendence.random_base62(32);
	RETURN body || calendence.token_checksum(body);
END $$;

-- True when t has the format of SPEC 2 (prefix, length, alphabet, checksum).
CREATE OR REPLACE FUNCTION calendence.token_valid(t text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT t ~ '^cal_(hub|biz|pub|ses)_[0-9A-Za-z]{38}$'
	   AND calendence.token_checksum(left(t, 40)) = right(t, 6)
$$;

-- The SHA-256 of a token: what api_keys and sessions store instead of it.
CREATE OR REPLACE FUNCTION calendence.token_hash(t text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT sha256(convert_to(t, 'UTF8'))
$$;

-- What may be shown of a token: its prefix and its last four characters.
CREATE OR REPLACE FUNCTION calendence.token_display(t text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT left(t, 8) || right(t, 4)
$$;

-- A new hub on an existing plan; returns its id.
CREATE OR REPLACE FUNCTION calendence.create_hub(name text, plan text) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.plans p WHERE p.code = plan) THEN
		RAISE EXCEPTION 'unknown plan "%"', plan USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.hubs (name, plan) VALUES (name, plan) RETURNING id INTO v_id;
	RETURN v_id;
END $$;

-- A slug from a name: lowercase ASCII letters and digits joined by '-'.
-- Cut to 80 characters before the '-' at the ends are trimmed, so that a
-- cut just after a '-' cannot leave one at the end.
CREATE OR REPLACE FUNCTION calendence.slugify(name text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT btrim(left(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), 80), '-')
$$;

-- A new business of a hub in an IANA time zone; returns its id. Without a
-- slug, one is made from the name (slugify()), with -2, -3 ... when taken.
CREATE OR REPLACE FUNCTION calendence.create_business(hub_id uuid, name text, timezone text,
    slug text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
	v_slug text := slug;
	v_base text;
	n integer := 1;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.hubs h WHERE h.id = hub_id) THEN
		RAISE EXCEPTION 'no hub %', hub_id USING ERRCODE = '22023';
	END IF;
	IF NOT calendence.is_iana_timezone(timezone) THEN
		RAISE EXCEPTION 'unknown time zone "%"', timezone USING ERRCODE = '22023';
	END IF;
	IF v_slug IS NULL THEN
		v_base := coalesce(nullif(calendence.slugify(name), ''), 'business');
		v_slug := v_base;
		WHILE EXISTS (SELECT 1 FROM calendence.businesses b WHERE b.slug = v_slug) LOOP
			n := n + 1;
			v_slug := v_base || '-' || n;
		END LOOP;
	END IF;
	INSERT INTO calendence.businesses (hub_id, name, timezone, slug)
	VALUES (hub_id, name, timezone, v_slug) RETURNING id INTO v_id;
	RETURN v_id;
END $$;

-- Issues a key; the plaintext is returned once and stored nowhere.
CREATE OR REPLACE FUNCTION calendence.issue_key(kind text, owner_id uuid, label text DEFAULT NULL,
    expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	v_token text;
BEGIN
	IF kind NOT IN ('hub', 'business', 'publishable') OR kind IS NULL THEN
		RAISE EXCEPTION 'kind must be hub, business or publishable'
		    USING ERRCODE = '22023';
	END IF;
	IF kind = 'hub' AND NOT EXISTS (SELECT 1 FROM calendence.hubs WHERE id = owner_id) THEN
		RAISE EXCEPTION 'no hub %', owner_id USING ERRCODE = '22023';
	END IF;
	IF kind <> 'hub' AND NOT EXISTS (
	    SELECT 1 FROM calendence.businesses WHERE id = owner_id) THEN
		RAISE EXCEPTION 'no business %', owner_id USING ERRCODE = '22023';
	END IF;
	v_token := calendence.new_token(kind);
	INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display,
	    label, expires_at)
	VALUES (kind,
	    CASE WHEN kind = 'hub' THEN owner_id END,
	    CASE WHEN kind <> 'hub' THEN owner_id END,
	    calendence.token_hash(v_token), calendence.token_display(v_token),
	    label, expires_at);
	RETURN v_token;
END $$;

-- Revokes a key at once (again: no-op); a publishable key's sessions end with
-- it (api_keys_revoke_sessions).
CREATE OR REPLACE FUNCTION calendence.revoke_key(key_id uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE calendence.api_keys SET revoked_at = now()
	 WHERE id = key_id AND revoked_at IS NULL;
	IF NOT FOUND AND NOT EXISTS (SELECT 1 FROM calendence.api_keys WHERE id = key_id) THEN
		RAISE EXCEPTION 'no key %', key_id USING ERRCODE = '22023';
	END IF;
END $$;

-- Issues a replacement (same kind, owner, label, origins); the old key
-- keeps working until now() + grace, then expires.
CREATE OR REPLACE FUNCTION calendence.roll_key(key_id uuid, grace interval DEFAULT '24 hours')
    RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	k calendence.api_keys;
	v_token text;
BEGIN
	SELECT * INTO k FROM calendence.api_keys WHERE id = key_id FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no key %', key_id USING ERRCODE = '22023';
	END IF;
	IF k.revoked_at IS NOT NULL THEN
		RAISE EXCEPTION 'key % is revoked', key_id USING ERRCODE = '22023';
	END IF;
	IF grace IS NULL OR grace < interval '0' THEN
		RAISE EXCEPTION 'grace must be a non-negative interval' USING ERRCODE = '22023';
	END IF;
	v_token := calendence.new_token(k.kind);
	INSERT INTO calendence.api_keys (kind, hub_id, business_id, token_hash, display,
	    label, allowed_origins)
	VALUES (k.kind, k.hub_id, k.business_id, calendence.token_hash(v_token),
	    calendence.token_display(v_token), k.label, k.allowed_origins);
	UPDATE calendence.api_keys
	   SET expires_at = least(coalesce(expires_at, 'infinity'), now() + grace)
	 WHERE id = key_id;
	RETURN v_token;
END $$;

-- Sets the origins a publishable key may be used from (NULL or empty: any),
-- each normalised by normalize_origin(), duplicates dropped, in the order given.
CREATE OR REPLACE FUNCTION calendence.set_allowed_origins(key_id uuid, origins text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	v_origins text[] := origins;
BEGIN
	IF cardinality(origins) > 0 THEN
		SELECT array_agg(o.origin ORDER BY o.first) INTO v_origins
		  FROM (SELECT calendence.normalize_origin(u.origin) AS origin, min(u.n) AS first
			  FROM unnest(origins) WITH ORDINALITY u(origin, n)
			 GROUP BY 1) o;
	END IF;
	UPDATE calendence.api_keys SET allowed_origins = v_origins WHERE id = key_id;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no key %', key_id USING ERRCODE = '22023';
	END IF;
END $$;
