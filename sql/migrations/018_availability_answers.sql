-- 018_availability_answers.sql: the workers keep answers of GET
-- /availability (fcgi/answers.c) until a table the answer was read from
-- changes for its business, or time moves it (availability_fresh_until(),
-- 50_availability.sql). The catalogue's tables notify already
-- (017_catalogue_notify.sql); these are the schedule's: each row changed
-- names its business ('a:<business>', catalogue_changed(), 00_tables.sql),
-- and a TRUNCATE everything ('*').
DO $$
DECLARE
	t text;
BEGIN
	FOREACH t IN ARRAY ARRAY['reservations', 'staff', 'staff_locations', 'staff_hours',
	    'staff_blocked_dates', 'resources', 'resource_blocks'] LOOP
		EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON calendence.%I '
		    'FOR EACH ROW EXECUTE FUNCTION calendence.catalogue_changed(%L)',
		    t || '_catalogue', t, t);
		EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON calendence.%I '
		    'FOR EACH STATEMENT EXECUTE FUNCTION calendence.catalogue_changed(%L)',
		    t || '_catalogue_truncate', t, t);
	END LOOP;
END $$;

-- availability_fresh_until(): the first live hold of a business to expire
CREATE INDEX reservations_business_held ON calendence.reservations (business_id, expires_at)
	WHERE status = 'held';
