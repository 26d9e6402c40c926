-- 001_core.sql: tenancy, plans, keys, sessions, rate windows and services.
-- The schema itself enforces the invariants; the C code relies on them.

CREATE EXTENSION IF NOT EXISTS pgcrypto;	-- gen_random_bytes()

-- The zone names this PostgreSQL knows, read once: pg_timezone_names scans
-- the time zone files and costs a third of a second per look-up. After a
-- tzdata upgrade, SELECT calendence.refresh_timezones() adds new zones.
CREATE TABLE calendence.timezones (name text PRIMARY KEY);

CREATE FUNCTION calendence.refresh_timezones() RETURNS bigint
LANGUAGE sql AS $$
	WITH n AS (INSERT INTO calendence.timezones
	    SELECT name FROM pg_timezone_names ON CONFLICT DO NOTHING RETURNING 1)
	SELECT count(*) FROM n
$$;
SELECT calendence.refresh_timezones();

-- True when tz is an IANA zone name that this PostgreSQL knows.
CREATE FUNCTION calendence.is_iana_timezone(tz text) RETURNS boolean
LANGUAGE sql STABLE STRICT AS $$
	SELECT EXISTS (SELECT 1 FROM calendence.timezones WHERE name = tz)
$$;

-- True when f is a list of custom field definitions of SPEC 8.
-- A missing member makes its test NULL, not false: coalesce() counts it as a
-- failure. CASE keeps jsonb_array_elements() away from anything but an array.
CREATE FUNCTION calendence.valid_custom_fields(f jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT AS $$
	SELECT CASE WHEN jsonb_typeof(f) = 'array' THEN NOT EXISTS (
	    SELECT 1 FROM jsonb_array_elements(f) e
	     WHERE NOT coalesce(jsonb_typeof(e) = 'object'
		AND jsonb_typeof(e->'id') = 'string'
		AND jsonb_typeof(e->'label') = 'string'
		AND e->>'type' IN ('text', 'textarea', 'select')
		AND jsonb_typeof(e->'required') = 'boolean'
		AND jsonb_typeof(e->'options') = 'array', false))
	ELSE false END
$$;

CREATE TABLE calendence.plans (
	code				text PRIMARY KEY CHECK (code ~ '^[a-z][a-z0-9_]{0,39}$'),
	full_api_access			boolean NOT NULL,
	api_per_minute			integer NOT NULL CHECK (api_per_minute > 0),
	api_per_hour			integer NOT NULL CHECK (api_per_hour > 0),
	session_per_minute_per_ip	integer NOT NULL CHECK (session_per_minute_per_ip > 0)
);

INSERT INTO calendence.plans VALUES
	('growth', false, 30, 300, 20),
	('pro', true, 60, 1000, 20);

CREATE TABLE calendence.hubs (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	plan		text NOT NULL REFERENCES calendence.plans (code) ON UPDATE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calendence.businesses (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	hub_id		uuid NOT NULL REFERENCES calendence.hubs (id) ON DELETE CASCADE,
	name		text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	slug		text NOT NULL UNIQUE
			CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND length(slug) <= 100),
	timezone	text NOT NULL CHECK (calendence.is_iana_timezone(timezone)),
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX businesses_hub_name ON calendence.businesses (hub_id, name, id);

CREATE TABLE calendence.api_keys (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	kind		text NOT NULL CHECK (kind IN ('hub', 'business', 'publishable')),
	hub_id		uuid REFERENCES calendence.hubs (id) ON DELETE CASCADE,
	business_id	uuid REFERENCES calendence.businesses (id) ON DELETE CASCADE,
	token_hash	bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
	display		text NOT NULL CHECK (display ~ '^cal_(hub|biz|pub)_[0-9A-Za-z]{4}$'),
	label		text CHECK (length(label) <= 200),
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz,
	revoked_at	timestamptz,
	last_used_at	timestamptz,
	allowed_origins	text[],
	-- exactly one owner, and the one that matches the kind
	CONSTRAINT api_keys_owner_matches_kind CHECK (
		(kind = 'hub' AND hub_id IS NOT NULL AND business_id IS NULL) OR
		(kind <> 'hub' AND business_id IS NOT NULL AND hub_id IS NULL)),
	CONSTRAINT api_keys_display_matches_kind CHECK (
		substr(display, 5, 3) = CASE kind WHEN 'hub' THEN 'hub'
		    WHEN 'business' THEN 'biz' ELSE 'pub' END),
	CONSTRAINT api_keys_origins_publishable_only CHECK (
		allowed_origins IS NULL OR kind = 'publishable')
);
CREATE INDEX api_keys_hub ON calendence.api_keys (hub_id) WHERE hub_id IS NOT NULL;
CREATE INDEX api_keys_business ON calendence.api_keys (business_id)
	WHERE business_id IS NOT NULL;

CREATE TABLE calendence.sessions (
	-- the token's hash is the key: the hot look-up, and the distribution
	-- column should the table ever be sharded (README "Scaling out")
	token_hash		bytea PRIMARY KEY CHECK (length(token_hash) = 32),
	id			uuid NOT NULL DEFAULT gen_random_uuid(),
	business_id		uuid NOT NULL REFERENCES calendence.businesses (id)
				ON DELETE CASCADE,
	publishable_key_id	uuid NOT NULL REFERENCES calendence.api_keys (id)
				ON DELETE CASCADE,
	-- the first session of a refresh chain; holds and bookings hang on it
	root_session_id		uuid NOT NULL,
	client_ip		inet,
	created_at		timestamptz NOT NULL DEFAULT now(),
	expires_at		timestamptz NOT NULL,
	revoked_at		timestamptz,
	CHECK (expires_at > created_at)
);
CREATE INDEX sessions_id ON calendence.sessions (id);
CREATE INDEX sessions_publishable_key ON calendence.sessions (publishable_key_id);
CREATE INDEX sessions_expires ON calendence.sessions (expires_at);

-- Revoking a publishable key, by function or by a DBA's UPDATE, ends its sessions.
CREATE FUNCTION calendence.end_sessions_of_revoked_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE calendence.sessions SET revoked_at = NEW.revoked_at
	 WHERE publishable_key_id = NEW.id AND revoked_at IS NULL;
	RETURN NULL;
END $$;

CREATE TRIGGER api_keys_revoke_sessions
	AFTER UPDATE OF revoked_at ON calendence.api_keys
	FOR EACH ROW
	WHEN (NEW.kind = 'publishable' AND NEW.revoked_at IS NOT NULL
	    AND OLD.revoked_at IS NULL)
	EXECUTE FUNCTION calendence.end_sessions_of_revoked_key();

-- One row per rate-limit subject, holding both of its fixed windows.
-- Subjects: 'k:<key id>', 's:<session id>', 'x:<ip>' (exchange), 'a:<ip>' (auth).
-- See README "Rate limits" for why it is UNLOGGED.
CREATE UNLOGGED TABLE calendence.rate_windows (
	subject		text PRIMARY KEY,
	minute_start	bigint NOT NULL,
	minute_count	integer NOT NULL,
	hour_start	bigint NOT NULL,
	hour_count	integer NOT NULL
) WITH (fillfactor = 50);

CREATE TABLE calendence.services (
	id			uuid NOT NULL DEFAULT gen_random_uuid(),
	business_id		uuid NOT NULL REFERENCES calendence.businesses (id)
				ON DELETE CASCADE,
	name			text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
	description		text CHECK (length(description) <= 5000),
	category		text CHECK (length(category) <= 200),
	duration_min		integer NOT NULL CHECK (duration_min > 0),
	duration_max		integer NOT NULL,
	rate			integer NOT NULL CHECK (rate >= 0),
	rate_type		text NOT NULL DEFAULT 'flat'
				CHECK (rate_type IN ('flat', 'hourly')),
	deposit_type		text NOT NULL DEFAULT 'none'
				CHECK (deposit_type IN ('none', 'flat', 'percentage')),
	deposit_amount		integer NOT NULL DEFAULT 0 CHECK (deposit_amount >= 0),
	buffer_before_min	integer NOT NULL DEFAULT 0 CHECK (buffer_before_min >= 0),
	buffer_after_min	integer NOT NULL DEFAULT 0 CHECK (buffer_after_min >= 0),
	is_mobile		boolean NOT NULL DEFAULT false,
	is_active		boolean NOT NULL DEFAULT true,
	show_staff_picker	boolean NOT NULL DEFAULT false,
	custom_fields		jsonb NOT NULL DEFAULT '[]'
				CHECK (calendence.valid_custom_fields(custom_fields)),
	created_at		timestamptz NOT NULL DEFAULT now(),
	CHECK (duration_max >= duration_min),
	CHECK (deposit_type <> 'none' OR deposit_amount = 0),
	CHECK (deposit_type <> 'percentage' OR deposit_amount <= 10000),
	-- the business first: the distribution column should the business-scoped
	-- tables ever be sharded (README "Scaling out")
	PRIMARY KEY (business_id, id)
);
CREATE INDEX services_business_active ON calendence.services (business_id, name, id)
	WHERE is_active;
