-- 020_service_lists.sql: each business keeps the list of its active
-- services as the workers' catalogue reads it (fcgi/catalogue.c), so that
-- a worker that reads the list with its admission (GET /services of a
-- business it does not hold, STMT_ADMIT_SERVICES in fcgi/db.c) reads one
-- row instead of a row per service and their aggregate (make bench, row f:
-- 100,000 businesses, whose lists do not fit a worker's catalogue).
-- calendence.service_list() (sql/functions/40_json.sql) is the list's one
-- definition: the triggers below write it whenever a business's services
-- change, whoever changes them, and `calendence-admin migrate` writes the
-- rows that lack it or that a changed definition made stale
-- (calendence.refresh_service_json()).
--   n     the business's active services, counted
--   list  its first 500 services by name, as service_list() writes them;
--         NULL when it has more (the worker then reads pages) or none
-- A business without active services may have no row.
CREATE TABLE calendence.service_lists (
	business_id	uuid PRIMARY KEY REFERENCES calendence.businesses (id) ON DELETE CASCADE,
	n		integer NOT NULL,
	list		text
);
CREATE TRIGGER services_list
	AFTER INSERT OR UPDATE OR DELETE ON calendence.services
	FOR EACH ROW EXECUTE FUNCTION calendence.services_list_changed();
CREATE TRIGGER services_list_truncate
	AFTER TRUNCATE ON calendence.services
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.services_list_changed();
