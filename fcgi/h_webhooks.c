/* h_webhooks.c: a business's webhooks and their delivery logs (SPEC 11). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"
#include "kit.h"
#include "page.h"
#include "response.h"
#include "seal.h"
#include "worker.h"

/*
 * The 201 of a creation: the webhook's JSON from SQL with the secret added,
 * the one time it is shown. 500 when the JSON cannot be read.
 */
static void
created_reply(struct request *r, const char *body, const char *secret)
{
	json_object	*obj = json_tokener_parse(body);

	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		resp_error(r, 500, "internal_error", NULL, "internal error");
		return;
	}
	json_object_object_add(obj, "secret", json_object_new_string(secret));
	resp_json(r, 201, obj);		/* consumes 'obj' */
}

/*
 * POST /api/v1/webhooks {url, events, description?}
 * 201 {id, url, events, description, active, created_at, secret}: the
 * secret ("whsec_" + 32 base62) is shown here only and stored sealed;
 * 409 webhook_limit_reached past 10 webhooks; 422 naming url (missing, not
 * https:// unless the server allows http://, malformed), events (missing,
 * empty, not a list of known event names) or description (over 500
 * characters); 503 webhooks_unavailable when the server has no
 * webhook_key_file; 503.
 */
void
h_webhooks_create(struct request *r)
{
	const struct conf *c = &r->worker->conf;
	const char	*url, *events, *desc;
	char		 secret[SEAL_SECRET_LEN + 1], box[SEAL_BOX_HEX_LEN + 1];
	PGresult	*res;

	if (c->webhook_key_file[0] == '\0') {
		resp_error(r, 503, "webhooks_unavailable", NULL,
		    "Webhooks are not set up on this server (webhook_key_file).");
		return;
	}
	if (kit_member_or_reply(r, "url", json_type_string, &url) == -1 ||
	    kit_member_or_reply(r, "events", json_type_array, &events) == -1 ||
	    kit_member_or_reply(r, "description", json_type_string, &desc) == -1)
		return;
	seal_secret_new(secret);
	if (seal_close_hex(c->webhook_key, secret, box) == -1)
		resp_error(r, 500, "internal_error", NULL, "internal error");
	else if (kit_call_or_reply(r, STMT_WEBHOOK_CREATE, KIT_ARGS(r->principal.business_id,
	    url, events, desc, box, c->webhook_allow_http ? "true" : "false"), &res) == 0) {
		if (strcmp(PQgetvalue(res, 0, OC_STATUS), "ok") == 0 &&
		    !PQgetisnull(res, 0, OC_BODY))
			created_reply(r, PQgetvalue(res, 0, OC_BODY), secret);
		else
			kit_outcome_reply(r, res, 201);
		PQclear(res);
	}
	sodium_memzero(secret, sizeof(secret));
}

/*
 * GET /api/v1/webhooks
 * 200 with a page of the business's webhooks, oldest first (no secrets);
 * 422 for page or per_page; 503.
 */
void
h_webhooks_list(struct request *r)
{
	kit_list(r, STMT_WEBHOOKS_LIST, "/api/v1/webhooks",
	    KIT_ARGS(r->principal.business_id));
}

/*
 * GET /api/v1/webhooks/{id}
 * 200 with the webhook (no secret); 404 for a malformed id or another
 * business's webhook; 503.
 */
void
h_webhooks_get(struct request *r)
{
	kit_get(r, STMT_WEBHOOKS_GET, "No such webhook.",
	    KIT_ARGS(r->principal.business_id, r->args[0]));
}

/*
 * DELETE /api/v1/webhooks/{id}
 * 204, the webhook and its delivery log gone (nothing more is sent for
 * it); 404 as for GET (a second DELETE too); 503.
 */
void
h_webhooks_delete(struct request *r)
{
	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such webhook.");
		return;
	}
	kit_outcome(r, STMT_WEBHOOK_DELETE, 204,
	    KIT_ARGS(r->principal.business_id, r->args[0]));
}

/*
 * GET /api/v1/webhooks/{id}/deliveries
 * 200 with a page of the webhook's delivery log, newest first: {id,
 * event_id, event, status, attempts, last_status_code, last_error,
 * next_attempt_at, created_at, delivered_at}; 404 as for GET; 422 for page
 * or per_page; 503.
 */
void
h_webhooks_deliveries(struct request *r)
{
	char	 path[96];

	if (!uuid_valid(r->args[0])) {
		resp_error(r, 404, "not_found", NULL, "No such webhook.");
		return;
	}
	snprintf(path, sizeof(path), "/api/v1/webhooks/%s/deliveries", r->args[0]);
	kit_list_checked(r, STMT_WEBHOOK_DELIVERIES, path, NULL,
	    KIT_ARGS(r->principal.business_id, r->args[0]));
}

/*
 * POST /api/v1/webhooks/{id}/deliveries/{delivery_id}/retry
 * 202 with the delivery, pending again: one that ended (succeeded or
 * failed) gets a fresh count of attempts, a pending one is due now (an
 * attempt under way is left to finish); 404 when either id is malformed or
 * unknown, or the delivery is another webhook's; 503.
 */
void
h_webhooks_retry(struct request *r)
{
	if (!uuid_valid(r->args[0]) || !uuid_valid(r->args[1])) {
		resp_error(r, 404, "not_found", NULL, "No such delivery.");
		return;
	}
	kit_outcome(r, STMT_WEBHOOK_RETRY, 202,
	    KIT_ARGS(r->principal.business_id, r->args[0], r->args[1]));
}
