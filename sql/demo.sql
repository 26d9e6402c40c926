-- demo.sql: the demo tenant of `make run`, loaded by `calendence-admin demo`
-- (never by `migrate`: a production schema holds no demo). A hub on plan
-- 'pro' and the business "Demo Auto Detail" (slug demo-auto-detail) in
-- America/Chicago with five services, one of them inactive; its booking
-- side: two locations, four staff, three bays and a van, and what each
-- service needs. Made when missing: a business with the slug keeps its
-- services, and one with locations keeps all it has. The tool runs this file
-- in its transaction, then issues the demo keys; the last statement answers
-- with the ids it prints (hub_id, id).

DO $$
DECLARE
	biz uuid;
	hub uuid;
	dt uuid;
	ns uuid;
	st uuid;
	week constant jsonb := '{"monday": ["08:00-18:00"], "tuesday": ["08:00-18:00"],
	    "wednesday": ["08:00-18:00"], "thursday": ["08:00-18:00"],
	    "friday": ["08:00-18:00"], "saturday": ["09:00-16:00"]}';
BEGIN
	SELECT b.id INTO biz FROM calendence.businesses b WHERE b.slug = 'demo-auto-detail';
	IF NOT FOUND THEN
		hub := calendence.create_hub('Demo Hub', 'pro');
		biz := calendence.create_business(hub, 'Demo Auto Detail', 'America/Chicago',
		    'demo-auto-detail');
		INSERT INTO calendence.services (business_id, name, description, duration_min,
		    duration_max, rate, rate_type, deposit_type, deposit_amount,
		    buffer_before_min, buffer_after_min, is_mobile, is_active,
		    show_staff_picker, custom_fields)
		VALUES
		    (biz, 'Express Wash', 'Quick exterior wash and dry.', 30, 30, 3500,
			'flat', 'none', 0, 0, 0, false, true, false, '[]'),
		    (biz, 'Interior Detail', 'Vacuum, shampoo and wipe-down of every surface.',
			90, 120, 12000, 'flat', 'flat', 2000, 0, 15, false, true, false,
			'[{"id":"vehicle","label":"Vehicle make and model","type":"text",'
			'"required":true,"options":[]}]'),
		    (biz, 'Full Detail', 'Interior and exterior, clay bar and wax.', 180, 240,
			4500, 'hourly', 'percentage', 2500, 15, 15, false, true, true, '[]'),
		    (biz, 'Mobile Wash', 'We come to you.', 45, 60, 5500,
			'flat', 'none', 0, 0, 0, true, true, false, '[]'),
		    (biz, 'Winter Special', 'Salt and grime removal for the cold months.', 60,
			60, 6500, 'flat', 'none', 0, 0, 0, false, false, false, '[]');
	END IF;
	IF EXISTS (SELECT 1 FROM calendence.locations l WHERE l.business_id = biz) THEN
		RETURN;
	END IF;

	dt := calendence.create_location(biz, 'Downtown Studio',
	    '120 W Madison St, Chicago, IL 60602', NULL, week);
	ns := calendence.create_location(biz, 'Northside Garage',
	    '4200 N Lincoln Ave, Chicago, IL 60618', NULL,
	    '{"monday": ["09:00-12:00", "13:00-17:00"], "tuesday": ["09:00-12:00", "13:00-17:00"],
	      "wednesday": ["09:00-12:00", "13:00-17:00"], "thursday": ["09:00-12:00", "13:00-17:00"],
	      "friday": ["09:00-12:00", "13:00-17:00"], "saturday": ["09:00-13:00"]}');
	PERFORM calendence.create_resource(dt, 'bay', 'Bay 1');
	PERFORM calendence.create_resource(dt, 'bay', 'Bay 2');
	PERFORM calendence.create_resource(dt, 'van', 'Van 1');
	PERFORM calendence.create_resource(ns, 'bay', 'Bay A');

	PERFORM calendence.create_staff(biz, 'Alex Rivera', ARRAY[dt],
	    '{wash,detail}', '{"monday": ["08:00-16:00"], "tuesday": ["08:00-16:00"],
	    "wednesday": ["08:00-16:00"], "thursday": ["08:00-16:00"], "friday": ["08:00-16:00"]}');
	st := calendence.create_staff(biz, 'Sam Chen', ARRAY[dt, ns], '{wash,detail}');
	PERFORM calendence.set_staff_hours(st, '{"monday": ["09:00-17:00"],
	    "wednesday": ["09:00-17:00"], "friday": ["09:00-17:00"]}', dt);
	PERFORM calendence.set_staff_hours(st, '{"tuesday": ["09:00-17:00"],
	    "thursday": ["09:00-17:00"], "saturday": ["09:00-13:00"]}', ns);
	PERFORM calendence.create_staff(biz, 'Jordan Lee', ARRAY[ns], '{wash}',
	    '{"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"], "wednesday": ["09:00-17:00"],
	    "thursday": ["09:00-17:00"], "friday": ["09:00-17:00"]}');
	PERFORM calendence.create_staff(biz, 'Casey Morgan', ARRAY[dt], '{wash,mobile}',
	    '{"tuesday": ["10:00-18:00"], "wednesday": ["10:00-18:00"], "thursday": ["10:00-18:00"],
	    "friday": ["10:00-18:00"], "saturday": ["09:00-16:00"]}');

	-- a business made elsewhere under the demo's slug may lack a mobile service
	IF NOT EXISTS (SELECT 1 FROM calendence.services s
	    WHERE s.business_id = biz AND s.is_mobile) THEN
		INSERT INTO calendence.services (business_id, name, description, duration_min,
		    duration_max, rate, is_mobile)
		VALUES (biz, 'Mobile Wash', 'We come to you.', 45, 60, 5500, true);
	END IF;
	UPDATE calendence.services s SET
		required_skills = CASE
		    WHEN s.is_mobile THEN '{wash,mobile}'::text[]
		    WHEN s.name IN ('Interior Detail', 'Full Detail') THEN '{detail}'
		    ELSE '{wash}' END,
		resource_type = CASE
		    WHEN s.is_mobile THEN 'van'
		    WHEN s.name IN ('Interior Detail', 'Full Detail') THEN 'bay' END
	 WHERE s.business_id = biz;
END $$;

SELECT hub_id, id FROM calendence.businesses WHERE slug = 'demo-auto-detail';
