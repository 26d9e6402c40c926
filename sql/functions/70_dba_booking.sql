-- 70_dba_booking.sql: the DBA's functions for services, locations, staff,
-- resources and what a service needs (a DBA may also use plain INSERT/UPDATE:
-- the tables check themselves). Each raises 22023 with a message on a bad
-- argument. create_service lives here, not in 20_keys.sql, because a service
-- is booking data like the rest of this file (set_service_needs edits it).

-- Replaces the weekly hours of a location (format: parse_hours()).
CREATE OR REPLACE FUNCTION calendence.set_location_hours(location uuid, hours jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.locations l WHERE l.id = location) THEN
		RAISE EXCEPTION 'no location %', location USING ERRCODE = '22023';
	END IF;
	DELETE FROM calendence.location_hours h WHERE h.location_id = location;
	INSERT INTO calendence.location_hours (location_id, weekday, opens, closes)
	SELECT location, p.weekday, p.opens, p.closes FROM calendence.parse_hours(hours) p;
END $$;

-- A new location of a business; timezone NULL: the business's.
CREATE OR REPLACE FUNCTION calendence.create_location(business uuid, name text,
    address text DEFAULT NULL, timezone text DEFAULT NULL, hours jsonb DEFAULT NULL)
    RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_tz text;
	v_id uuid;
BEGIN
	SELECT b.timezone INTO v_tz FROM calendence.businesses b WHERE b.id = business;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no business %', business USING ERRCODE = '22023';
	END IF;
	v_tz := coalesce(timezone, v_tz);
	IF NOT calendence.is_iana_timezone(v_tz) THEN
		RAISE EXCEPTION 'unknown time zone "%"', v_tz USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.locations (business_id, name, address, timezone)
	VALUES (business, name, address, v_tz) RETURNING id INTO v_id;
	PERFORM calendence.set_location_hours(v_id, hours);
	RETURN v_id;
END $$;

-- Replaces a staff member's working hours at one location (location NULL:
-- the hours that apply at each of their locations). Format: parse_hours().
CREATE OR REPLACE FUNCTION calendence.set_staff_hours(staff uuid, hours jsonb,
    location uuid DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.staff s WHERE s.id = staff) THEN
		RAISE EXCEPTION 'no staff member %', staff USING ERRCODE = '22023';
	END IF;
	IF location IS NOT NULL AND NOT EXISTS (SELECT 1 FROM calendence.staff_locations sl
	    WHERE sl.staff_id = staff AND sl.location_id = location) THEN
		RAISE EXCEPTION 'staff member % does not work at location %', staff, location
		    USING ERRCODE = '22023';
	END IF;
	DELETE FROM calendence.staff_hours h
	 WHERE h.staff_id = staff AND h.location_id IS NOT DISTINCT FROM location;
	INSERT INTO calendence.staff_hours (staff_id, location_id, weekday, starts, ends)
	SELECT staff, location, p.weekday, p.opens, p.closes FROM calendence.parse_hours(hours) p;
END $$;

-- A new staff member of a business, working at locations (of that business)
-- with these skills and these hours at each of them.
CREATE OR REPLACE FUNCTION calendence.create_staff(business uuid, name text, locations uuid[],
    skills text[] DEFAULT '{}', hours jsonb DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.businesses b WHERE b.id = business) THEN
		RAISE EXCEPTION 'no business %', business USING ERRCODE = '22023';
	END IF;
	IF EXISTS (SELECT 1 FROM unnest(coalesce(locations, '{}')) u(id)
	    WHERE NOT EXISTS (SELECT 1 FROM calendence.locations l
		WHERE l.id = u.id AND l.business_id = business)) THEN
		RAISE EXCEPTION 'every location must be one of business %', business
		    USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.staff (business_id, name, skills)
	VALUES (business, name, coalesce(skills, '{}')) RETURNING id INTO v_id;
	INSERT INTO calendence.staff_locations (staff_id, location_id, business_id)
	SELECT DISTINCT v_id, u.id, business FROM unnest(coalesce(locations, '{}')) u(id);
	PERFORM calendence.set_staff_hours(v_id, hours);
	RETURN v_id;
END $$;

-- A local date on which a staff member takes no booking (again: no-op).
CREATE OR REPLACE FUNCTION calendence.block_staff_date(staff uuid, day date, reason text DEFAULT NULL)
    RETURNS void
LANGUAGE sql AS $$
	INSERT INTO calendence.staff_blocked_dates (staff_id, day, reason)
	VALUES (staff, day, reason)
	ON CONFLICT (staff_id, day) DO UPDATE SET reason = EXCLUDED.reason
$$;

-- A new resource (type such as 'bay', 'machine', 'van') at a location.
CREATE OR REPLACE FUNCTION calendence.create_resource(location uuid, type text, name text)
    RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	INSERT INTO calendence.resources (business_id, location_id, type, name)
	SELECT l.business_id, l.id, create_resource.type, create_resource.name
	  FROM calendence.locations l WHERE l.id = create_resource.location
	RETURNING id INTO v_id;
	IF v_id IS NULL THEN
		RAISE EXCEPTION 'no location %', location USING ERRCODE = '22023';
	END IF;
	RETURN v_id;
END $$;

-- A period [starts, ends) in which a resource cannot be used.
CREATE OR REPLACE FUNCTION calendence.block_resource(resource uuid, starts timestamptz,
    ends timestamptz, reason text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_id uuid;
BEGIN
	IF starts IS NULL OR ends IS NULL OR ends <= starts THEN
		RAISE EXCEPTION 'a block needs starts < ends' USING ERRCODE = '22023';
	END IF;
	INSERT INTO calendence.resource_blocks (resource_id, during, reason)
	VALUES (resource, tstzrange(starts, ends), reason) RETURNING id INTO v_id;
	RETURN v_id;
END $$;

-- What a service needs: staff with all of skills, and a resource of
-- resource_type (NULL: none).
CREATE OR REPLACE FUNCTION calendence.set_service_needs(service uuid, skills text[],
    resource_type text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE calendence.services s SET required_skills = coalesce(skills, '{}'),
	    resource_type = set_service_needs.resource_type
	 WHERE s.id = service;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'no service %', service USING ERRCODE = '22023';
	END IF;
END $$;

-- A new service of a business; returns its id. duration_min and
-- duration_max (NULL: duration_min) are minutes, rate and a flat deposit are
-- minor units (cents), a percentage deposit is in hundredths of a percent
-- (10000: all of it). skills and resource_type: set_service_needs().
-- Every argument is checked before the INSERT, with a sentence and a hint.
CREATE OR REPLACE FUNCTION calendence.create_service(business uuid, name text,
    duration_min integer, rate integer, duration_max integer DEFAULT NULL,
    rate_type text DEFAULT 'flat', deposit_type text DEFAULT 'none',
    deposit_amount integer DEFAULT 0, buffer_before_min integer DEFAULT 0,
    buffer_after_min integer DEFAULT 0, description text DEFAULT NULL,
    category text DEFAULT NULL, skills text[] DEFAULT '{}',
    resource_type text DEFAULT NULL) RETURNS uuid
LANGUAGE plpgsql AS $$
DECLARE
	v_max integer := coalesce(duration_max, duration_min);
	v_id uuid;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM calendence.businesses b WHERE b.id = business) THEN
		RAISE EXCEPTION 'no business %', coalesce(business::text, 'given')
		    USING ERRCODE = '22023', HINT = 'create-business prints the id of a new business.';
	END IF;
	IF name IS NULL OR length(btrim(name)) NOT BETWEEN 1 AND 200 THEN
		RAISE EXCEPTION 'a service needs a name of 1 to 200 characters'
		    USING ERRCODE = '22023';
	END IF;
	IF duration_min IS NULL OR duration_min <= 0 OR v_max < duration_min THEN
		RAISE EXCEPTION 'a service lasts a positive number of minutes, and its longest duration is no shorter than its shortest'
		    USING ERRCODE = '22023', HINT = 'Such as 60 minutes, or 60 to 120 for a service whose length varies.';
	END IF;
	IF rate IS NULL OR rate < 0 THEN
		RAISE EXCEPTION 'the rate must be zero or more, in minor units (cents)'
		    USING ERRCODE = '22023', HINT = '4500 for 45.00.';
	END IF;
	IF rate_type IS NULL OR rate_type NOT IN ('flat', 'hourly') THEN
		RAISE EXCEPTION 'unknown rate type "%"', rate_type
		    USING ERRCODE = '22023', HINT = 'flat (per booking) or hourly.';
	END IF;
	IF deposit_type IS NULL OR deposit_type NOT IN ('none', 'flat', 'percentage') THEN
		RAISE EXCEPTION 'unknown deposit type "%"', deposit_type
		    USING ERRCODE = '22023', HINT = 'none, flat (minor units) or percentage (hundredths of a percent).';
	END IF;
	IF deposit_amount IS NULL OR deposit_amount < 0
	    OR (deposit_type = 'none' AND deposit_amount <> 0)
	    OR (deposit_type = 'percentage' AND deposit_amount > 10000) THEN
		RAISE EXCEPTION 'a deposit of % does not fit deposit type %', deposit_amount, deposit_type
		    USING ERRCODE = '22023', HINT = 'none: 0; flat: minor units; percentage: 0 to 10000 (hundredths of a percent).';
	END IF;
	IF buffer_before_min IS NULL OR buffer_before_min < 0
	    OR buffer_after_min IS NULL OR buffer_after_min < 0 THEN
		RAISE EXCEPTION 'buffers are zero or more minutes' USING ERRCODE = '22023';
	END IF;
	IF length(description) > 5000 OR length(category) > 200 THEN
		RAISE EXCEPTION 'the description is at most 5000 characters, the category at most 200'
		    USING ERRCODE = '22023';
	END IF;
	IF NOT calendence.valid_tags(coalesce(skills, '{}')) THEN
		RAISE EXCEPTION 'skills must be lowercase words' USING ERRCODE = '22023',
		    HINT = 'Letters, digits, "_" and "-", up to 40 characters: detail, ceramic_coat.';
	END IF;
	IF resource_type !~ '^[a-z0-9][a-z0-9_-]{0,39}$' THEN
		RAISE EXCEPTION 'resource type "%" is not a lowercase word', resource_type
		    USING ERRCODE = '22023', HINT = 'Such as bay, machine or van.';
	END IF;
	INSERT INTO calendence.services (business_id, name, description, category,
	    duration_min, duration_max, rate, rate_type, deposit_type, deposit_amount,
	    buffer_before_min, buffer_after_min, required_skills, resource_type)
	VALUES (business, name, description, category, duration_min, v_max, rate, rate_type,
	    deposit_type, deposit_amount, buffer_before_min, buffer_after_min,
	    coalesce(skills, '{}'), resource_type)
	RETURNING id INTO v_id;
	RETURN v_id;
END $$;
