-- avail.sql: the business of bench row (g), made anew by every run (its
-- dates follow today): GET /api/v1/availability over 14 days for a business
-- with 2 locations, 4 staff (one works at both) and 200 confirmed bookings,
-- as issue 7 asks and as the integration test fourteen_days_two_hundred_bookings
-- checks the answer of. The previous run's business is removed first.
-- Prints one line: TOKEN|SERVICE_ID|DATE_FROM|DATE_TO|BOOKINGS
\set ON_ERROR_STOP on

BEGIN;
-- the previous run's (its rows are the only ones of this hub)
DELETE FROM calendence.reservations WHERE business_id IN (
	SELECT b.id FROM calendence.businesses b JOIN calendence.hubs h ON h.id = b.hub_id
	 WHERE h.name = 'Bench availability hub');
DELETE FROM calendence.staff WHERE business_id IN (
	SELECT b.id FROM calendence.businesses b JOIN calendence.hubs h ON h.id = b.hub_id
	 WHERE h.name = 'Bench availability hub');

SELECT coalesce((SELECT id FROM calendence.hubs WHERE name = 'Bench availability hub'),
		calendence.create_hub('Bench availability hub', 'bench')) AS hub \gset
SELECT calendence.create_business(:'hub', 'Bench availability ' || now()::text,
    'America/Chicago') AS biz \gset
UPDATE calendence.businesses SET slot_minutes = 15 WHERE id = :'biz';

-- Monday to Saturday 08:00-18:00 at both locations and for every staff member
SELECT '{"monday": ["08:00-18:00"], "tuesday": ["08:00-18:00"],
	 "wednesday": ["08:00-18:00"], "thursday": ["08:00-18:00"],
	 "friday": ["08:00-18:00"], "saturday": ["08:00-18:00"]}' AS week \gset
SELECT calendence.create_location(:'biz', 'North', '1 Bench Street', NULL, :'week') AS l1 \gset
SELECT calendence.create_location(:'biz', 'South', '2 Bench Street', NULL, :'week') AS l2 \gset
SELECT calendence.create_staff(:'biz', 'Ann', ARRAY[:'l1']::uuid[], '{}', :'week') AS s1 \gset
SELECT calendence.create_staff(:'biz', 'Ben', ARRAY[:'l1']::uuid[], '{}', :'week') AS s2 \gset
SELECT calendence.create_staff(:'biz', 'Cat', ARRAY[:'l2']::uuid[], '{}', :'week') AS s3 \gset
SELECT calendence.create_staff(:'biz', 'Dan', ARRAY[:'l1', :'l2']::uuid[], '{}', :'week') AS s4 \gset
INSERT INTO calendence.services (business_id, name, duration_min, duration_max, rate)
VALUES (:'biz', 'Bench wash', 30, 30, 5000) RETURNING id AS svc \gset

-- the first Monday at least three weeks on, and the 13 days after it
SELECT to_char(d, 'YYYY-MM-DD') AS d0, to_char(d + 13, 'YYYY-MM-DD') AS d13
  FROM (SELECT (now() AT TIME ZONE 'UTC')::date + 21 AS t) x,
       LATERAL (SELECT x.t + (8 - extract(isodow FROM x.t)::integer) % 7 AS d) y \gset

-- 200 bookings on the hour between 09:00 and 17:00, spread over the three
-- staff who work at one location each
WITH b AS (
	SELECT DISTINCT ON (f.staff_id, f.starts_at) f.*
	  FROM calendence.free_slots(:'biz', :'svc',
		:'d0'::date::timestamp AT TIME ZONE 'America/Chicago',
		(:'d13'::date + 1)::timestamp AT TIME ZONE 'America/Chicago') f
	 WHERE extract(minute FROM f.starts_at) = 0 AND f.staff_id <> :'s4'
	   AND extract(hour FROM f.starts_at AT TIME ZONE 'America/Chicago') BETWEEN 9 AND 17
	 ORDER BY f.staff_id, f.starts_at),
pick AS (SELECT * FROM b ORDER BY md5(b.staff_id::text || b.starts_at::text) LIMIT 200)
INSERT INTO calendence.reservations (business_id, service_id, location_id, staff_id,
    starts_at, ends_at, during, status, booked_at, client_first_name, client_last_name,
    client_email)
SELECT :'biz', :'svc', p.location_id, p.staff_id, p.starts_at, p.ends_at, p.during,
       'confirmed', now(), 'Bench', 'Client', 'bench@example.com'
  FROM pick p;

SELECT calendence.issue_key('business', :'biz', 'bench availability') AS token \gset
COMMIT;

\pset format unaligned
\pset tuples_only on
SELECT concat_ws('|', :'token', :'svc', :'d0', :'d13',
	(SELECT count(*) FROM calendence.reservations WHERE business_id = :'biz'));
