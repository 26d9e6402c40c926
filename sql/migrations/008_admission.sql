-- 008_admission.sql: admission that never waits for someone else's lock,
-- one pair of windows per session chain, refreshes counted per IP, and
-- writes that can be sent twice without counting or creating twice
-- (SPEC 5, 6, 7 "Bounded waits").
--
-- The functions of this step (rl_admit, rl_peek, rl_unadmit, auth_fail,
-- authenticate, create_session, maintenance in sql/functions/30_admission.sql;
-- booking_maintenance in 60_booking.sql) and the project's advisory lock
-- classes (the header of 30_admission.sql) live in sql/functions/. Here:
-- rl_admit() gained 'stalled' (its row is locked by something other than an
-- admission, a DBA's open transaction, and the request is answered 503 at
-- once instead of waiting for it), and so did auth_fail() and authenticate(),
-- which also gained the session window of a refresh: new OUT columns, so the
-- old functions go (IF EXISTS: a new database never had them).

DROP FUNCTION IF EXISTS calendence.rl_admit(text, bigint, integer, integer);
DROP FUNCTION IF EXISTS calendence.auth_fail(text, integer);
DROP FUNCTION IF EXISTS calendence.authenticate(bytea, text, boolean, text, uuid, text,
    integer);
