-- crowd.sql: the neighbours of bench row (g2), seeded once into bench_1m
-- (bench.crowd says it was): :crowd businesses of the bench hub, each with
-- the catalogue and week of a busy shop in one of five zones: 2 locations
-- open Monday to Saturday 08:00-18:00, 4 staff (one at both locations) with
-- the same hours, and 20 confirmed bookings of its 30-minute service in the
-- next weeks. Row (g2) then asks (g)'s question of a business among them:
-- availability must cost what it costs alone (issue 15).
\set ON_ERROR_STOP on

BEGIN;
CREATE TABLE bench.crowd (businesses integer NOT NULL, at timestamptz NOT NULL DEFAULT now());

CREATE TEMP TABLE cb ON COMMIT DROP AS
SELECT b.id, (ARRAY['America/Chicago', 'Asia/Kolkata', 'Australia/Adelaide',
	'Europe/London', 'America/New_York'])[1 + (row_number() OVER (ORDER BY b.id))::integer % 5] AS tz
  FROM calendence.businesses b
  JOIN calendence.hubs h ON h.id = b.hub_id AND h.name = 'Bench hub'
 ORDER BY b.id
 LIMIT :crowd;

INSERT INTO calendence.locations (business_id, name, address, timezone)
SELECT cb.id, x.name, '1 Crowd Street', cb.tz
  FROM cb CROSS JOIN (VALUES ('North'), ('South')) x(name);
INSERT INTO calendence.location_hours (location_id, weekday, opens, closes)
SELECT l.id, wd, '08:00', '18:00'
  FROM cb JOIN calendence.locations l ON l.business_id = cb.id
 CROSS JOIN generate_series(1, 6) wd;

INSERT INTO calendence.staff (business_id, name)
SELECT cb.id, s FROM cb CROSS JOIN unnest(ARRAY['Ann', 'Ben', 'Cat', 'Dan']) s;
INSERT INTO calendence.staff_locations (staff_id, location_id, business_id)
SELECT st.id, l.id, st.business_id
  FROM cb JOIN calendence.staff st ON st.business_id = cb.id
  JOIN calendence.locations l ON l.business_id = cb.id
 WHERE st.name = 'Dan' OR (l.name = 'North') = (st.name IN ('Ann', 'Ben'));
INSERT INTO calendence.staff_hours (staff_id, location_id, weekday, starts, ends)
SELECT st.id, NULL, wd, '08:00', '18:00'
  FROM cb JOIN calendence.staff st ON st.business_id = cb.id
 CROSS JOIN generate_series(1, 6) wd;

-- 5 bookings a staff member: every third day from tomorrow, at 10:00 local
-- plus an hour per member, at the first location they work at
INSERT INTO calendence.reservations (business_id, service_id, location_id, staff_id,
    starts_at, ends_at, during, status, booked_at, client_first_name, client_last_name,
    client_email)
SELECT cb.id, sv.id, sl.location_id, st.id, t, t + interval '30 minutes',
       tstzrange(t, t + interval '30 minutes'), 'confirmed', now(), 'Crowd', 'Client',
       'crowd@example.com'
  FROM cb
  JOIN calendence.services sv ON sv.business_id = cb.id AND sv.name = 'Express Wash'
  JOIN calendence.staff st ON st.business_id = cb.id
 CROSS JOIN LATERAL (SELECT min(x.location_id::text)::uuid AS location_id
	  FROM calendence.staff_locations x WHERE x.staff_id = st.id) sl
 CROSS JOIN generate_series(1, 5) d
 CROSS JOIN LATERAL (SELECT (((now() AT TIME ZONE cb.tz)::date + d * 3) + time '10:00'
	  + (ascii(st.name) - 65) * interval '1 hour') AT TIME ZONE cb.tz AS t) x;

INSERT INTO bench.crowd (businesses) SELECT count(*) FROM cb;
COMMIT;
ANALYZE;
