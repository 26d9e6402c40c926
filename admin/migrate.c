/* migrate.c: calendence-admin migrate: sql/migrations, then sql/functions. */

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json.h>
#include <libpq-fe.h>

#include "admin.h"
#include "buf.h"

#define SQL_FILE_MAX	(16L * 1024 * 1024)	/* largest SQL file */

/* pg_advisory_lock key: arbitrary, fixed, and the same in every copy */
#define LOCK_MIGRATE	"7310012"


/* A folder of SQL files: its path, and the names a filter took, in byte order. */
struct sql_files {
	char		  dir[PATH_MAX];
	struct dirent	**names;
	int		  n;
};

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
		adm_errmsg("%s/%s: path too long", top, sub);
		return -1;
	}
	if ((f->n = scandir(f->dir, &f->names, filter, migration_cmp)) == -1) {
		adm_errmsg("%s: %s", f->dir, strerror(errno));
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

/*
 * Reads the SQL file at 'path' into 'text' (the caller's, initialised):
 * NUL-terminated, with no NUL inside. 0, or -1 once the error is printed.
 */
static int
sql_read(const char *path, struct buf *text)
{
	struct stat	 st;
	FILE		*f;
	char		 chunk[8192];
	size_t		 n;
	int		 rc = -1;

	if ((f = fopen(path, "r")) == NULL || fstat(fileno(f), &st) == -1) {
		adm_errmsg("%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > SQL_FILE_MAX) {
		adm_errmsg("%s: not a regular file of at most %ld bytes", path,
		    SQL_FILE_MAX);
		goto out;
	}
	while (text->len <= (size_t)st.st_size &&
	    (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(text, chunk, n);
	if (ferror(f) || text->len != (size_t)st.st_size) {
		adm_errmsg("%s: read error", path);
		goto out;
	}
	if (strlen(buf_str(text)) != text->len) {
		adm_errmsg("%s: contains a NUL byte", path);
		goto out;
	}
	rc = 0;
 out:
	if (f != NULL)
		fclose(f);
	return rc;
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
PGresult *
adm_sql_file_exec(PGconn *db, const char *dir, const char *name)
{
	PGresult	*res = NULL;
	struct buf	 path, text, what;
	const char	*sql;
	long		 line;

	buf_init(&path);
	buf_init(&text);
	buf_init(&what);
	buf_printf(&path, "%s/%s", dir, name);
	if (sql_read(buf_str(&path), &text) == -1)
		goto out;
	sql = buf_str(&text);
	/* the one place file content goes to the server as SQL: it is SQL */
	res = PQexec(db, sql);
	if (!adm_result_ok(res) && PQresultStatus(res) != PGRES_EMPTY_QUERY) {
		line = res == NULL ? 0 : text_line(sql,
		    PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));
		buf_puts(&what, buf_str(&path));
		if (line > 0)
			buf_printf(&what, ", line %ld", line);
		adm_pg_warn(db, res, buf_str(&what));
		PQclear(res);
		res = NULL;
	} else if (PQtransactionStatus(db) != PQTRANS_INTRANS) {
		adm_errmsg("%s: ends its own transaction (COMMIT or ROLLBACK); "
		    "what ran is not recorded as applied", buf_str(&path));
		PQclear(res);
		res = NULL;
	}
 out:
	buf_cleanup(&path);
	buf_cleanup(&text);
	buf_cleanup(&what);
	return res;
}

/* Runs SQL file 'name' of 'dir' for its effect: 0, or -1 once reported. */
static int
sql_file_run(PGconn *db, const char *dir, const char *name)
{
	PGresult	*res;

	if ((res = adm_sql_file_exec(db, dir, name)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/*
 * Applies the function files of 'fn' in the caller's transaction: only
 * those numbered 0N (what the tables need) when 'tables_only', else all.
 * Bodies are checked once every function exists (ADM_FUNCTIONS_CHECK), so
 * the order of the files does not matter. 0, or -1 once reported.
 */
static int
functions_apply(PGconn *db, const struct sql_files *fn, bool tables_only)
{
	int	 i;

	if (adm_exec(db, ADM_BODIES_UNCHECKED, NULL) == -1)
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
		if ((res = adm_query(db, ADM_MIGRATION_DONE,
		    PARAMS(version))) == NULL)
			return -1;
		done = PQntuples(res) > 0;
		PQclear(res);
		if (done)
			continue;
		if (sql_file_run(db, mig->dir, file) == -1 ||
		    adm_exec(db, ADM_MIGRATION_RECORD, PARAMS(version)) == -1)
			return -1;
		applied[i] = true;
	}
	return 0;
}

/* migrate --json: {"applied": [the versions applied now]}. 0, or 1. */
static int
applied_json(const struct sql_files *mig, const bool *applied)
{
	json_object	*obj, *list, *v;
	const char	*s;
	int		 i, rc = 1;

	obj = json_object_new_object();
	if ((list = json_object_new_array()) == NULL || obj == NULL ||
	    json_object_object_add(obj, "applied", list) != 0) {
		json_object_put(list);
		goto out;
	}
	for (i = 0; i < mig->n; i++) {
		if (!applied[i])
			continue;
		v = json_object_new_string_len(mig->names[i]->d_name,
		    (int)strlen(mig->names[i]->d_name) - 4);
		if (v == NULL || json_object_array_add(list, v) != 0) {
			json_object_put(v);
			goto out;
		}
	}
	if ((s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
	    JSON_C_TO_STRING_SPACED)) != NULL) {
		puts(s);
		rc = 0;
	}
 out:
	if (rc != 0)
		adm_errmsg("out of memory");
	json_object_put(obj);
	return rc;
}

/* ./sql when run from a source tree, else the installed copy. */
const char *
adm_sql_dir_default(void)
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
 * calendence.schema_migrations, then every function file, then what is
 * stored of a function's result (calendence.refresh_service_json()). Prints the
 * migrations applied, or "up to date". 0, or 1 (nothing is left applied).
 */
int
adm_cmd_migrate(PGconn *db, const struct adm_args *a)
{
	struct sql_files mig = { 0 }, fn = { 0 };
	const char	*dir;
	bool		*applied = NULL;
	int		 i, n = 0, rc = 1;

	if ((dir = a->opt[OPT_DIR]) == NULL)
		dir = adm_sql_dir_default();
	if (sql_files_scan(&mig, dir, "migrations", migration_name) == -1 ||
	    sql_files_scan(&fn, dir, "functions", function_file_name) == -1)
		goto out;
	if (mig.n == 0) {
		adm_errmsg("%s: no NNN_*.sql migrations here", mig.dir);
		goto out;
	}
	if ((applied = calloc((size_t)mig.n, sizeof(*applied))) == NULL) {
		adm_errmsg("out of memory");
		goto out;
	}
	if (adm_exec(db, ADM_BEGIN, NULL) == -1)
		goto out;
	if (adm_exec(db, ADM_XACT_LOCK, PARAMS(LOCK_MIGRATE)) == -1 ||
	    adm_exec(db, ADM_SCHEMA, NULL) == -1 ||
	    adm_exec(db, ADM_MIGRATIONS_TABLE, NULL) == -1 ||
	    functions_apply(db, &fn, true) == -1 ||
	    migrations_apply(db, &mig, applied) == -1 ||
	    functions_apply(db, &fn, false) == -1 ||
	    adm_exec(db, ADM_FUNCTIONS_CHECK, NULL) == -1 ||
	    adm_exec(db, ADM_REFRESH_STORED, NULL) == -1 ||
	    adm_exec(db, ADM_COMMIT, NULL) == -1) {
		adm_rollback(db);
		goto out;
	}
	rc = a->json ? applied_json(&mig, applied) : 0;
	for (i = 0; i < mig.n && !a->json; i++) {
		if (applied[i]) {
			printf("applied %.*s\n", (int)(strlen(
			    mig.names[i]->d_name) - 4), mig.names[i]->d_name);
			n++;
		}
	}
	if (n == 0 && !a->json)
		puts("up to date");
 out:
	free(applied);
	sql_files_free(&mig);
	sql_files_free(&fn);
	return rc;
}
