-- 019_service_api_json.sql: each service keeps its JSON as the API shows it,
-- so that GET /services reads it instead of building it per read (the
-- catalogue's reads, fcgi/db.c; make bench, row f: a list built anew for
-- every request of 100,000 businesses). calendence.service_json()
-- (sql/functions/40_json.sql) stays its one definition: the trigger
-- (services_api_json(), sql/functions/00_tables.sql) writes it on every
-- INSERT and UPDATE, whoever makes them, and `calendence-admin migrate`
-- writes the rows that lack it or that a changed service_json() made stale
-- once the function files are applied (calendence.refresh_service_json()).
ALTER TABLE calendence.services ADD COLUMN api_json text;
CREATE TRIGGER services_api_json
	BEFORE INSERT OR UPDATE ON calendence.services
	FOR EACH ROW EXECUTE FUNCTION calendence.services_api_json();
-- The rows there are: written by the trigger (service_json() as the
-- database has it; none on a new database, where it does not exist yet),
-- then the table written anew in the order of its key, a business's
-- services together: the UPDATE left every row's old version behind (twice
-- the table and its indexes), and a VACUUM cannot run in a transaction.
UPDATE calendence.services SET api_json = NULL;
CLUSTER calendence.services USING services_pkey;
