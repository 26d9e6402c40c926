/*
 * contract.c: the C<->SQL contract is checked when a worker connects
 * (fcgi/db.c): every prepared statement's parameters and result columns,
 * by count and name, against the statement table. A database whose
 * function returns its columns in another order is refused at connect,
 * with a log line naming the statement and the column, instead of being
 * read by position as something else.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf.h"
#include "db.h"
#include "fixture.h"

/* A database of its own, migrated by the test build's DBA tool; its name. */
static char *
scratch_database(void)
{
	char	 name[64], cmd[512];
	char	*admin = getenv("ADMIN");

	cr_assert_not_null(admin, "ADMIN (the test build's calendence-admin) is not set");
	snprintf(name, sizeof(name), "calendence_contract_%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "CREATE DATABASE %s", name);
	fx_exec(cmd, NULL);
	snprintf(cmd, sizeof(cmd), "PGDATABASE=%s '%s' migrate --dir sql >/dev/null", name,
	    admin);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
	return strdup(name);
}

static void
drop_database(char *name)
{
	char	 sql[128];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
	fx_exec(sql, NULL);
	free(name);
}

/* Runs sql in database 'name' on a connection of its own. */
static void
exec_in(const char *name, const char *sql)
{
	char		 conninfo[128];
	PGconn		*c;
	PGresult	*res;

	snprintf(conninfo, sizeof(conninfo), "dbname=%s", name);
	c = PQconnectdb(conninfo);
	cr_assert_eq(PQstatus(c), CONNECTION_OK, "%s", PQerrorMessage(c));
	res = PQexec(c, sql);
	cr_assert_eq(PQresultStatus(res), PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
	PQclear(res);
	PQfinish(c);
}

/*
 * db_connect() on database 'name' with prepared statements on; its result,
 * and what the worker logged (stderr) into log[len].
 */
static int
connect_to(const char *name, struct db *db, char *log, size_t len)
{
	char	 conninfo[128], path[] = "/tmp/calendence-contract-XXXXXX";
	int	 fd = mkstemp(path), saved = dup(2), rc;
	ssize_t	 n;

	cr_assert(fd >= 0 && saved >= 0);
	snprintf(conninfo, sizeof(conninfo), "dbname=%s", name);
	db_init(db, conninfo, LOG_LEVEL_INFO, DB_PREPARE_ON, 5000);
	db_deadline(db, 0);
	fflush(stderr);
	dup2(fd, 2);
	rc = db_connect(db);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, log, len - 1, 0);
	log[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return rc;
}

Test(contract, every_statement_matches_the_schema)
{
	char		*name = scratch_database(), log[4096];
	struct db	 db;

	cr_expect_eq(connect_to(name, &db, log, sizeof(log)), 0, "refused: %s", log);
	cr_expect_eq(db.contract_broken, 0);
	cr_expect_eq(db.prepared, 1);
	db_cleanup(&db);
	drop_database(name);
}

/* auth_fail() with two of its result columns swapped, as a bad migration might. */
Test(contract, a_column_out_of_place_is_refused_at_connect)
{
	char		*name = scratch_database(), log[4096];
	struct db	 db;
	PGresult	*res = NULL;

	exec_in(name, "DROP FUNCTION calendence.auth_fail(text, integer); "
	    "CREATE FUNCTION calendence.auth_fail(ip text, auth_limit integer, "
	    "OUT count integer, OUT admitted boolean, OUT now_epoch bigint, "
	    "OUT stalled boolean) LANGUAGE sql AS "
	    "$$ SELECT 1, true, 0::bigint, false $$");
	cr_expect_eq(connect_to(name, &db, log, sizeof(log)), -1, "connected: %s", log);
	cr_expect_eq(db.contract_broken, 1);
	cr_expect_not_null(strstr(log, "statement auth_fail does not match the database: "
	    "result column 1 is \"count\", the statement table says \"admitted\""), "log: %s",
	    log);
	/* and nothing is served: every statement is refused as unavailable (503) */
	cr_expect_eq(db_exec(&db, STMT_PING, NULL, &res), DB_UNAVAILABLE);
	cr_expect_null(res);
	db_cleanup(&db);
	drop_database(name);
}

/* A function whose parameters changed in number is refused the same way. */
Test(contract, a_parameter_count_that_differs_is_refused_at_connect)
{
	char		*name = scratch_database(), log[4096];
	struct db	 db;

	exec_in(name, "DROP FUNCTION calendence.release_hold(uuid, text, uuid); "
	    "CREATE FUNCTION calendence.release_hold(p_business uuid, p_id text, "
	    "OUT status text, OUT message text) LANGUAGE sql AS $$ SELECT 'ok', NULL $$");
	cr_expect_eq(connect_to(name, &db, log, sizeof(log)), -1, "connected: %s", log);
	cr_expect_eq(db.prepared, 0);
	cr_expect_not_null(strstr(log, "hold_release"), "log: %s", log);
	db_cleanup(&db);
	drop_database(name);
}
