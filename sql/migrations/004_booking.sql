-- 004_booking.sql: the booking flow of SPEC 9: locations, staff, resources,
-- availability, holds, bookings and idempotency keys.
--
-- The rules of weekdays, local times and slots that these tables follow are
-- written at the top of sql/functions/50_availability.sql, with the functions
-- that compute availability; every function of this step lives in
-- sql/functions/ (parsing in 10_parsing.sql, valid_tags in 00_tables.sql,
-- JSON shapes in 40_json.sql, holds and bookings in 60_booking.sql, the DBA's
-- functions in 70_dba_booking.sql). The demo's locations and staff are in
-- sql/demo.sql.

CREATE EXTENSION IF NOT EXISTS btree_gist;	-- uuid WITH = in the exclusion constraints

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
