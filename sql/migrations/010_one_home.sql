-- 010_one_home.sql: every function in one home (sql/functions/), the demo out
-- of the schema.
--
-- From here on a migration holds schema and data changes only, and each
-- function is defined once, in sql/functions/, re-applied by `migrate` after
-- the migrations. This drops what a database migrated before still has and
-- the new layout no longer defines, so that an upgraded database equals a new
-- one (tests/upgrade.sh compares them): load_demo_booking(), the booking side
-- of the demo, now loaded by sql/demo.sql (`calendence-admin demo`) alone.

DROP FUNCTION IF EXISTS calendence.load_demo_booking(uuid);
