/* admin.c: calendence-admin, the DBA's tool: schema, tenants, keys, demo. */

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json.h>
#include <libpq-fe.h>
#include <sodium.h>

#define PROG		"calendence-admin"
#define EXIT_USAGE	2

#ifndef SHAREDIR
#define SHAREDIR	"/usr/local/share/calendence"
#endif
#define SQL_FILE_MAX	(16L * 1024 * 1024)	/* largest SQL file */

/* pg_advisory_lock keys: arbitrary, fixed, and the same in every copy */
#define LOCK_MIGRATE	"7310012"
#define LOCK_DEMO	"7310013"

#define DEMO_FILE	"demo.sql"	/* of the --dir: the demo tenant */
#define DEMO_LABEL	"demo"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))
#define PARAMS(...)	((const char *const []){ __VA_ARGS__ })

enum stmt {
	ST_XACT_LOCK,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SCHEMA,
	ST_MIGRATIONS_TABLE,
	ST_MIGRATION_DONE,
	ST_MIGRATION_RECORD,
	ST_BODIES_UNCHECKED,
	ST_FUNCTIONS_CHECK,
	ST_CREATE_HUB,
	ST_CREATE_BUSINESS,
	ST_ISSUE_KEY,
	ST_LIST_KEYS,
	ST_REVOKE_KEY,
	ST_ROLL_KEY,
	ST_KEY_EXPIRES,
	ST_SET_ORIGINS,
	ST_DEMO_REVOKE,
	ST_DEMO_ISSUE,
	ST_MAINTENANCE,
	ST__MAX
};

/* Every statement this tool sends; user input only ever travels as $n. */
static const struct stmt_def {
	const char	*sql;
	int		 nparams;
} stmts[ST__MAX] = {
	[ST_XACT_LOCK] = { "SELECT pg_advisory_xact_lock($1::bigint)", 1 },
	[ST_BEGIN] = { "BEGIN", 0 },
	[ST_COMMIT] = { "COMMIT", 0 },
	[ST_ROLLBACK] = { "ROLLBACK", 0 },
	[ST_SCHEMA] = { "CREATE SCHEMA IF NOT EXISTS calendence", 0 },
	[ST_MIGRATIONS_TABLE] = {
	    "CREATE TABLE IF NOT EXISTS calendence.schema_migrations ("
	    " version text PRIMARY KEY,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", 0 },
	[ST_MIGRATION_DONE] = {
	    "SELECT 1 FROM calendence.schema_migrations"
	    " WHERE version = $1", 1 },
	[ST_MIGRATION_RECORD] = {
	    "INSERT INTO calendence.schema_migrations (version)"
	    " VALUES ($1)", 1 },
	/* for the function files: one may call a function of a later one */
	[ST_BODIES_UNCHECKED] = { "SET LOCAL check_function_bodies = off", 0 },
	/* every function's body, checked as CREATE FUNCTION would, once all exist */
	[ST_FUNCTIONS_CHECK] = {
	    "DO $$ DECLARE f record; BEGIN"
	    " PERFORM set_config('check_function_bodies', 'on', true);"
	    " FOR f IN SELECT p.oid, p.oid::regprocedure AS name, l.lanname"
	    "  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
	    " WHERE p.pronamespace = 'calendence'::regnamespace"
	    "   AND l.lanname IN ('sql', 'plpgsql') LOOP"
	    " BEGIN"
	    "  IF f.lanname = 'sql' THEN PERFORM fmgr_sql_validator(f.oid);"
	    "  ELSE PERFORM plpgsql_validator(f.oid); END IF;"
	    " EXCEPTION WHEN OTHERS THEN"
	    "  RAISE EXCEPTION '%: %', f.name, SQLERRM USING ERRCODE = SQLSTATE;"
	    " END;"
	    " END LOOP; END $$", 0 },
	[ST_CREATE_HUB] = {
	    "SELECT calendence.create_hub($1::text, $2::text)", 2 },
	[ST_CREATE_BUSINESS] = {
	    "SELECT calendence.create_business($1::uuid, $2::text,"
	    " $3::text, $4::text)", 4 },
	[ST_ISSUE_KEY] = {
	    "SELECT calendence.issue_key($1::text, $2::uuid,"
	    " $3::text, $4::timestamptz)", 4 },
	[ST_LIST_KEYS] = {
	    "SELECT k.id, k.display, k.kind,"
	    "       coalesce(k.hub_id, k.business_id) AS owner, k.label,"
	    "       calendence.rfc3339(k.created_at) AS created,"
	    "       calendence.rfc3339(k.last_used_at) AS last_used,"
	    "       calendence.rfc3339(k.expires_at) AS expires,"
	    "       calendence.rfc3339(k.revoked_at) AS revoked"
	    "  FROM calendence.api_keys k"
	    " WHERE ($1::uuid IS NULL OR k.hub_id = $1::uuid"
	    "        OR k.business_id IN (SELECT b.id"
	    "          FROM calendence.businesses b WHERE b.hub_id = $1::uuid))"
	    "   AND ($2::uuid IS NULL OR k.business_id = $2::uuid)"
	    "   AND ($3::boolean OR (k.revoked_at IS NULL"
	    "        AND (k.expires_at IS NULL OR k.expires_at > now())))"
	    " ORDER BY k.created_at, k.id", 3 },
	[ST_REVOKE_KEY] = { "SELECT calendence.revoke_key($1::uuid)", 1 },
	/* no --grace: the function's own default */
	[ST_ROLL_KEY] = {
	    "SELECT calendence.roll_key($1::uuid,"
	    " coalesce($2::interval, interval '24 hours'))", 2 },
	[ST_KEY_EXPIRES] = {
	    "SELECT calendence.rfc3339(expires_at) FROM calendence.api_keys"
	    " WHERE id = $1::uuid", 1 },
	/* $2: a JSON array of strings, or NULL; no origin at all means any */
	[ST_SET_ORIGINS] = {
	    "SELECT calendence.set_allowed_origins($1::uuid, nullif(ARRAY("
	    "SELECT json_array_elements_text($2::json)), '{}'::text[]))", 2 },
	[ST_DEMO_REVOKE] = {
	    "UPDATE calendence.api_keys SET revoked_at = now()"
	    " WHERE label = $3 AND revoked_at IS NULL"
	    "   AND (expires_at IS NULL OR expires_at > now())"
	    "   AND (hub_id = $1::uuid OR business_id = $2::uuid)", 3 },
	[ST_DEMO_ISSUE] = {
	    "SELECT calendence.issue_key('hub', $1::uuid, $3::text),"
	    "       calendence.issue_key('business', $2::uuid, $3::text),"
	    "       calendence.issue_key('publishable', $2::uuid, $3::text)",
	    3 },
	[ST_MAINTENANCE] = {
	    "SELECT sessions_removed, windows_removed"
	    "  FROM calendence.maintenance()", 0 },
};

enum opt {
	OPT_ALL,
	OPT_BUSINESS,
	OPT_DIR,
	OPT_ENV,
	OPT_EXPIRES,
	OPT_GRACE,
	OPT_HUB,
	OPT_LABEL,
	OPT__MAX
};

#define OPTBIT(o)	(1u << (o))

static const struct opt_def {
	const char	*name;		/* after the "--" */
	bool		 has_value;
} opts[OPT__MAX] = {
	[OPT_ALL] = { "all", false },
	[OPT_BUSINESS] = { "business", true },
	[OPT_DIR] = { "dir", true },
	[OPT_ENV] = { "env", true },
	[OPT_EXPIRES] = { "expires", true },
	[OPT_GRACE] = { "grace", true },
	[OPT_HUB] = { "hub", true },
	[OPT_LABEL] = { "label", true },
};

struct command;

/* A command's words: options by enum ("" for a flag given), then the rest. */
struct args {
	const struct command	*cmd;
	const char		*opt[OPT__MAX];
	char			**pos;
	int			 npos;
};

struct command {
	const char	*name;
	/* NULL: help */
	int		(*run)(PGconn *, const struct args *);
	int		 minpos;
	int		 maxpos;		/* -1: no limit */
	unsigned int	 opts;		/* OPTBIT()s it allows */
	const char	*usage;
	const char	*summary;
};

/* A folder of SQL files: its path, and the names a filter took, in byte order. */
struct sql_files {
	char		  dir[PATH_MAX];
	struct dirent	**names;
	int		  n;
};

static void	errmsg(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

static void
errmsg(const char *fmt, ...)
{
	va_list	 ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Prints PostgreSQL's primary message for 'res' (or, without one, the
 * first line of the connection's message), after 'what' when not NULL.
 */
static void
pg_warn(PGconn *db, const PGresult *res, const char *what)
{
	const char	*msg = NULL;

	if (res != NULL)
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	if (msg == NULL && db != NULL)
		msg = PQerrorMessage(db);
	if ((msg == NULL || *msg == '\0') && res != NULL)
		msg = PQresStatus(PQresultStatus(res));
	if (msg == NULL || *msg == '\0')
		msg = "unknown database error";
	if (what != NULL)
		errmsg("%s: %.*s", what, (int)strcspn(msg, "\n"), msg);
	else
		errmsg("%.*s", (int)strcspn(msg, "\n"), msg);
}

/* Shows the server's warnings; its notices ("already exists") are noise. */
static void
notice_rx(void *arg, const PGresult *res)
{
	const char	*sev;

	(void)arg;
	sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	if (sev != NULL && strcmp(sev, "WARNING") == 0)
		pg_warn(NULL, res, "warning");
}

static bool
result_ok(const PGresult *res)
{
	return res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
}

/*
 * Runs statement 'st' with its parameters (NULL ones are SQL NULLs).
 * Returns the result for the caller to PQclear, or NULL once the error
 * has been printed, after 'what' when not NULL.
 */
static PGresult *
query_about(PGconn *db, const char *what, enum stmt st,
    const char *const *params)
{
	PGresult	*res;

	res = PQexecParams(db, stmts[st].sql, stmts[st].nparams, NULL, params,
	    NULL, NULL, 0);
	if (!result_ok(res)) {
		pg_warn(db, res, what);
		PQclear(res);
		return NULL;
	}
	return res;
}

static PGresult *
query(PGconn *db, enum stmt st, const char *const *params)
{
	return query_about(db, NULL, st, params);
}

/* Runs 'st' for its effect: 0, or -1 once the error has been printed. */
static int
exec_stmt(PGconn *db, enum stmt st, const char *const *params)
{
	PGresult	*res;

	if ((res = query(db, st, params)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Ends a transaction that failed, if one is open; its error is already out. */
static void
rollback(PGconn *db)
{
	if (PQtransactionStatus(db) != PQTRANS_IDLE)
		PQclear(PQexecParams(db, stmts[ST_ROLLBACK].sql, 0, NULL, NULL,
		    NULL, NULL, 0));
}

/* Overwrites a secret held in a result, before PQclear frees it. */
static void
wipe_value(PGresult *res, int row, int col)
{
	sodium_memzero(PQgetvalue(res, row, col), PQgetlength(res, row, col));
}

/* Prints the one value 'st' returns: 0, or 1 after an error. */
static int
print_value(PGconn *db, enum stmt st, const char *const *params)
{
	PGresult	*res;

	if ((res = query(db, st, params)) == NULL)
		return 1;
	puts(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* Prints the token 'st' returns, the only time it is ever shown: 0, or 1. */
static int
print_token(PGconn *db, enum stmt st, const char *const *params)
{
	PGresult	*res;

	if ((res = query(db, st, params)) == NULL)
		return 1;
	puts(PQgetvalue(res, 0, 0));
	fflush(stdout);
	wipe_value(res, 0, 0);
	PQclear(res);
	errmsg("store this token now: it cannot be shown again");
	return 0;
}

/* Writes s with control characters, which could upset a terminal, as '?'. */
static void
put_field(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

/* Prints a result as tab-separated columns under a header of their names. */
static void
print_table(const PGresult *res)
{
	int	 i, j, ncols = PQnfields(res);

	for (j = 0; j < ncols; j++)
		printf("%s%s", j > 0 ? "\t" : "", PQfname(res, j));
	putchar('\n');
	for (i = 0; i < PQntuples(res); i++) {
		for (j = 0; j < ncols; j++) {
			if (j > 0)
				putchar('\t');
			put_field(PQgetvalue(res, i, j));
		}
		putchar('\n');
	}
}

/* The usage line of one command, on stderr. */
static void
cmd_usage(const struct command *cmd)
{
	fprintf(stderr, "usage: " PROG " [--db CONNINFO] %s\n", cmd->usage);
}

/* migrate: the files a migration may be named by, NNN_name.sql. */
static int
migration_name(const struct dirent *d)
{
	const char	*s = d->d_name;
	size_t		 len = strlen(s);

	return len > 8 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
	    s[3] == '_' && strcmp(s + len - 4, ".sql") == 0;
}

/* migrate: the files a function file may be named by, NN_concern.sql. */
static int
function_file_name(const struct dirent *d)
{
	const char	*s = d->d_name;
	size_t		 len = strlen(s);

	return len > 7 && isdigit((unsigned char)s[0]) &&
	    isdigit((unsigned char)s[1]) && s[2] == '_' &&
	    strcmp(s + len - 4, ".sql") == 0;
}

/* Byte order, whatever the locale: 002 before 010 before 100. */
static int
migration_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/*
 * Lists the files of folder 'sub' of 'top' that 'filter' takes, in byte
 * order, into 'f' (freed by sql_files_free, even after a failure).
 * Returns 0, or -1 once the error has been printed.
 */
static int
sql_files_scan(struct sql_files *f, const char *top, const char *sub,
    int (*filter)(const struct dirent *))
{
	memset(f, 0, sizeof(*f));
	if ((size_t)snprintf(f->dir, sizeof(f->dir), "%s/%s", top, sub) >=
	    sizeof(f->dir)) {
		errmsg("%s/%s: path too long", top, sub);
		return -1;
	}
	if ((f->n = scandir(f->dir, &f->names, filter, migration_cmp)) == -1) {
		errmsg("%s: %s", f->dir, strerror(errno));
		f->n = 0;
		return -1;
	}
	return 0;
}

static void
sql_files_free(struct sql_files *f)
{
	int	 i;

	for (i = 0; i < f->n; i++)
		free(f->names[i]);
	free(f->names);
	f->names = NULL;
	f->n = 0;
}

/* A SQL file's text, NUL-terminated, for the caller to free; or NULL. */
static char *
sql_read(const char *path)
{
	struct stat	 st;
	FILE		*f;
	char		*buf = NULL, *text = NULL;
	size_t		 len;

	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) == -1) {
		errmsg("%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SQL_FILE_MAX) {
		errmsg("%s: not a regular file of at most %ld bytes", path,
		    SQL_FILE_MAX);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		errmsg("%s: %s", path, strerror(errno));
		goto out;
	}
	len = fread(buf, 1, (size_t)st.st_size, f);
	if (ferror(f) || len != (size_t)st.st_size) {
		errmsg("%s: read error", path);
		goto out;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		errmsg("%s: contains a NUL byte", path);
		goto out;
	}
	text = buf;
	buf = NULL;
 out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return text;
}

/* The line of 'text' holding character 'pos' (1-based, as PostgreSQL's). */
static long
text_line(const char *text, const char *pos)
{
	long	 n, line = 1;

	if (pos == NULL || (n = strtol(pos, NULL, 10)) < 1)
		return 0;
	for (; *text != '\0'; text++) {
		if (((unsigned char)*text & 0xc0) != 0x80 && --n == 0)
			break;		/* counts characters, not bytes */
		if (*text == '\n')
			line++;
	}
	return line;
}

/*
 * Runs SQL file 'name' of 'dir' inside the caller's transaction. Returns
 * the result of its last statement for the caller to PQclear, or NULL once
 * the error has been printed, naming the file and the line.
 */
static PGresult *
sql_file_exec(PGconn *db, const char *dir, const char *name)
{
	PGresult	*res = NULL;
	char		 path[PATH_MAX], what[PATH_MAX + 32];
	char		*text;
	long		 line;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path)) {
		errmsg("%s/%s: path too long", dir, name);
		return NULL;
	}
	if ((text = sql_read(path)) == NULL)
		return NULL;
	/* the one place file content goes to the server as SQL: it is SQL */
	res = PQexec(db, text);
	if (!result_ok(res) && PQresultStatus(res) != PGRES_EMPTY_QUERY) {
		line = res == NULL ? 0 : text_line(text,
		    PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
		if (line > 0)
			snprintf(what, sizeof(what), "%s, line %ld", path, line);
		else
			snprintf(what, sizeof(what), "%s", path);
		pg_warn(db, res, what);
		PQclear(res);
		res = NULL;
	} else if (PQtransactionStatus(db) != PQTRANS_INTRANS) {
		errmsg("%s: ends its own transaction (COMMIT or ROLLBACK); "
		    "what ran is not recorded as applied", path);
		PQclear(res);
		res = NULL;
	}
	free(text);
	return res;
}

/* Runs SQL file 'name' of 'dir' for its effect: 0, or -1 once reported. */
static int
sql_file_run(PGconn *db, const char *dir, const char *name)
{
	PGresult	*res;

	if ((res = sql_file_exec(db, dir, name)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * Applies the function files of 'fn' in the caller's transaction: only
 * those numbered 0N (what the tables need) when 'tables_only', else all.
 * Bodies are checked once every function exists (ST_FUNCTIONS_CHECK), so
 * the order of the files does not matter. 0, or -1 once reported.
 */
static int
functions_apply(PGconn *db, const struct sql_files *fn, bool tables_only)
{
	int	 i;

	if (exec_stmt(db, ST_BODIES_UNCHECKED, NULL) == -1)
		return -1;
	for (i = 0; i < fn->n; i++) {
		if (tables_only && fn->names[i]->d_name[0] != '0')
			continue;
		if (sql_file_run(db, fn->dir, fn->names[i]->d_name) == -1)
			return -1;
	}
	return 0;
}

/*
 * Applies, in order, each migration of 'mig' whose version (its name
 * without ".sql") is not recorded yet, and records it, in the caller's
 * transaction; applied[i] tells which ran. 0, or -1 once reported.
 */
static int
migrations_apply(PGconn *db, const struct sql_files *mig, bool *applied)
{
	PGresult	*res;
	const char	*file;
	char		 version[NAME_MAX + 1];
	int		 i;
	bool		 done;

	for (i = 0; i < mig->n; i++) {
		file = mig->names[i]->d_name;
		snprintf(version, sizeof(version), "%.*s",
		    (int)(strlen(file) - 4), file);
		if ((res = query(db, ST_MIGRATION_DONE, PARAMS(version))) == NULL)
			return -1;
		done = PQntuples(res) > 0;
		PQclear(res);
		if (done)
			continue;
		if (sql_file_run(db, mig->dir, file) == -1 ||
		    exec_stmt(db, ST_MIGRATION_RECORD, PARAMS(version)) == -1)
			return -1;
		applied[i] = true;
	}
	return 0;
}

/* ./sql when run from a source tree, else the installed copy. */
static const char *
sql_dir_default(void)
{
	struct stat	 st;

	if (stat("sql", &st) == 0 && S_ISDIR(st.st_mode))
		return "sql";
	return SHAREDIR "/sql";
}

/*
 * migrate [--dir DIR]: in one transaction, under an advisory lock: the
 * function files DIR/functions/0N_*.sql that the tables need, each
 * migration DIR/migrations/NNN_*.sql not yet in
 * calendence.schema_migrations, then every function file. Prints the
 * migrations applied, or "up to date". 0, or 1 (nothing is left applied).
 */
static int
cmd_migrate(PGconn *db, const struct args *a)
{
	struct sql_files mig = { 0 }, fn = { 0 };
	const char	*dir;
	bool		*applied = NULL;
	int		 i, n = 0, rc = 1;

	if ((dir = a->opt[OPT_DIR]) == NULL)
		dir = sql_dir_default();
	if (sql_files_scan(&mig, dir, "migrations", migration_name) == -1 ||
	    sql_files_scan(&fn, dir, "functions", function_file_name) == -1)
		goto out;
	if (mig.n == 0) {
		errmsg("%s: no NNN_*.sql migrations here", mig.dir);
		goto out;
	}
	if ((applied = calloc((size_t)mig.n, sizeof(*applied))) == NULL) {
		errmsg("out of memory");
		goto out;
	}
	if (exec_stmt(db, ST_BEGIN, NULL) == -1)
		goto out;
	if (exec_stmt(db, ST_XACT_LOCK, PARAMS(LOCK_MIGRATE)) == -1 ||
	    exec_stmt(db, ST_SCHEMA, NULL) == -1 ||
	    exec_stmt(db, ST_MIGRATIONS_TABLE, NULL) == -1 ||
	    functions_apply(db, &fn, true) == -1 ||
	    migrations_apply(db, &mig, applied) == -1 ||
	    functions_apply(db, &fn, false) == -1 ||
	    exec_stmt(db, ST_FUNCTIONS_CHECK, NULL) == -1 ||
	    exec_stmt(db, ST_COMMIT, NULL) == -1) {
		rollback(db);
		goto out;
	}
	for (i = 0; i < mig.n; i++) {
		if (applied[i]) {
			printf("applied %.*s\n", (int)(strlen(
			    mig.names[i]->d_name) - 4), mig.names[i]->d_name);
			n++;
		}
	}
	if (n == 0)
		puts("up to date");
	rc = 0;
 out:
	free(applied);
	sql_files_free(&mig);
	sql_files_free(&fn);
	return rc;
}

/* create-hub NAME PLAN: prints the new hub's id. */
static int
cmd_create_hub(PGconn *db, const struct args *a)
{
	return print_value(db, ST_CREATE_HUB, PARAMS(a->pos[0], a->pos[1]));
}

/* create-business HUB_ID NAME TIMEZONE [SLUG]: prints the new business's id. */
static int
cmd_create_business(PGconn *db, const struct args *a)
{
	return print_value(db, ST_CREATE_BUSINESS, PARAMS(a->pos[0], a->pos[1],
	    a->pos[2], a->npos > 3 ? a->pos[3] : NULL));
}

/* issue-key KIND OWNER_ID [--label L] [--expires T]: prints the token, once. */
static int
cmd_issue_key(PGconn *db, const struct args *a)
{
	return print_token(db, ST_ISSUE_KEY, PARAMS(a->pos[0], a->pos[1],
	    a->opt[OPT_LABEL], a->opt[OPT_EXPIRES]));
}

/*
 * list-keys [--hub ID | --business ID] [--all]: live keys (all with --all)
 * as a table; a hub's include those of its businesses. 0, 1, or 2.
 */
static int
cmd_list_keys(PGconn *db, const struct args *a)
{
	PGresult	*res;

	if (a->opt[OPT_HUB] != NULL && a->opt[OPT_BUSINESS] != NULL) {
		cmd_usage(a->cmd);
		return EXIT_USAGE;
	}
	res = query(db, ST_LIST_KEYS, PARAMS(a->opt[OPT_HUB],
	    a->opt[OPT_BUSINESS], a->opt[OPT_ALL] != NULL ? "true" : "false"));
	if (res == NULL)
		return 1;
	print_table(res);
	PQclear(res);
	return 0;
}

/* revoke-key KEY_ID: effective on the very next request. */
static int
cmd_revoke_key(PGconn *db, const struct args *a)
{
	if (exec_stmt(db, ST_REVOKE_KEY, PARAMS(a->pos[0])) == -1)
		return 1;
	printf("revoked %s\n", a->pos[0]);
	return 0;
}

/* roll-key KEY_ID [--grace INTERVAL]: prints the replacement token, once. */
static int
cmd_roll_key(PGconn *db, const struct args *a)
{
	PGresult	*res;

	if (print_token(db, ST_ROLL_KEY,
	    PARAMS(a->pos[0], a->opt[OPT_GRACE])) != 0)
		return 1;
	if ((res = query(db, ST_KEY_EXPIRES, PARAMS(a->pos[0]))) == NULL)
		return 1;
	if (PQntuples(res) == 1)
		errmsg("key %s keeps working until %s", a->pos[0],
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

/* Warns when 'origin' can never equal a browser's Origin header. */
static void
origin_check(const char *origin)
{
	const char	*host = strstr(origin, "://");

	if (host == NULL || host == origin || host[3] == '\0' ||
	    strpbrk(host + 3, "/?#") != NULL)
		errmsg("warning: \"%s\" is not scheme://host[:port], the form "
		    "browsers send", origin);
}

/* The origins as a JSON array for the caller to put, or NULL. */
static json_object *
origins_json(char *const *origins, int n)
{
	json_object	*list, *s;
	int		 i;

	if ((list = json_object_new_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		origin_check(origins[i]);
		if ((s = json_object_new_string(origins[i])) == NULL ||
		    json_object_array_add(list, s) != 0) {
			json_object_put(s);
			json_object_put(list);
			return NULL;
		}
	}
	return list;
}

/* set-origins KEY_ID [ORIGIN ...]: where a key may be used from; none: any. */
static int
cmd_set_origins(PGconn *db, const struct args *a)
{
	json_object	*list = NULL;
	const char	*json = NULL;
	int		 rc = 1;

	if (a->npos > 1) {
		if ((list = origins_json(a->pos + 1, a->npos - 1)) == NULL ||
		    (json = json_object_to_json_string_ext(list,
		    JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
			errmsg("out of memory");
			goto out;
		}
	}
	if (exec_stmt(db, ST_SET_ORIGINS, PARAMS(a->pos[0], json)) == -1)
		goto out;
	if (a->npos > 1)
		printf("key %s: %d origin%s\n", a->pos[0], a->npos - 1,
		    a->npos > 2 ? "s" : "");
	else
		printf("key %s: any origin\n", a->pos[0]);
	rc = 0;
 out:
	json_object_put(list);
	return rc;
}

/*
 * The demo tenant, made when missing by DEMO_FILE of 'dir' in the open
 * transaction, which answers with its ids: fills 'hub' and 'biz' ('size'
 * bytes each). 0, or -1 once reported.
 */
static int
demo_tenant(PGconn *db, const char *dir, char *hub, char *biz, size_t size)
{
	PGresult	*res;
	int		 rc = -1;

	if ((res = sql_file_exec(db, dir, DEMO_FILE)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQnfields(res) != 2) {
		errmsg("%s/%s: does not end with the SELECT of the demo's hub "
		    "and business ids", dir, DEMO_FILE);
		goto out;
	}
	snprintf(hub, size, "%s", PQgetvalue(res, 0, 0));
	snprintf(biz, size, "%s", PQgetvalue(res, 0, 1));
	rc = 0;
 out:
	PQclear(res);
	return rc;
}

/* The demo's settings in shell syntax; 'keys' is a row of 3 tokens. */
static int
demo_print(FILE *f, const char *hub, const char *biz, const PGresult *keys)
{
	fprintf(f, "DEMO_HUB_ID=%s\nDEMO_BUSINESS_ID=%s\n", hub, biz);
	fprintf(f, "DEMO_HUB_KEY=%s\nDEMO_BIZ_KEY=%s\nDEMO_PUB_KEY=%s\n",
	    PQgetvalue(keys, 0, 0), PQgetvalue(keys, 0, 1),
	    PQgetvalue(keys, 0, 2));
	return fflush(f) == EOF || ferror(f) ? -1 : 0;
}

/* Replaces the contents of the env file open on *fd (mode 0600); closes it. */
static int
demo_env_write(int *fd, const char *path, const char *hub, const char *biz,
    const PGresult *keys)
{
	FILE	*f;
	int	 rc = 0;

	if (fchmod(*fd, 0600) == -1 || ftruncate(*fd, 0) == -1 ||
	    (f = fdopen(*fd, "w")) == NULL) {
		errmsg("%s: %s", path, strerror(errno));
		return -1;
	}
	*fd = -1;
	if (demo_print(f, hub, biz, keys) == -1)
		rc = -1;
	if (fclose(f) == EOF)
		rc = -1;
	if (rc == -1)
		errmsg("%s: %s", path, strerror(errno));
	return rc;
}

/* Wipes the demo's tokens and frees their result; NULL is fine. */
static void
demo_keys_free(PGresult *keys)
{
	int	 col;

	if (keys == NULL)
		return;
	for (col = 0; PQntuples(keys) > 0 && col < PQnfields(keys); col++)
		wipe_value(keys, 0, col);
	PQclear(keys);
}

/* The demo's transaction: tenant, fresh keys for old. NULL once reported. */
static PGresult *
demo_keys(PGconn *db, const char *dir, char *hub, char *biz, size_t size)
{
	PGresult	*keys = NULL;

	if (exec_stmt(db, ST_BEGIN, NULL) == -1)
		return NULL;
	if (exec_stmt(db, ST_XACT_LOCK, PARAMS(LOCK_DEMO)) == -1 ||
	    demo_tenant(db, dir, hub, biz, size) == -1 ||
	    exec_stmt(db, ST_DEMO_REVOKE, PARAMS(hub, biz, DEMO_LABEL)) == -1 ||
	    (keys = query(db, ST_DEMO_ISSUE,
	    PARAMS(hub, biz, DEMO_LABEL))) == NULL ||
	    exec_stmt(db, ST_COMMIT, NULL) == -1) {
		rollback(db);
		demo_keys_free(keys);
		return NULL;
	}
	return keys;
}

/*
 * demo [--dir DIR] [--env FILE]: makes the demo tenant if missing (DIR's
 * demo.sql), replaces its 'demo' keys, and prints (and writes to FILE) the
 * ids and the new keys. 0, or 1.
 */
static int
cmd_demo(PGconn *db, const struct args *a)
{
	PGresult	*keys = NULL;
	const char	*path = a->opt[OPT_ENV], *dir = a->opt[OPT_DIR];
	char		 hub[64], biz[64];
	int		 fd = -1, rc = 1;

	/* opened first: a file we cannot write must not cost the old keys */
	if (path != NULL &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		errmsg("%s: %s", path, strerror(errno));
		return 1;
	}
	if (dir == NULL)
		dir = sql_dir_default();
	if ((keys = demo_keys(db, dir, hub, biz, sizeof(hub))) == NULL)
		goto out;
	if (demo_print(stdout, hub, biz, keys) == -1) {
		errmsg("stdout: %s", strerror(errno));
		goto out;
	}
	if (fd != -1 && demo_env_write(&fd, path, hub, biz, keys) == -1)
		goto out;
	rc = 0;
 out:
	demo_keys_free(keys);
	if (fd != -1)
		close(fd);
	return rc;
}

/* maintenance: removes dead sessions and rate windows; prints the counts. */
static int
cmd_maintenance(PGconn *db, const struct args *a)
{
	PGresult	*res;

	(void)a;
	if ((res = query(db, ST_MAINTENANCE, NULL)) == NULL)
		return 1;
	printf("sessions removed: %s\nrate windows removed: %s\n",
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

enum cmd {
	CMD_MIGRATE,
	CMD_CREATE_HUB,
	CMD_CREATE_BUSINESS,
	CMD_ISSUE_KEY,
	CMD_LIST_KEYS,
	CMD_REVOKE_KEY,
	CMD_ROLL_KEY,
	CMD_SET_ORIGINS,
	CMD_DEMO,
	CMD_MAINTENANCE,
	CMD_HELP,
	CMD__MAX
};

static const struct command commands[CMD__MAX] = {
	[CMD_MIGRATE] = { "migrate", cmd_migrate, 0, 0, OPTBIT(OPT_DIR),
	    "migrate [--dir DIR]",
	    "apply DIR/migrations/NNN_*.sql not yet applied, then every"
	    " DIR/functions/NN_*.sql" },
	[CMD_CREATE_HUB] = { "create-hub", cmd_create_hub, 2, 2, 0,
	    "create-hub NAME PLAN", "create a hub; prints its id" },
	[CMD_CREATE_BUSINESS] = { "create-business", cmd_create_business,
	    3, 4, 0,
	    "create-business HUB_ID NAME TIMEZONE [SLUG]",
	    "create a business; prints its id" },
	[CMD_ISSUE_KEY] = { "issue-key", cmd_issue_key, 2, 2,
	    OPTBIT(OPT_LABEL) | OPTBIT(OPT_EXPIRES),
	    "issue-key hub|business|publishable OWNER_ID [--label LABEL]"
	    " [--expires TIMESTAMPTZ]",
	    "issue a key; prints the token, which is shown only once" },
	[CMD_LIST_KEYS] = { "list-keys", cmd_list_keys, 0, 0,
	    OPTBIT(OPT_HUB) | OPTBIT(OPT_BUSINESS) | OPTBIT(OPT_ALL),
	    "list-keys [--hub HUB_ID | --business BUSINESS_ID] [--all]",
	    "list live keys (--all: also revoked and expired ones)" },
	[CMD_REVOKE_KEY] = { "revoke-key", cmd_revoke_key, 1, 1, 0,
	    "revoke-key KEY_ID", "revoke a key at once" },
	[CMD_ROLL_KEY] = { "roll-key", cmd_roll_key, 1, 1, OPTBIT(OPT_GRACE),
	    "roll-key KEY_ID [--grace INTERVAL]",
	    "replace a key; the old one works for the grace (24 hours)" },
	[CMD_SET_ORIGINS] = { "set-origins", cmd_set_origins, 1, -1, 0,
	    "set-origins KEY_ID [ORIGIN ...]",
	    "origins a publishable key may be used from (none: any)" },
	[CMD_DEMO] = { "demo", cmd_demo, 0, 0, OPTBIT(OPT_DIR) | OPTBIT(OPT_ENV),
	    "demo [--dir DIR] [--env FILE]",
	    "load the demo business (DIR/demo.sql) and print fresh demo keys" },
	[CMD_MAINTENANCE] = { "maintenance", cmd_maintenance, 0, 0, 0,
	    "maintenance", "remove dead sessions and rate windows" },
	[CMD_HELP] = { "help", NULL, 0, 0, 0, "help", "show this text" },
};

static void
usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "usage: " PROG " [--db CONNINFO] COMMAND [ARGUMENTS]\n\n"
	    "The database is CONNINFO (\"key=value ...\" or a postgresql://\n"
	    "URI), completed from the PG* environment (PGHOST, PGPORT,\n"
	    "PGDATABASE, ...).\n\n"
	    "commands:\n");
	for (i = 0; i < nitems(commands); i++)
		fprintf(f, "  %s\n      %s\n", commands[i].usage,
		    commands[i].summary);
}

/*
 * The option named by 'word' (after "--", up to any "="), or -1; *value
 * is what follows "=", or NULL.
 */
static int
opt_find(const char *word, const char **value)
{
	size_t	 len = strcspn(word, "=");
	int	 o;

	for (o = 0; o < OPT__MAX; o++) {
		if (strlen(opts[o].name) == len &&
		    strncmp(opts[o].name, word, len) == 0) {
			*value = word[len] == '=' ? word + len + 1 : NULL;
			return o;
		}
	}
	return -1;
}

/*
 * Sorts the words after a command into the options it allows and its
 * positional words, which are moved to the front of argv. Returns 0, 1 for
 * --help, or -1 after saying what is wrong.
 */
static int
args_parse(struct args *a, const struct command *cmd, int argc, char **argv)
{
	const char	*value;
	bool		 done = false;
	int		 i, o;

	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->pos = argv;
	for (i = 0; i < argc; i++) {
		if (!done && strcmp(argv[i], "--") == 0) {
			done = true;
			continue;
		}
		if (done || strncmp(argv[i], "--", 2) != 0) {
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (strcmp(argv[i], "--help") == 0)
			return 1;
		if ((o = opt_find(argv[i] + 2, &value)) == -1 ||
		    (cmd->opts & OPTBIT(o)) == 0) {
			errmsg("%s: unknown option %s", cmd->name, argv[i]);
			return -1;
		}
		if (opts[o].has_value && value == NULL &&
		    (value = argv[++i]) == NULL) {
			errmsg("%s: %s needs a value", cmd->name, argv[i - 1]);
			return -1;
		}
		if (!opts[o].has_value && value != NULL) {
			errmsg("%s: --%s takes no value", cmd->name,
			    opts[o].name);
			return -1;
		}
		a->opt[o] = opts[o].has_value ? value : "";
	}
	if (a->npos < cmd->minpos ||
	    (cmd->maxpos >= 0 && a->npos > cmd->maxpos)) {
		errmsg("%s: wrong number of arguments", cmd->name);
		return -1;
	}
	return 0;
}

/* Connects with 'conninfo' (NULL: the environment alone), or prints why not. */
static PGconn *
db_connect(const char *conninfo)
{
	const char *const	 keys[] = {
	    "dbname", "fallback_application_name", NULL };
	const char *const	 values[] = { conninfo, PROG, NULL };
	PGconn			*db;

	if ((db = PQconnectdbParams(keys, values, 1)) == NULL) {
		errmsg("out of memory");
		return NULL;
	}
	if (PQstatus(db) != CONNECTION_OK) {
		pg_warn(db, NULL, NULL);
		PQfinish(db);
		return NULL;
	}
	PQsetNoticeReceiver(db, notice_rx, NULL);
	return db;
}

/* The command named 'name', or NULL. */
static const struct command *
command_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < nitems(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/*
 * Reads the global options before the command: --db CONNINFO, --help.
 * Returns the index of the command word, 0 for help, or -1 on a usage error.
 */
static int
global_opts(int argc, char *argv[], const char **conninfo)
{
	int	 i;

	for (i = 1; i < argc && strncmp(argv[i], "-", 1) == 0; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			return 0;
		if (strncmp(argv[i], "--db=", 5) == 0)
			*conninfo = argv[i] + 5;
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			*conninfo = argv[++i];
		else if (strcmp(argv[i], "--db") == 0) {
			errmsg("--db needs a value");
			return -1;
		} else {
			errmsg("unknown option %s", argv[i]);
			return -1;
		}
	}
	return i < argc ? i : -1;
}

/*
 * calendence-admin [--db CONNINFO] COMMAND [ARGUMENTS]: exits 0 on success,
 * 1 when the database or the system refused, 2 on a usage error.
 */
int
main(int argc, char *argv[])
{
	const struct command	*cmd;
	struct args		 a;
	const char		*conninfo = NULL;
	PGconn			*db;
	int			 i, rc;

	if ((i = global_opts(argc, argv, &conninfo)) == -1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (i == 0 || strcmp(argv[i], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if ((cmd = command_find(argv[i])) == NULL) {
		errmsg("unknown command %s", argv[i]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cmd->run == NULL) {
		usage(stdout);
		return 0;
	}
	if ((rc = args_parse(&a, cmd, argc - i - 1, argv + i + 1)) != 0) {
		if (rc == -1)
			cmd_usage(cmd);
		else
			printf("usage: " PROG " [--db CONNINFO] %s\n    %s\n",
			    cmd->usage, cmd->summary);
		return rc == -1 ? EXIT_USAGE : 0;
	}
	if ((db = db_connect(conninfo)) == NULL)
		return 1;
	rc = cmd->run(db, &a);
	PQfinish(db);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		errmsg("stdout: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}
