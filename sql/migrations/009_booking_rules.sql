-- 009_booking_rules.sql: the booking rules of SPEC 9 that issue 11 found
-- missing: a cap on a session chain's live holds, holds released at once,
-- who may use a hold, a horizon, blank values refused, a hold without
-- staff_id that keeps looking, and Idempotency-Key on cancel.
--
-- The functions of this step live in sql/functions/ (is_blank in 10_parsing.sql,
-- availability in 50_availability.sql, hold_usable, make_hold, hold,
-- release_hold, check_custom_fields, check_client, make_booking and cancel in
-- 60_booking.sql). hold() and make_hold() gained p_max_holds, a new argument,
-- so the old ones go (IF EXISTS: a new database never had them).

DROP FUNCTION IF EXISTS calendence.hold(uuid, text, text, text, text, uuid, uuid, text);
DROP FUNCTION IF EXISTS calendence.make_hold(uuid, text, text, text, text, uuid, uuid);

------------------------------------------------------------------------------
-- The horizon: how far ahead availability, holds and reschedules reach

ALTER TABLE calendence.businesses
	ADD COLUMN booking_horizon_days integer NOT NULL DEFAULT 180
	    CHECK (booking_horizon_days BETWEEN 1 AND 3650);
