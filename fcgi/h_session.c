/* h_session.c: POST /api/v1/session (exchange, refresh) and DELETE (end). */
#include <string.h>

#include <sodium.h>

#include "kit.h"
#include "handlers.h"
#include "response.h"
#include "token.h"

static json_object *
business_json(const struct principal *p)
{
	json_object	*b = json_object_new_object();

	json_object_object_add(b, "id", json_object_new_string(p->business_id));
	json_object_object_add(b, "name", json_object_new_string(p->business_name));
	json_object_object_add(b, "timezone",
	    json_object_new_string(p->business_timezone));
	return b;
}

/*
 * POST /api/v1/session
 * With a publishable key: a new session of one hour for its business. With
 * a live session token: a refresh, a new session in the same chain (the old
 * token lives on until its own expiry). 201 {session_token, expires_at,
 * business}; 503 when the database is unreachable.
 */
void
h_session_create(struct request *r)
{
	const struct principal *p = &r->principal;
	char		 tok[TOKEN_LEN + 1], hex[2 + 2 * TOKEN_HASH_LEN + 1];
	unsigned char	 hash[TOKEN_HASH_LEN];
	PGresult	*res;
	json_object	*o;
	int		 refresh = p->kind == TOKEN_SESSION;

	token_generate(TOKEN_SESSION, tok);
	token_hash(tok, TOKEN_LEN, hash);
	memcpy(hex, "\\x", 2);
	sodium_bin2hex(hex + 2, sizeof(hex) - 2, hash, sizeof(hash));
	if (kit_call_or_reply(r, STMT_SESSION_CREATE, KIT_ARGS(hex, p->business_id,
	    refresh ? p->publishable_key_id : p->key_id,
	    refresh ? p->root_session_id : NULL,
	    r->client_ok ? r->client_ip : NULL), &res) == -1) {
		sodium_memzero(tok, sizeof(tok));
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "session_token", json_object_new_string(tok));
	json_object_object_add(o, "expires_at",
	    json_object_new_string(PQgetvalue(res, 0, 1)));
	json_object_object_add(o, "business", business_json(p));
	resp_json(r, 201, o);
	sodium_memzero(tok, sizeof(tok));
	PQclear(res);
}

/*
 * DELETE /api/v1/session
 * Ends the calling session at once: 204; 503 when the database is away.
 */
void
h_session_delete(struct request *r)
{
	PGresult	*res;

	if (kit_call_or_reply(r, STMT_SESSION_END, KIT_ARGS(r->principal.key_id),
	    &res) == -1)
		return;
	PQclear(res);
	resp_empty(r, 204);
}
