-- 021_service_lists_by_statement.sql: calendence.service_lists is written
-- once per statement and business, not once per row: a DBA's bulk INSERT,
-- UPDATE or DELETE of N services of one business wrote its list N times
-- (each a read of up to 501 services: 2,000 services took about 4 s to
-- insert). PostgreSQL allows transition tables on a trigger of one event
-- only, hence three; calendence.services_list_changed()
-- (sql/functions/00_tables.sql) reads the business ids from them.
DROP TRIGGER services_list ON calendence.services;
CREATE TRIGGER services_list_insert
	AFTER INSERT ON calendence.services
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.services_list_changed();
CREATE TRIGGER services_list_update
	AFTER UPDATE ON calendence.services
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.services_list_changed();
CREATE TRIGGER services_list_delete
	AFTER DELETE ON calendence.services
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.services_list_changed();
