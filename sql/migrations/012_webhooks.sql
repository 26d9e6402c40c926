-- 012_webhooks.sql: webhooks (SPEC 11, issue 13): a business's endpoints,
-- the transactional outbox of booking events, and one delivery per event
-- and subscribed endpoint. The functions and the trigger's function are in
-- functions/80_webhooks.sql; the trigger itself is created there too, as
-- it names a function that file defines.

-- An endpoint. secret_box is the signing secret sealed with the server's
-- key (libsodium crypto_secretbox: 24-byte nonce, then the box), so a copy
-- of the database alone does not reveal it; the plaintext is never stored.
CREATE TABLE calendence.webhooks (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	business_id	uuid NOT NULL REFERENCES calendence.businesses (id)
			ON DELETE CASCADE,
	url		text NOT NULL CHECK (char_length(url) <= 2048),
	events		text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@
			    ARRAY['booking.created', 'booking.updated', 'booking.cancelled',
			    'booking.completed']),
	description	text CHECK (char_length(description) <= 500),
	secret_box	bytea NOT NULL CHECK (octet_length(secret_box) = 24 + 16 + 38),
	active		boolean NOT NULL DEFAULT true,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhooks_business ON calendence.webhooks (business_id, created_at, id);

-- The outbox: one row per booking change, written by the change's own
-- transaction (a rolled-back change leaves none). payload is the exact
-- body every delivery of the event sends, so that a retry signs and sends
-- the same bytes.
CREATE TABLE calendence.webhook_events (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	business_id	uuid NOT NULL REFERENCES calendence.businesses (id)
			ON DELETE CASCADE,
	booking_id	uuid NOT NULL,
	event		text NOT NULL CHECK (event IN ('booking.created', 'booking.updated',
			    'booking.cancelled', 'booking.completed')),
	payload		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX webhook_events_created ON calendence.webhook_events (created_at);

-- One event for one endpoint: the delivery log of SPEC 11. A sender claims
-- a due delivery for a lease (claimed_by, claimed_until) with FOR UPDATE
-- SKIP LOCKED, so each is in the hands of one sender at a time; attempts
-- counts the attempts begun.
CREATE TABLE calendence.webhook_deliveries (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	webhook_id	uuid NOT NULL REFERENCES calendence.webhooks (id) ON DELETE CASCADE,
	event_id	uuid NOT NULL REFERENCES calendence.webhook_events (id)
			ON DELETE CASCADE,
	status		text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending',
			    'succeeded', 'failed')),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_status_code integer,
	last_error	text CHECK (char_length(last_error) <= 500),
	next_attempt_at	timestamptz DEFAULT now(),
	created_at	timestamptz NOT NULL DEFAULT now(),
	delivered_at	timestamptz,
	claimed_by	uuid,
	claimed_until	timestamptz,
	CHECK ((status = 'pending') = (next_attempt_at IS NOT NULL)),
	CHECK ((status = 'succeeded') = (delivered_at IS NOT NULL))
);

CREATE INDEX webhook_deliveries_due ON calendence.webhook_deliveries (next_attempt_at)
	WHERE status = 'pending';
CREATE INDEX webhook_deliveries_log ON calendence.webhook_deliveries
	(webhook_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event ON calendence.webhook_deliveries (event_id);
