-- 011_booking_lifecycle.sql: the rest of a booking's life (SPEC 9, issue 13
-- item 1): a cancel reason, and updated_at on every reservation (set by
-- every change: booking, reschedule, status, cancel) with the index that
-- GET /bookings?updated_since= reads. The functions are in
-- functions/60_booking.sql and 40_json.sql; the signatures that gained a
-- parameter are dropped here so that the new ones replace them.

ALTER TABLE calendence.reservations
	ADD COLUMN cancel_reason text CHECK (char_length(cancel_reason) <= 500),
	ADD COLUMN updated_at timestamptz;

UPDATE calendence.reservations
   SET updated_at = coalesce(cancelled_at, booked_at, held_at);

ALTER TABLE calendence.reservations
	ALTER COLUMN updated_at SET DEFAULT now(),
	ALTER COLUMN updated_at SET NOT NULL,
	ADD CONSTRAINT reservations_cancel_reason CHECK (
		cancel_reason IS NULL OR status = 'cancelled');

CREATE INDEX reservations_business_updated ON calendence.reservations
	(business_id, updated_at, id) WHERE booked_at IS NOT NULL;

DROP FUNCTION IF EXISTS calendence.cancel_booking(uuid, text, uuid);
DROP FUNCTION IF EXISTS calendence.cancel(uuid, text, uuid, uuid, text);
DROP FUNCTION IF EXISTS calendence.bookings_list(uuid, text, text, text, integer, bigint,
    uuid);
