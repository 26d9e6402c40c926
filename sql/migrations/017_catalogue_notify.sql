-- 017_catalogue_notify.sql: the workers cache the catalogue (services,
-- locations with their hours, businesses: fcgi/catalogue.c) and drop what
-- a change names when PostgreSQL tells them, at its commit:
-- catalogue_changed() (sql/functions/00_tables.sql) on every row changed,
-- and '*' on a TRUNCATE.
CREATE TRIGGER services_catalogue
	AFTER INSERT OR UPDATE OR DELETE ON calendence.services
	FOR EACH ROW EXECUTE FUNCTION calendence.catalogue_changed('services');
CREATE TRIGGER services_catalogue_truncate
	AFTER TRUNCATE ON calendence.services
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.catalogue_changed('services');
CREATE TRIGGER locations_catalogue
	AFTER INSERT OR UPDATE OR DELETE ON calendence.locations
	FOR EACH ROW EXECUTE FUNCTION calendence.catalogue_changed('locations');
CREATE TRIGGER locations_catalogue_truncate
	AFTER TRUNCATE ON calendence.locations
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.catalogue_changed('locations');
CREATE TRIGGER location_hours_catalogue
	AFTER INSERT OR UPDATE OR DELETE ON calendence.location_hours
	FOR EACH ROW EXECUTE FUNCTION calendence.catalogue_changed('location_hours');
CREATE TRIGGER location_hours_catalogue_truncate
	AFTER TRUNCATE ON calendence.location_hours
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.catalogue_changed('location_hours');
CREATE TRIGGER businesses_catalogue
	AFTER INSERT OR UPDATE OR DELETE ON calendence.businesses
	FOR EACH ROW EXECUTE FUNCTION calendence.catalogue_changed('businesses');
CREATE TRIGGER businesses_catalogue_truncate
	AFTER TRUNCATE ON calendence.businesses
	FOR EACH STATEMENT EXECUTE FUNCTION calendence.catalogue_changed('businesses');
