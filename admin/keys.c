/* keys.c: calendence-admin: hubs, businesses, keys, origins, maintenance. */

#include <stdio.h>
#include <string.h>

#include <json.h>
#include <libpq-fe.h>

#include "admin.h"

/* create-hub NAME PLAN: prints the new hub's id. */
int
adm_cmd_create_hub(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, ADM_CREATE_HUB,
	    PARAMS(a->pos[0], a->pos[1]));
}

/* create-business HUB_ID NAME TIMEZONE [SLUG]: prints the new business's id. */
int
adm_cmd_create_business(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, ADM_CREATE_BUSINESS, PARAMS(a->pos[0],
	    a->pos[1], a->pos[2], a->npos > 3 ? a->pos[3] : NULL));
}

/* issue-key KIND OWNER_ID [--label L] [--expires T]: prints the token, once. */
int
adm_cmd_issue_key(PGconn *db, const struct adm_args *a)
{
	return adm_print_token(db, ADM_ISSUE_KEY, PARAMS(a->pos[0], a->pos[1],
	    a->opt[OPT_LABEL], a->opt[OPT_EXPIRES]));
}

/*
 * list-keys [--hub ID | --business ID] [--all]: live keys (all with --all)
 * as a table; a hub's include those of its businesses. 0, 1, or 2.
 */
int
adm_cmd_list_keys(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;

	if (a->opt[OPT_HUB] != NULL && a->opt[OPT_BUSINESS] != NULL) {
		adm_cmd_usage(a->cmd);
		return EXIT_USAGE;
	}
	res = adm_query(db, ADM_LIST_KEYS, PARAMS(a->opt[OPT_HUB],
	    a->opt[OPT_BUSINESS], a->opt[OPT_ALL] != NULL ? "true" : "false"));
	if (res == NULL)
		return 1;
	adm_print_table(res);
	PQclear(res);
	return 0;
}

/* revoke-key KEY_ID: effective on the very next request. */
int
adm_cmd_revoke_key(PGconn *db, const struct adm_args *a)
{
	if (adm_exec(db, ADM_REVOKE_KEY, PARAMS(a->pos[0])) == -1)
		return 1;
	printf("revoked %s\n", a->pos[0]);
	return 0;
}

/* roll-key KEY_ID [--grace INTERVAL]: prints the replacement token, once. */
int
adm_cmd_roll_key(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;

	if (adm_print_token(db, ADM_ROLL_KEY,
	    PARAMS(a->pos[0], a->opt[OPT_GRACE])) != 0)
		return 1;
	if ((res = adm_query(db, ADM_KEY_EXPIRES, PARAMS(a->pos[0]))) == NULL)
		return 1;
	if (PQntuples(res) == 1)
		adm_errmsg("key %s keeps working until %s", a->pos[0],
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
		adm_errmsg("warning: \"%s\" is not scheme://host[:port], the "
		    "form browsers send", origin);
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
int
adm_cmd_set_origins(PGconn *db, const struct adm_args *a)
{
	json_object	*list = NULL;
	const char	*json = NULL;
	int		 rc = 1;

	if (a->npos > 1) {
		if ((list = origins_json(a->pos + 1, a->npos - 1)) == NULL ||
		    (json = json_object_to_json_string_ext(list,
		    JSON_C_TO_STRING_PLAIN |
		    JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
			adm_errmsg("out of memory");
			goto out;
		}
	}
	if (adm_exec(db, ADM_SET_ORIGINS, PARAMS(a->pos[0], json)) == -1)
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

/* maintenance: removes dead sessions and rate windows; prints the counts. */
int
adm_cmd_maintenance(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;

	(void)a;
	if ((res = adm_query(db, ADM_MAINTENANCE, NULL)) == NULL)
		return 1;
	printf("sessions removed: %s\nrate windows removed: %s\n",
	    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}
