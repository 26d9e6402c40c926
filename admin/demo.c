/* demo.c: calendence-admin demo: the demo tenant, fresh keys, the env file. */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "admin.h"
#include "token.h"

#define DEMO_FILE	"demo.sql"	/* of the --dir: the demo tenant */
#define DEMO_LABEL	"demo"

/* pg_advisory_lock key: arbitrary, fixed, and the same in every copy */
#define LOCK_DEMO	"7310013"

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

	if ((res = adm_sql_file_exec(db, dir, DEMO_FILE)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQnfields(res) != 2) {
		adm_errmsg("%s/%s: does not end with the SELECT of the demo's "
		    "hub and business ids", dir, DEMO_FILE);
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

/*
 * demo --json: the same settings as one JSON object, written with printf
 * so that no JSON library keeps a copy of the tokens.
 */
static int
demo_print_json(const char *hub, const char *biz, const PGresult *keys)
{
	printf("{\n  \"DEMO_HUB_ID\": \"%s\",\n  \"DEMO_BUSINESS_ID\": \"%s\",\n"
	    "  \"DEMO_HUB_KEY\": \"%s\",\n  \"DEMO_BIZ_KEY\": \"%s\",\n"
	    "  \"DEMO_PUB_KEY\": \"%s\"\n}\n", hub, biz,
	    PQgetvalue(keys, 0, 0), PQgetvalue(keys, 0, 1),
	    PQgetvalue(keys, 0, 2));
	return fflush(stdout) == EOF || ferror(stdout) ? -1 : 0;
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
		adm_errmsg("%s: %s", path, strerror(errno));
		return -1;
	}
	*fd = -1;
	if (demo_print(f, hub, biz, keys) == -1)
		rc = -1;
	if (fclose(f) == EOF)
		rc = -1;
	if (rc == -1)
		adm_errmsg("%s: %s", path, strerror(errno));
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
		adm_wipe_value(keys, 0, col);
	PQclear(keys);
}

/* The row of 3 tokens in the worker's format: hub, business, publishable. */
static int
demo_keys_check(const PGresult *keys)
{
	static const enum token_kind kinds[] = {
		TOKEN_HUB, TOKEN_BUSINESS, TOKEN_PUBLISHABLE
	};
	int	 col;

	if (PQntuples(keys) != 1 || PQnfields(keys) != 3) {
		adm_errmsg("the database answered no row of three demo keys");
		return -1;
	}
	for (col = 0; col < 3; col++)
		if (adm_token_check(PQgetvalue(keys, 0, col), kinds[col]) == -1)
			return -1;
	return 0;
}

/* The demo's transaction: tenant, fresh keys for old. NULL once reported. */
static PGresult *
demo_keys(PGconn *db, const char *dir, char *hub, char *biz, size_t size)
{
	PGresult	*keys = NULL;

	if (adm_exec(db, ADM_BEGIN, NULL) == -1)
		return NULL;
	if (adm_exec(db, ADM_XACT_LOCK, PARAMS(LOCK_DEMO)) == -1 ||
	    demo_tenant(db, dir, hub, biz, size) == -1 ||
	    adm_exec(db, ADM_DEMO_REVOKE, PARAMS(hub, biz, DEMO_LABEL)) == -1 ||
	    (keys = adm_query(db, ADM_DEMO_ISSUE,
	    PARAMS(hub, biz, DEMO_LABEL))) == NULL ||
	    demo_keys_check(keys) == -1 ||
	    adm_exec(db, ADM_COMMIT, NULL) == -1) {
		adm_rollback(db);
		demo_keys_free(keys);
		return NULL;
	}
	return keys;
}

/*
 * demo [--dir DIR] [--env FILE]: makes the demo tenant if missing (DIR's
 * demo.sql), replaces its 'demo' keys, and prints (and writes to FILE) the
 * ids and the new keys (--json: as one object; FILE keeps the shell
 * form). 0, or 1.
 */
int
adm_cmd_demo(PGconn *db, const struct adm_args *a)
{
	PGresult	*keys = NULL;
	const char	*path = a->opt[OPT_ENV], *dir = a->opt[OPT_DIR];
	char		 hub[64], biz[64];
	int		 fd = -1, rc = 1;

	/* opened first: a file we cannot write must not cost the old keys */
	if (path != NULL &&
	    (fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		adm_errmsg("%s: %s", path, strerror(errno));
		return 1;
	}
	if (dir == NULL)
		dir = adm_sql_dir_default();
	if ((keys = demo_keys(db, dir, hub, biz, sizeof(hub))) == NULL)
		goto out;
	if ((a->json ? demo_print_json(hub, biz, keys) :
	    demo_print(stdout, hub, biz, keys)) == -1) {
		adm_errmsg("stdout: %s", strerror(errno));
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
