-- 015_origins_normalised.sql: the allowed origins stored before
-- set_allowed_origins() normalised them (issue 14) are rewritten as
-- browsers send them (normalize_origin(), 05_origins.sql, which migrate
-- applies before the migrations): "https://Shop.example/" becomes
-- "https://shop.example", which an Origin header can match. Duplicates that
-- the rewrite makes are dropped, the first kept. An origin that is no
-- scheme://host[:port] at all (it never matched a browser's header) is
-- kept as it is, with a NOTICE naming the key: dropping it could leave a
-- key with no origins, which means any origin.
DO $$
DECLARE
	k record;
	o text;
	n text;
	v text[];
BEGIN
	FOR k IN SELECT a.id, a.display, a.allowed_origins FROM calendence.api_keys a
	    WHERE cardinality(a.allowed_origins) > 0 ORDER BY a.id LOOP
		v := '{}';
		FOREACH o IN ARRAY k.allowed_origins LOOP
			BEGIN
				n := calendence.normalize_origin(o);
			EXCEPTION WHEN invalid_parameter_value THEN
				RAISE NOTICE 'key % (%): origin "%" kept as it is: %',
				    k.display, k.id, o, SQLERRM;
				n := o;
			END;
			IF NOT n = ANY (v) THEN
				v := v || n;
			END IF;
		END LOOP;
		IF v IS DISTINCT FROM k.allowed_origins THEN
			UPDATE calendence.api_keys SET allowed_origins = v WHERE id = k.id;
		END IF;
	END LOOP;
END $$;
