/* keys.c: calendence-admin: hubs, businesses, keys, origins, maintenance, usage. */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <json.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "admin.h"
#include "token.h"

/* create-hub NAME PLAN: prints the new hub's id. */
int
adm_cmd_create_hub(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_CREATE_HUB,
	    PARAMS(a->pos[0], a->pos[1]));
}

/* create-business HUB_ID NAME TIMEZONE [SLUG]: prints the new business's id. */
int
adm_cmd_create_business(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_CREATE_BUSINESS, PARAMS(a->pos[0],
	    a->pos[1], a->pos[2], a->npos > 3 ? a->pos[3] : NULL));
}

/* The SHA-256 of token 's' in hex, what api_keys.token_hash holds. */
static void
token_hash_hex(const char *s, char hex[TOKEN_HASH_LEN * 2 + 1])
{
	unsigned char	 h[TOKEN_HASH_LEN];

	token_hash(s, strlen(s), h);
	sodium_bin2hex(hex, TOKEN_HASH_LEN * 2 + 1, h, sizeof(h));
}

/*
 * The id of the key of 'token', looked up by its hash in the open
 * transaction, into 'id'. 0, or -1 once said.
 */
static int
key_id_of(PGconn *db, const char *token, char id[ADM_UUID_LEN + 1])
{
	PGresult	*res;
	char		 hex[TOKEN_HASH_LEN * 2 + 1];
	int		 rc = -1;

	token_hash_hex(token, hex);
	if ((res = adm_query(db, ADM_KEY_BY_HASH, PARAMS(hex))) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		snprintf(id, ADM_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
		rc = 0;
	} else
		adm_errmsg("%s: the new key is not in calendence.api_keys",
		    adm_cmd_name());
	PQclear(res);
	return rc;
}

/*
 * Prints a new key's id and token (--json: {"id", "token"}, and "replaces"
 * with the old key's id when 'old' is not NULL). The token is written
 * straight from 'token', never copied into a JSON buffer.
 */
static void
key_token_put(const struct adm_args *a, const char *id, const char *token,
    const char *old)
{
	int	 w;

	if (a->json) {
		printf("{\n  \"id\": \"%s\",\n  \"token\": \"%s\"", id, token);
		if (old != NULL)
			printf(",\n  \"replaces\": \"%s\"", old);
		fputs("\n}\n", stdout);
	} else {
		w = old != NULL ? 8 : 5;
		printf("%-*s  %s\n%-*s  %s\n", w, "id", id, w, "token", token);
		if (old != NULL)
			printf("%-*s  %s\n", w, "replaces", old);
	}
	fflush(stdout);
}

/*
 * Runs 'st', which answers a new token, and looks up its key's id, in one
 * transaction; once committed, prints both (key_token_put) and wipes the
 * token. 0, or 1: then no key was made.
 */
static int
key_token_print(PGconn *db, const struct adm_args *a, enum adm_stmt st,
    const char *const *params, const char *old)
{
	PGresult	*res = NULL;
	char		 id[ADM_UUID_LEN + 1];
	int		 rc = 1;

	if (adm_exec(db, ADM_BEGIN, NULL) == -1)
		return 1;
	if ((res = adm_query(db, st, params)) == NULL ||
	    adm_token_check(PQgetvalue(res, 0, 0), TOKEN__MAX) == -1 ||
	    key_id_of(db, PQgetvalue(res, 0, 0), id) == -1 ||
	    adm_exec(db, ADM_COMMIT, NULL) == -1) {
		adm_rollback(db);
		goto out;
	}
	key_token_put(a, id, PQgetvalue(res, 0, 0), old);
	adm_errmsg("store this token now: it cannot be shown again");
	rc = 0;
 out:
	if (res != NULL)
		adm_wipe_value(res, 0, 0);
	PQclear(res);
	return rc;
}

/*
 * issue-key KIND OWNER_ID [--label L] [--expires T]: prints the new key's
 * id and its token, once.
 */
int
adm_cmd_issue_key(PGconn *db, const struct adm_args *a)
{
	return key_token_print(db, a, ADM_ISSUE_KEY, PARAMS(a->pos[0],
	    a->pos[1], a->opt[OPT_LABEL], a->opt[OPT_EXPIRES]), NULL);
}

/* Says which keys 'word' could mean: their ids, kinds, states. */
static void
key_ambiguous(const struct adm_args *a, const char *word, const PGresult *res)
{
	int	 i;

	adm_errmsg("%s: %d keys have the display form %s; give the id of one:",
	    a->cmd->name, PQntuples(res), word);
	for (i = 0; i < PQntuples(res); i++)
		adm_errmsg("  %s  %s, %s, created %s", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 2), PQgetvalue(res, i, 4),
		    PQgetvalue(res, i, 3));
}

/*
 * The key that 'word' names, by id or by display form (cal_biz_WONP) when
 * only one key has it, into 'id'. 0, or -1 once said (none, several, or a
 * token given where a key belongs).
 */
static int
key_resolve(PGconn *db, const struct adm_args *a, const char *word,
    char id[ADM_UUID_LEN + 1])
{
	PGresult	*res;
	enum token_kind	 kind;
	int		 rc = -1;

	if (token_parse(word, strlen(word), &kind) == 0) {
		adm_errmsg("%s: that is a token, not a key: find-key TOKEN shows "
		    "its key's id", a->cmd->name);
		return -1;
	}
	if ((res = adm_query(db, ADM_KEY_RESOLVE, PARAMS(word))) == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		snprintf(id, ADM_UUID_LEN + 1, "%s", PQgetvalue(res, 0, 0));
		rc = 0;
	} else if (PQntuples(res) == 0)
		adm_errmsg("%s: no key with id or display form %s", a->cmd->name,
		    word);
	else
		key_ambiguous(a, word, res);
	PQclear(res);
	return rc;
}

/*
 * list-keys [--hub ID | --business ID] [--all]: live keys (all with --all)
 * as a table; a hub's include those of its businesses. 0, 1, or 2.
 */
int
adm_cmd_list_keys(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;
	int		 rc;

	if (a->opt[OPT_HUB] != NULL && a->opt[OPT_BUSINESS] != NULL) {
		adm_cmd_usage(a->cmd);
		return EXIT_USAGE;
	}
	res = adm_query(db, ADM_LIST_KEYS, PARAMS(a->opt[OPT_HUB],
	    a->opt[OPT_BUSINESS], a->opt[OPT_ALL] != NULL ? "true" : "false"));
	if (res == NULL)
		return 1;
	rc = adm_print(a, res, ADM_TABLE) == 0 ? 0 : 1;
	PQclear(res);
	return rc;
}

/*
 * Reads a token from stdin into 'buf' ('size' bytes), without its newline.
 * 0, or -1 once said.
 */
static int
token_read(const struct adm_args *a, char *buf, size_t size)
{
	if (fgets(buf, (int)size, stdin) == NULL) {
		adm_errmsg("%s: no token on stdin", a->cmd->name);
		return -1;
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

/*
 * find-key TOKEN|-: the key of a token (- : read from stdin), looked up by
 * its SHA-256, computed here so that the token never travels; prints the
 * key without the token, and wipes the token from argv. 0, or 1.
 */
int
adm_cmd_find_key(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;
	enum token_kind	 kind;
	char		 line[256], hex[TOKEN_HASH_LEN * 2 + 1];
	char		*tok = a->pos[0];
	int		 rc = 1;

	if (strcmp(tok, "-") == 0) {
		if (token_read(a, line, sizeof(line)) == -1)
			return 1;
		tok = line;
	}
	if (token_parse(tok, strlen(tok), &kind) == -1 || kind == TOKEN_SESSION) {
		adm_errmsg("%s: not a well-formed hub, business or publishable "
		    "token", a->cmd->name);
		goto out;
	}
	token_hash_hex(tok, hex);
	if ((res = adm_query(db, ADM_FIND_KEY, PARAMS(hex))) == NULL)
		goto out;
	if (PQntuples(res) == 0)
		adm_errmsg("%s: no key has this token", a->cmd->name);
	else
		rc = adm_print(a, res, ADM_RECORD) == 0 ? 0 : 1;
	PQclear(res);
 out:
	sodium_memzero(tok, strlen(tok));
	return rc;
}

/* revoke-key KEY: effective on the very next request. */
int
adm_cmd_revoke_key(PGconn *db, const struct adm_args *a)
{
	char	 id[ADM_UUID_LEN + 1], line[80];

	if (key_resolve(db, a, a->pos[0], id) == -1 ||
	    adm_exec(db, ADM_REVOKE_KEY, PARAMS(id)) == -1)
		return 1;
	snprintf(line, sizeof(line), "revoked %s", id);
	return adm_print_done(a, line, PARAMS("id", id, "state", "revoked",
	    NULL)) == 0 ? 0 : 1;
}

/*
 * roll-key KEY [--grace INTERVAL]: prints the replacement's id and token,
 * once; says until when the old key works.
 */
int
adm_cmd_roll_key(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;
	char		 id[ADM_UUID_LEN + 1];

	if (key_resolve(db, a, a->pos[0], id) == -1 ||
	    key_token_print(db, a, ADM_ROLL_KEY,
	    PARAMS(id, a->opt[OPT_GRACE]), id) != 0)
		return 1;
	if ((res = adm_query(db, ADM_KEY_EXPIRES, PARAMS(id))) == NULL)
		return 1;
	if (PQntuples(res) == 1)
		adm_errmsg("key %s keeps working until %s", id,
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
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
		if ((s = json_object_new_string(origins[i])) == NULL ||
		    json_object_array_add(list, s) != 0) {
			json_object_put(s);
			json_object_put(list);
			return NULL;
		}
	}
	return list;
}

/* The origins key 'id' now has, as stored (--json: {"id", "origins"}). */
static int
origins_print(PGconn *db, const struct adm_args *a, const char *id)
{
	PGresult	*res;
	int		 rc = 1;

	if ((res = adm_query(db, ADM_KEY_ORIGINS, PARAMS(id))) == NULL)
		return 1;
	if (a->json)
		rc = adm_print(a, res, ADM_RECORD) == 0 ? 0 : 1;
	else {
		printf("key %s: %s\n", id, PQgetisnull(res, 0, 1) ?
		    "any origin" : PQgetvalue(res, 0, 1));
		rc = 0;
	}
	PQclear(res);
	return rc;
}

/*
 * set-origins KEY [ORIGIN ...]: where a publishable key may be used from
 * (none: any); the database stores them as browsers send them
 * (normalize_origin()) and refuses anything but scheme://host[:port].
 */
int
adm_cmd_set_origins(PGconn *db, const struct adm_args *a)
{
	json_object	*list = NULL;
	const char	*json = NULL;
	char		 id[ADM_UUID_LEN + 1];
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
	if (key_resolve(db, a, a->pos[0], id) == -1 ||
	    adm_exec(db, ADM_SET_ORIGINS, PARAMS(id, json)) == -1)
		goto out;
	rc = origins_print(db, a, id);
 out:
	json_object_put(list);
	return rc;
}

/*
 * grant ROLE: gives an existing role what the workers and the webhook
 * sender need, and nothing more (calendence.grant_worker()); prints how many
 * tables it covered.
 */
int
adm_cmd_grant(PGconn *db, const struct adm_args *a)
{
	return adm_print_value(db, a, ADM_GRANT_WORKER, PARAMS(a->pos[0]));
}

/* maintenance: removes dead sessions and rate windows; prints the counts. */
int
adm_cmd_maintenance(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;

	if ((res = adm_query(db, ADM_MAINTENANCE, NULL)) == NULL)
		return 1;
	if (a->json)
		adm_print(a, res, ADM_RECORD);
	else
		printf("sessions removed: %s\nrate windows removed: %s\n",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}

/* Whether --since names a date or time (YYYY-MM-DD...), not an interval. */
static bool
since_is_time(const char *s)
{
	int	 i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/*
 * usage [--key KEY] [--business ID] [--since WHEN]: per hour, the requests
 * admitted, refused (429) and with failed credentials (401, per client IP)
 * of a key (by id or display form), a business or all, since WHEN (a date
 * or time, or an interval ago; a day by default), as a table. 0, or 1.
 */
int
adm_cmd_usage_counts(PGconn *db, const struct adm_args *a)
{
	PGresult	*res;
	const char	*since = a->opt[OPT_SINCE];
	char		 id[ADM_UUID_LEN + 1];
	int		 rc;

	if (a->opt[OPT_KEY] != NULL &&
	    key_resolve(db, a, a->opt[OPT_KEY], id) == -1)
		return 1;
	res = adm_query(db, ADM_USAGE, PARAMS(a->opt[OPT_KEY] != NULL ? id : NULL,
	    since != NULL && since_is_time(since) ? since : NULL,
	    since != NULL && !since_is_time(since) ? since : NULL,
	    a->opt[OPT_BUSINESS]));
	if (res == NULL)
		return 1;
	rc = adm_print(a, res, ADM_TABLE) == 0 ? 0 : 1;
	PQclear(res);
	return rc;
}
