/* auth.c: Bearer credential -> principal, its admission by ratelimit.c's rules, permission. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>
#include <sys/mman.h>

#include "worker.h"
#include "auth.h"
#include "db.h"
#include "response.h"
#include "router.h"
#include "usage.h"

static const struct {
	const char	*status;	/* as authenticate() says it */
	const char	*code;
	const char	*message;
} failures[] = {
	{ NULL, "missing_api_key",
	    "No API key was given: send \"Authorization: Bearer <key>\"." },
	{ "unknown", "invalid_api_key", "The API key is not valid." },
	{ "revoked", "api_key_revoked", "The API key has been revoked." },
	{ "expired", "api_key_expired", "The API key has expired." },
	{ "session_expired", "session_expired",
	    "The session has expired or was ended; exchange the publishable key again." },
};

enum failure { F_MISSING, F_INVALID, F_REVOKED, F_EXPIRED, F_SESSION, F__MAX };

#define HUB_OR_BUSINESS	(TOKEN_BIT(TOKEN_HUB) | TOKEN_BIT(TOKEN_BUSINESS))
#define PUB_OR_SESSION	(TOKEN_BIT(TOKEN_PUBLISHABLE) | TOKEN_BIT(TOKEN_SESSION))

/*
 * The message of 403 key_type_not_allowed: what to call the endpoint with.
 * The first row whose kind (any, when not a token kind) and route's kinds
 * (any, when 0) fit.
 */
static const struct {
	int		 kind;		/* enum token_kind, or -1 for any */
	unsigned	 kinds;		/* the route's allowed kinds, or 0 for any */
	const char	*message;
} kind_messages[] = {
	{ TOKEN_PUBLISHABLE, 0, "A publishable key can only be exchanged for a session "
	    "(POST /api/v1/session); call this endpoint with the session token." },
	{ -1, HUB_OR_BUSINESS, "This endpoint needs a hub or business key." },
	{ -1, PUB_OR_SESSION, "This endpoint exchanges a publishable key (or refreshes "
	    "a session token) for a session; hub and business keys call the API "
	    "directly." },
	{ -1, TOKEN_BIT(TOKEN_SESSION), "This endpoint ends the session it is called "
	    "with: call it with the session token." },
	{ -1, 0, "This kind of key may not call this endpoint." },
};

/*
 * Finds the token in an Authorization header: the scheme "Bearer" in any
 * case, one or more spaces, the token (trailing blanks ignored). Returns 0
 * with *tok and *len set, or -1 when there is no Bearer credential.
 */
int
auth_bearer(const char *hdr, const char **tok, size_t *len)
{
	const char	*p;
	size_t		 n;

	if (hdr == NULL || strncasecmp(hdr, "Bearer", 6) != 0 || hdr[6] != ' ')
		return -1;
	for (p = hdr + 6; *p == ' '; p++)
		;
	n = strlen(p);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0)
		return -1;
	*tok = p;
	*len = n;
	return 0;
}

static long long
now_seconds(void)
{
	return (long long)time(NULL);
}

static void
reply_401(struct request *r, enum failure f, int presented)
{
	resp_header(r, "WWW-Authenticate", "Bearer realm=\"calendence\"%s",
	    presented ? ", error=\"invalid_token\"" : "");
	resp_error(r, 401, failures[f].code, NULL, failures[f].message);
}

/* 401, or 429 once the client IP's failed-credentials window is used up. */
static void
fail_counted(struct request *r, enum failure f, int presented, int admitted)
{
	unsigned char	 d[RL_DIGEST_LEN];

	if (admitted) {
		reply_401(r, f, presented);
		return;
	}
	rl_cache_key(RL_TRAFFIC_FAILED, r->ip_subject, NULL, d);
	rl_refuse(&r->worker->refusals, d, &r->rl, "a:", r->ip_subject);
	resp_rate_limited(r);
}

/* A 429 answered from memory: counted for usage as the database counts its own. */
static void
refused_from_memory(struct request *r)
{
	usage_refused(r->worker, &r->rl);
	resp_rate_limited(r);
}

/*
 * Credentials that fail without asking who they belong to: counted in the
 * IP's auth window (from memory once it is exhausted).
 */
static int
fail_or_reply(struct request *r, enum failure f, int presented)
{
	struct worker	*w = r->worker;
	unsigned char	 d[RL_DIGEST_LEN];
	char		 limit[16];
	const char	*params[2] = { r->ip_subject, limit };
	PGresult	*res;
	int		 st;

	rl_cache_key(RL_TRAFFIC_FAILED, r->ip_subject, NULL, d);
	if (rl_cache_get(&w->refusals, d, now_seconds(), &r->rl)) {
		refused_from_memory(r);
		return -1;
	}
	snprintf(limit, sizeof(limit), "%d", w->conf.auth_fail_limit);
	if ((st = db_exec(&w->db, STMT_AUTH_FAIL, params, &res)) != DB_OK) {
		resp_unavailable(r, st);
		return -1;
	}
	if (PQgetvalue(res, 0, 3)[0] == 't') {	/* the window's row is held */
		PQclear(res);
		resp_unavailable(r, DB_UNAVAILABLE);
		return -1;
	}
	rl_fill(&r->rl, RL_AUTH, atoll(PQgetvalue(res, 0, 2)),
	    w->conf.auth_fail_limit, atoi(PQgetvalue(res, 0, 1)), 0, 0,
	    PQgetvalue(res, 0, 0)[0] == 't');
	PQclear(res);
	fail_counted(r, f, presented, !r->rl.refused);
	return -1;
}

static const char *
col(const struct request *r, enum db_auth_col c)
{
	return PQgetisnull(r->auth_res, 0, c) ? NULL : PQgetvalue(r->auth_res, 0, c);
}

static int
col_true(const struct request *r, enum db_auth_col c)
{
	const char	*v = col(r, c);

	return v != NULL && v[0] == 't';
}

static int
col_int(const struct request *r, enum db_auth_col c)
{
	const char	*v = col(r, c);

	return v ? atoi(v) : 0;
}

static void
principal_fill(struct request *r, enum token_kind kind)
{
	struct principal *p = &r->principal;

	p->kind = kind;
	p->key_id = col(r, AC_KEY_ID);
	p->hub_id = col(r, AC_HUB_ID);
	p->business_id = col(r, AC_BUSINESS_ID);
	p->business_name = col(r, AC_BUSINESS_NAME);
	p->business_timezone = col(r, AC_BUSINESS_TZ);
	p->publishable_key_id = col(r, AC_PUB_KEY_ID);
	p->root_session_id = col(r, AC_ROOT_SESSION);
	p->full_api_access = col_true(r, AC_FULL_API);
	p->business_ok = col_true(r, AC_BUSINESS_OK);
	p->business_active = col_true(r, AC_BUSINESS_ACTIVE);
	p->origin_ok = col_true(r, AC_ORIGIN_OK);
}

/* The Calendence-Business header in lowercase; 0 when absent, -1 when no UUID. */
static int
business_header(const struct request *r, char out[37])
{
	size_t	 i;

	if (r->business_hdr == NULL)
		return 0;
	if (strlen(r->business_hdr) != 36)
		return -1;
	for (i = 0; i <= 36; i++)
		out[i] = (char)tolower((unsigned char)r->business_hdr[i]);
	return uuid_valid(out) ? 1 : -1;
}

/*
 * The worker's memory of when each key's last_used_at is next due, so that
 * the admission refreshes it only then (ADMIT_TOUCH) and is the lighter
 * statement the rest of the minute (ADMIT_QUIET): KEY_USES words, each the
 * token hash's first 4 bytes (| 1: 0 is an empty word) over the time(NULL)
 * from which it may be due, in a bucket of KEY_USES_WAYS words chosen by
 * the hash's next 3 bytes (direct-mapped, a quarter of 10,000 keys shared
 * a word with another and were never known fresh: make bench, row a).
 * Shared by a pool's workers (mapped by the supervisor before the fork, so
 * that a key fresh for one is fresh for all); a word is read and written
 * whole, so two workers writing one word leave one key's word or the
 * other's. Whatever the memory says, the statement writes only when the
 * key's last_used_at is a minute old: a word lost or shared costs a refresh
 * at most a minute late, or a heavier statement than needed.
 */
uint64_t *
key_uses_new(void)
{
	void	*p = mmap(NULL, KEY_USES * sizeof(uint64_t), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void
key_uses_free(uint64_t *u)
{
	if (u != NULL)
		munmap(u, KEY_USES * sizeof(uint64_t));
}

/* A key's bucket of KEY_USES_WAYS words (one cache line), and its tag there. */
static uint64_t *
uses_bucket(const struct worker *w, const unsigned char *hash, uint64_t *tag)
{
	*tag = ((uint64_t)hash[0] << 24 | (uint64_t)hash[1] << 16 | (uint64_t)hash[2] << 8 |
	    hash[3] | 1) << 32;
	return w->uses + ((size_t)hash[4] | (size_t)hash[5] << 8 | (size_t)hash[6] << 16) %
	    (KEY_USES / KEY_USES_WAYS) * KEY_USES_WAYS;
}

#define USES_TAG(v)	((v) & ~(uint64_t)UINT32_MAX)
#define USES_DUE(v)	((v) & UINT32_MAX)

/*
 * The variant of the admission statement (db.h enum admit_variant) for a
 * token of kind: a session's; a key's that refreshes last_used_at while it
 * may be due (a key not seen, or not for a minute, or whose refresh was
 * skipped), or the lighter one without.
 */
static enum admit_variant
admit_variant(const struct worker *w, enum token_kind kind, const unsigned char *hash)
{
	uint64_t	 tag, v, *b;
	int		 i;

	if (kind == TOKEN_SESSION)
		return ADMIT_SESSION;
	if (w->uses == NULL)
		return ADMIT_TOUCH;
	b = uses_bucket(w, hash, &tag);
	for (i = 0; i < KEY_USES_WAYS; i++) {
		v = __atomic_load_n(&b[i], __ATOMIC_RELAXED);
		if (USES_TAG(v) == tag)
			return (uint64_t)now_seconds() < USES_DUE(v) ? ADMIT_QUIET : ADMIT_TOUCH;
	}
	return ADMIT_TOUCH;
}

/*
 * Notes from a key's admission (its last_used_at after it, AC_LAST_USED,
 * and the statement's now, AC_NOW) when the key is next due: a minute after
 * that last use, a second early (the epochs are whole seconds), in this
 * worker's clock; in its own word of the bucket, else an empty one, else
 * the one due first. Failed credentials empty the key's word.
 */
static void
key_used(struct worker *w, const unsigned char *hash, const PGresult *res)
{
	uint64_t	 tag, v, *b, *to = NULL, was = 0;
	long long	 due;
	int		 i;

	if (w->uses == NULL)
		return;
	b = uses_bucket(w, hash, &tag);
	for (i = 0; i < KEY_USES_WAYS; i++) {
		v = __atomic_load_n(&b[i], __ATOMIC_RELAXED);
		if (USES_TAG(v) == tag) {
			to = &b[i];
			was = v;
			break;
		}
		if (to == NULL || USES_DUE(v) < USES_DUE(was)) {
			to = &b[i];
			was = v;
		}
	}
	if (PQntuples(res) != 1 || PQnfields(res) < AC_ADMIT__MAX ||
	    PQgetisnull(res, 0, AC_LAST_USED) || PQgetisnull(res, 0, AC_NOW)) {
		if (USES_TAG(was) == tag)
			__atomic_store_n(to, 0, __ATOMIC_RELAXED);
		return;
	}
	due = now_seconds() + atoll(PQgetvalue(res, 0, AC_LAST_USED)) + 60 -
	    atoll(PQgetvalue(res, 0, AC_NOW)) - 1;
	if (due < 0 || due > UINT32_MAX)
		due = 0;
	/* most requests learn what the word says: no write to the shared line */
	if (was != (tag | (uint64_t)due))
		__atomic_store_n(to, tag | (uint64_t)due, __ATOMIC_RELAXED);
}

/* Runs the admission for a well-formed token; -1 when the reply is written. */
static int
lookup_or_reply(struct request *r, enum token_kind kind, const unsigned char *hash)
{
	char		 hex[2 + 2 * TOKEN_HASH_LEN + 1], limit[16], biz[37];
	const char	*params[6 + REQ_FUSE_ARGS], *business = NULL;
	enum stmt	 s = STMT_ADMIT;
	int		 st;

	memcpy(hex, "\\x", 2);
	sodium_bin2hex(hex + 2, sizeof(hex) - 2, hash, TOKEN_HASH_LEN);
	snprintf(limit, sizeof(limit), "%d", r->worker->conf.auth_fail_limit);
	if (kind == TOKEN_HUB && r->route->scope == SCOPE_BUSINESS &&
	    business_header(r, biz) == 1)
		business = biz;
	if (r->route == &routes[ROUTE_SESSION_CREATE]) {
		/* an exchange or a refresh: authenticate(), for its two windows */
		s = STMT_AUTHENTICATE;
		params[0] = hex;
		params[1] = token_kind_name(kind);
		params[2] = "t";
		params[3] = r->ip_subject;
		params[4] = business;
		params[5] = r->origin_hdr;
		params[6] = limit;
	} else {
		/* the plain statement (db.c ADMIT_SQL), with the handler's if fused */
		params[0] = hex;
		params[1] = token_kind_name(kind);
		params[2] = r->ip_subject;
		params[3] = business;
		params[4] = r->origin_hdr; /* an origin we would not echo matches none */
		params[5] = limit;
		if (r->route->fuse != NULL && r->route->fuse(r, params + 6) == 0) {
			s = (enum stmt)r->route->fused;
			r->fused = 1;
		}
		s = (enum stmt)(s + admit_variant(r->worker, kind, hash));
	}
	if ((st = db_exec(&r->worker->db, s, params, &r->auth_res)) != DB_OK) {
		resp_unavailable(r, st);
		return -1;
	}
	if (s != STMT_AUTHENTICATE && kind != TOKEN_SESSION)
		key_used(r->worker, hash, r->auth_res);
	return 0;
}

/* Admission of a request with valid credentials; -1 when refused (429). */
static int
admit_or_reply(struct request *r, const unsigned char *cache_key)
{
	enum rl_kind	 k = rl_kind_of(col(r, AC_WINDOW));

	rl_fill(&r->rl, k, atoll(col(r, AC_NOW)), col_int(r, AC_MINUTE_LIMIT),
	    col_int(r, AC_MINUTE_COUNT), col_int(r, AC_HOUR_LIMIT),
	    col_int(r, AC_HOUR_COUNT), col_true(r, AC_ADMITTED));
	if (k == RL_REFRESH)
		rl_fill_session(&r->rl, col_int(r, AC_SESSION_LIMIT),
		    col_int(r, AC_SESSION_COUNT));
	if (!r->rl.refused)
		return 0;
	/* the window that refused, as authenticate() named its subject */
	if (k == RL_EXCHANGE || (k == RL_REFRESH &&
	    col_int(r, AC_SESSION_COUNT) >= col_int(r, AC_SESSION_LIMIT)))
		rl_refuse(&r->worker->refusals, cache_key, &r->rl, "x:", r->ip_subject);
	else if (r->principal.kind == TOKEN_SESSION)
		rl_refuse(&r->worker->refusals, cache_key, &r->rl, "s:",
		    r->principal.root_session_id);
	else
		rl_refuse(&r->worker->refusals, cache_key, &r->rl, "k:", r->principal.key_id);
	resp_rate_limited(r);
	return -1;
}

static int
forbid(struct request *r, const char *code, const char *message)
{
	resp_error(r, 403, code, NULL, message);
	return -1;
}

/* The message of key_type_not_allowed for a key of kind on a route of kinds. */
static const char *
kind_message(enum token_kind kind, unsigned kinds)
{
	size_t	 i;

	for (i = 0; i < sizeof(kind_messages) / sizeof(kind_messages[0]) - 1; i++)
		if ((kind_messages[i].kind == -1 || kind_messages[i].kind == (int)kind) &&
		    (kind_messages[i].kinds == 0 || kind_messages[i].kinds == kinds))
			return kind_messages[i].message;
	return kind_messages[i].message;
}

/* Step 4 of the order of checks: 400 business_required, then the 403s. */
static int
permit_or_reply(struct request *r)
{
	const struct principal *p = &r->principal;
	const struct route *rt = r->route;
	char		 biz[37];
	int		 hdr = business_header(r, biz);
	/* the request acts for one business: a hub key's named one, else the key's */
	int		 one = rt->scope == SCOPE_BUSINESS || p->kind != TOKEN_HUB;
	/* a key of a business may name only its own (ignored on /businesses) */
	int		 other = p->kind != TOKEN_HUB && rt->scope != SCOPE_BUSINESSES &&
			    hdr != 0 && (hdr == -1 || strcmp(biz, p->business_id) != 0);

	if (p->kind == TOKEN_HUB && rt->scope == SCOPE_BUSINESS && hdr == 0) {
		resp_error(r, 400, "business_required", "Calendence-Business",
		    "A hub key must name the business in the Calendence-Business header.");
		return -1;
	}
	if ((rt->kinds & TOKEN_BIT(p->kind)) == 0)
		return forbid(r, "key_type_not_allowed", kind_message(p->kind, rt->kinds));
	if ((p->kind == TOKEN_HUB || p->kind == TOKEN_BUSINESS) && !p->full_api_access &&
	    !rt->any_plan)
		return forbid(r, "plan_upgrade_required",
		    "The plan of this account does not include full API access.");
	if (one && p->business_ok && !p->business_active)
		return forbid(r, "business_inactive", "The business is inactive.");
	if (one && (!p->business_ok || other))
		return forbid(r, "business_not_accessible",
		    "This key cannot reach that business.");
	if (!p->origin_ok)
		return forbid(r, "origin_not_allowed",
		    "This key may not be used from this origin.");
	return 0;
}

static enum failure
failure_of(const char *status)
{
	int	 i;

	for (i = F_INVALID; i < F__MAX; i++)
		if (strcmp(status, failures[i].status) == 0)
			return (enum failure)i;
	return F_INVALID;
}

/* A token that authenticate() refused: 401 or 429, counted per IP. */
static int
refused_or_reply(struct request *r, enum token_kind kind, const unsigned char *hash)
{
	enum failure	 f = failure_of(col(r, AC_STATUS));

	rl_fill(&r->rl, RL_AUTH, atoll(col(r, AC_NOW)), col_int(r, AC_MINUTE_LIMIT),
	    col_int(r, AC_MINUTE_COUNT), 0, 0, col_true(r, AC_ADMITTED));
	/*
	 * Unknown, revoked, expired or ended: remembered with its answer, so
	 * that the token's next request costs only the IP's auth window (and
	 * nothing once that is exhausted). A DBA's un-revoke or new expiry
	 * shows within RL_CACHE_TTL (SPEC 1). Not a session's "expired": that
	 * is its publishable key's, and refuses only a refresh.
	 */
	r->rl.tag = (int)f;
	if (kind != TOKEN_SESSION || f != F_EXPIRED)
		rl_cache_put(&r->worker->unknown, hash, &r->rl,
		    now_seconds() + RL_CACHE_TTL);
	fail_counted(r, f, 1, !r->rl.refused);
	return -1;
}

/*
 * Steps 2 to 4 of the order of checks (SPEC 3): credentials, admission,
 * permission. Returns 0 with r->principal and r->rl set, or -1 when the
 * response (401, 429, 400, 403, 503) is already written.
 */
int
auth_or_reply(struct request *r)
{
	unsigned char	 hash[TOKEN_HASH_LEN], key[RL_DIGEST_LEN];
	struct rl_state	 cached;
	enum token_kind	 kind;
	const char	*tok;
	size_t		 len;

	if (auth_bearer(r->authorization, &tok, &len) == -1)
		return fail_or_reply(r, F_MISSING, 0);
	if (token_parse(tok, len, &kind) == -1)
		return fail_or_reply(r, F_INVALID, 1);
	token_display(tok, r->display);
	token_hash(tok, len, hash);
	rl_cache_key(r->route != &routes[ROUTE_SESSION_CREATE] ? RL_TRAFFIC_API :
	    kind == TOKEN_PUBLISHABLE ? RL_TRAFFIC_EXCHANGE : RL_TRAFFIC_REFRESH,
	    r->ip_subject, hash, key);
	if (rl_cache_get(&r->worker->refusals, key, now_seconds(), &r->rl)) {
		refused_from_memory(r);
		return -1;
	}
	if (rl_cache_get(&r->worker->unknown, hash, now_seconds(), &cached))
		return fail_or_reply(r, cached.tag > F_MISSING && cached.tag < F__MAX ?
		    (enum failure)cached.tag : F_INVALID, 1);
	if (lookup_or_reply(r, kind, hash) == -1)
		return -1;
	if (strcmp(col(r, AC_STATUS), "stalled") == 0) {
		/* a window's row is held by another transaction: not waited for */
		resp_unavailable(r, DB_UNAVAILABLE);
		return -1;
	}
	if (strcmp(col(r, AC_STATUS), "ok") != 0)
		return refused_or_reply(r, kind, hash);
	principal_fill(r, kind);
	if (admit_or_reply(r, key) == -1)
		return -1;
	return permit_or_reply(r);
}
