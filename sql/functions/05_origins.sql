-- 05_origins.sql: an origin as browsers send it. A 0N_ file, so that
-- `calendence-admin migrate` applies it before the pending migrations as
-- well: migration 015 rewrites the origins stored before it existed. Used
-- by set_allowed_origins() (20_keys.sql) and the DBA tool.

-- An origin as browsers send it in the Origin header (RFC 6454): the scheme
-- and the host in lower case, the port only when it is not the scheme's
-- default, no trailing slash. Raises 22023 on anything that is not
-- scheme://host[:port] (a path, a query, user info, "null", a bad port).
CREATE OR REPLACE FUNCTION calendence.normalize_origin(origin text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	m text[];
	v_scheme text;
	v_port integer;
BEGIN
	m := regexp_match(origin,
	    '^([A-Za-z][A-Za-z0-9+.-]*)://([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?$');
	IF m IS NULL THEN
		RAISE EXCEPTION 'origin "%" is not scheme://host[:port]', origin
		    USING ERRCODE = '22023',
		    HINT = 'Browsers send origins such as https://shop.example or http://localhost:8080: no path, no trailing slash.';
	END IF;
	v_scheme := lower(m[1]);
	v_port := m[3]::integer;
	IF v_port NOT BETWEEN 1 AND 65535 THEN
		RAISE EXCEPTION 'origin "%" has no valid port', origin USING ERRCODE = '22023',
		    HINT = 'A port is 1 to 65535.';
	END IF;
	IF (v_scheme = 'https' AND v_port = 443) OR (v_scheme = 'http' AND v_port = 80) THEN
		v_port := NULL;
	END IF;
	RETURN v_scheme || '://' || lower(m[2]) || coalesce(':' || v_port, '');
END $$;
