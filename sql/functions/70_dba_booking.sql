-- 70_dba_booking.sql: the DBA's functions for locations, staff, resources and
-- what a service needs (a DBA may also use plain INSERT/UPDATE: the tables
-- check themselves). Each raises 22023 with a message on a bad argument.

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
