/*
 * roles.c: least privilege (functions/90_roles.sql). worker_privileges()
 * covers every table of the schema; grant_worker() gives a role exactly
 * that; with it, the workers' and the sender's maintenance runs and a DBA
 * function is refused; without any one of it, health_check() (what /healthz
 * runs) fails naming what is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

/*
 * A fresh role with a name of its own; the caller drops it (role_drop()).
 * The tests of this file take turns from role_new() to role_drop() (a
 * session lock): GRANTs, REVOKEs and DROP OWNED on the same tables from
 * two sessions at once may fail with "tuple concurrently updated".
 */
static char *
role_new(void)
{
	char	*name;

	it_turn("roles", 1);
	name = fx_value("SELECT 'cal_test_worker_' || substr(md5(random()::text), 1, 10)",
	    NULL);

	cr_assert_not_null(name);
	fx_exec("SELECT set_config('x.role', $1, false)", name, NULL);
	PQclear(it_query("DO $$ BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', "
	    "current_setting('x.role')); END $$", NULL));
	return name;
}

static void
role_drop(char *name)
{
	fx_exec("RESET ROLE", NULL);
	fx_exec("SELECT set_config('x.role', $1, false)", name, NULL);
	PQclear(it_query("DO $$ BEGIN EXECUTE format('DROP OWNED BY %I', "
	    "current_setting('x.role')); EXECUTE format('DROP ROLE %I', "
	    "current_setting('x.role')); END $$", NULL));
	it_turn("roles", 0);
	free(name);
}

/* SET ROLE name on the test's connection (RESET ROLE undoes it). */
static void
become(const char *name)
{
	fx_exec("SELECT set_config('role', $1, false)", name, NULL);
}

/* Every table of the schema is in worker_privileges(), but the migrations' own. */
Test(roles, every_table_is_decided)
{
	char	*missing = fx_value("SELECT string_agg(c.relname, ', ' ORDER BY c.relname) "
	    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = 'calendence' AND c.relkind IN ('r', 'p') "
	    "AND c.relname <> 'schema_migrations' AND c.relname NOT IN "
	    "(SELECT tbl FROM calendence.worker_privileges())", NULL);
	char	*extra = fx_value("SELECT string_agg(tbl, ', ') FROM "
	    "calendence.worker_privileges() WHERE to_regclass('calendence.' || tbl) IS NULL", NULL);

	cr_expect_null(missing, "tables no worker may reach (add them to "
	    "worker_privileges()): %s", missing);
	cr_expect_null(extra, "worker_privileges() names tables that do not exist: %s", extra);
	free(missing);
	free(extra);
}

/* A role with grant_worker() passes the health check and runs the maintenance. */
Test(roles, granted_role_is_healthy_and_works)
{
	char	*role = role_new(), *n, *want, *ok, *st;

	n = fx_value("SELECT calendence.grant_worker($1)", role, NULL);
	want = fx_value("SELECT count(*) FROM calendence.worker_privileges()", NULL);
	it_str_eq(n, want);
	become(role);
	ok = fx_value("SELECT calendence.health_check()", NULL);
	it_str_eq(ok, "t");
	free(ok);
	free(want);
	/* the workers' and the sender's periodic work */
	cr_expect_null(st = it_sqlstate("SELECT * FROM calendence.maintenance()", NULL),
	    "maintenance(): %s", st);
	free(st);
	cr_expect_null(st = it_sqlstate("SELECT * FROM calendence.booking_maintenance()", NULL),
	    "booking_maintenance(): %s", st);
	free(st);
	cr_expect_null(st = it_sqlstate("SELECT * FROM calendence.webhook_maintenance()", NULL),
	    "webhook_maintenance(): %s", st);
	free(st);
	/* a DBA's function is not the worker's: it writes tables the role only reads */
	st = it_sqlstate("SELECT calendence.create_hub('Nope', 'pro')", NULL);
	it_str_eq(st, "42501");
	free(st);
	/* nor is the migrations' table */
	st = it_sqlstate("SELECT count(*) FROM calendence.schema_migrations", NULL);
	it_str_eq(st, "42501");
	free(st);
	/* nor may it create anything in the schema */
	st = it_sqlstate("CREATE TABLE calendence.nope (x int)", NULL);
	it_str_eq(st, "42501");
	free(st);
	free(n);
	role_drop(role);
}

/* Each privilege taken away fails the health check, naming it. */
Test(roles, missing_privilege_fails_the_health_check)
{
	static const struct {
		const char	*revoke;
		const char	*named;
		int		 hint;		/* the hint names grant_worker() */
	} cases[] = {
		{ "REVOKE DELETE ON calendence.sessions FROM", "DELETE on calendence.sessions",
		    1 },
		{ "REVOKE UPDATE ON calendence.webhook_deliveries FROM",
		    "UPDATE on calendence.webhook_deliveries", 1 },
		{ "REVOKE SELECT ON calendence.timezones FROM", "SELECT on calendence.timezones",
		    1 },
		/* without the schema the check itself cannot be called: refused too */
		{ "REVOKE USAGE ON SCHEMA calendence FROM", "permission denied for schema "
		    "calendence", 0 },
	};
	char	 sql[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char		*role = role_new(), *n;
		PGresult	*res;

		n = fx_value("SELECT calendence.grant_worker($1)", role, NULL);
		free(n);
		snprintf(sql, sizeof(sql), "%s %s", cases[i].revoke, role);
		fx_exec(sql, NULL);
		become(role);
		res = PQexec(fx_db(), "SELECT calendence.health_check()");
		cr_expect_eq(PQresultStatus(res), PGRES_FATAL_ERROR, "%s: passed", sql);
		it_str_eq(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501", "%s", sql);
		cr_expect(strstr(PQresultErrorMessage(res), cases[i].named) != NULL,
		    "%s: %s", sql, PQresultErrorMessage(res));
		if (cases[i].hint)
			cr_expect(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) != NULL &&
			    strstr(PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
			    "grant_worker") != NULL, "%s: no hint", sql);
		PQclear(res);
		role_drop(role);
	}
}

/* grant_worker() of a role that does not exist: a clear error, nothing done. */
Test(roles, unknown_role_is_refused)
{
	char	*st = it_sqlstate("SELECT calendence.grant_worker('no_such_role_at_all')", NULL);

	it_str_eq(st, "42704");
	free(st);
	st = it_sqlstate("SELECT calendence.grant_worker(NULL)", NULL);
	it_str_eq(st, "42704");
	free(st);
}
