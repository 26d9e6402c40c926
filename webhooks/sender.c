/*
 * sender.c: the webhook sender's loop (SPEC 11). Due deliveries are claimed
 * from PostgreSQL (calendence.webhook_claim(): FOR UPDATE SKIP LOCKED and a
 * lease, so any number of senders share the queue and each delivery is in
 * one sender's hands at a time), sent with libcurl's multi interface (up to
 * webhook_concurrency at once, each bounded by webhook_timeout), and the
 * outcome of every attempt recorded at once (webhook_record()). Woken by
 * NOTIFY on calendence_webhooks, and by a timer as the fallback.
 *
 * The destination is checked on the address libcurl is about to connect
 * to (its open-socket callback): the name is resolved once, and the socket
 * that is opened is the one to the address checked, so DNS cannot switch
 * it to a private address between the check and the connection.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "ip.h"
#include "log.h"
#include "sender.h"

#define CHANNEL		"calendence_webhooks"
#define LEASE_MARGIN	30000	/* ms a claim outlives the attempt's timeout */

static long long
now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A random (version 4) uuid, as text, into out. */
static void
new_uuid(char out[37])
{
	unsigned char	 b[16];

	randombytes_buf(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5], b[6],
	    b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static void
set_db(struct sender *s)
{
	db_init(&s->db, s->conf.database, s->conf.log_level,
	    (enum db_prepare)s->conf.prepared_statements, s->conf.db_timeout);
	db_for_sender(&s->db, CHANNEL);
}

/*
 * Sets up s from the settings c (read from config_path, for SIGHUP). 0, or
 * -1 when libcurl cannot be set up.
 */
int
sender_init(struct sender *s, const struct conf *c, const char *config_path)
{
	memset(s, 0, sizeof(*s));
	s->conf = *c;
	s->config_path = config_path;
	s->wake_fd = -1;
	new_uuid(s->id);
	set_db(s);
	s->nslots = c->webhook_concurrency;
	if ((s->slots = calloc((size_t)s->nslots, sizeof(*s->slots))) == NULL ||
	    (s->multi = curl_multi_init()) == NULL)
		return -1;
	return 0;
}

/* Frees an attempt's slot (its handle already out of the multi handle). */
static void
slot_free(struct attempt *a)
{
	curl_easy_cleanup(a->easy);
	curl_slist_free_all(a->headers);
	free(a->payload);
	memset(a, 0, sizeof(*a));
}

/*
 * Where the next attempt of a failed one is due, in ms from now, with up
 * to 10 % of jitter so that senders do not retry in step; -1 when attempt
 * number was the last.
 */
static int
retry_delay(const struct sender *s, int number)
{
	int	 d;

	if (number > s->conf.webhook_ndelays)
		return -1;
	d = s->conf.webhook_delays[number - 1];
	return d + (d >= 10 ? (int)randombytes_uniform((uint32_t)(d / 10)) : 0);
}

/*
 * Records the outcome of attempt a: code is the HTTP status (0: none came,
 * error says why). Returns the ms until its next attempt is due, or -1.
 */
static int
record(struct sender *s, struct attempt *a, long code, const char *error)
{
	char		 c[16], retry[16];
	int		 ok = code >= 200 && code <= 299, delay = ok ? -1 : retry_delay(s, a->number);
	const char	*args[5];
	PGresult	*res;

	snprintf(c, sizeof(c), "%ld", code);
	snprintf(retry, sizeof(retry), "%d", delay);
	args[0] = a->delivery;
	args[1] = s->id;
	args[2] = code > 0 ? c : NULL;
	args[3] = ok ? NULL : error;
	args[4] = delay >= 0 ? retry : NULL;
	log_msg(s->conf.log_level, ok ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, "delivery %s "
	    "webhook %s %s attempt %d: %s in %lld ms%s", a->delivery, a->webhook, a->event,
	    a->number, ok ? c : error, now_ms() - a->started, ok ? "" : delay >= 0 ?
	    ", tried again later" : ", failed for good");
	db_deadline(&s->db, 0);
	if (db_exec(&s->db, STMT_WH_RECORD, args, &res) != DB_OK) {
		log_msg(s->conf.log_level, LOG_LEVEL_ERROR, "delivery %s: the outcome could "
		    "not be recorded; it is sent again when its lease ends", a->delivery);
		return -1;
	}
	if (PQgetvalue(res, 0, 0)[0] != 't')
		log_msg(s->conf.log_level, LOG_LEVEL_WARN, "delivery %s: no longer ours to "
		    "record (lease over, or its webhook deleted)", a->delivery);
	PQclear(res);
	return delay;
}

/*
 * libcurl's open-socket callback: the one place a connection is made, on
 * the address libcurl resolved. An address that is not public unicast is
 * refused (the reason kept for the log) unless webhook_allow_private.
 */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct attempt	*a = arg;
	struct ip_addr	 ip;
	const char	*kind;
	char		 text[IP_STRLEN];

	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (!a->s->conf.webhook_allow_private) {
		if (ip_from_sockaddr(&addr->addr, &ip) == -1) {
			snprintf(a->refused, sizeof(a->refused), "refused: not an IP "
			    "destination");
			return CURL_SOCKET_BAD;
		}
		if ((kind = ip_special(&ip)) != NULL) {
			ip_format(&ip, text);
			snprintf(a->refused, sizeof(a->refused), "refused: the destination "
			    "%s is a %s address", text, kind);
			return CURL_SOCKET_BAD;
		}
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* The receiver's answer body is not kept. */
static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* The request headers of an attempt; 0, or -1 out of memory. */
static int
headers(struct attempt *a, const char *secret)
{
	char			 x[SIGN_HEADER_MAX], v1[SIGN_HEADER_MAX], h[128];
	const char *const	 fixed[] = { "Content-Type: application/json",
	    "User-Agent: Calendence-Webhooks/1", "Expect:", NULL };
	struct curl_slist	*l = NULL, *n;
	size_t			 i;

	sign_headers(secret, a->payload, strlen(a->payload), (long long)time(NULL), x, v1);
	for (i = 0; fixed[i] != NULL; i++)
		if ((n = curl_slist_append(l, fixed[i])) != NULL)
			l = n;
	if ((n = curl_slist_append(l, x)) != NULL)
		l = n;
	if ((n = curl_slist_append(l, v1)) != NULL)
		l = n;
	snprintf(h, sizeof(h), "X-Calendence-Event: %s", a->event);
	if ((n = curl_slist_append(l, h)) != NULL)
		l = n;
	snprintf(h, sizeof(h), "X-Calendence-Delivery: %s", a->delivery);
	if ((n = curl_slist_append(l, h)) != NULL)
		l = n;
	a->headers = l;
	return l != NULL ? 0 : -1;
}

/* The options of an attempt's transfer: where, what, and every bound. */
static void
options(struct sender *s, struct attempt *a, const char *url)
{
	CURL	*e = a->easy;

	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    s->conf.webhook_allow_http ? "http,https" : "https");
	curl_easy_setopt(e, CURLOPT_PROXY, "");		/* never the environment's */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)s->conf.webhook_timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)s->conf.webhook_timeout);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, a->payload);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(a->payload));
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, a);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, a);
}

static struct attempt *
free_slot(struct sender *s)
{
	int	 i;

	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].easy == NULL && s->slots[i].s == NULL)
			return &s->slots[i];
	return NULL;
}

/*
 * Starts the attempt of row i of a claim (delivery_id, webhook_id, url,
 * secret_box, event, payload, attempt) in slot a. A delivery that cannot
 * be sent at all (its secret does not open with this server's key) is
 * recorded as a failed attempt at once.
 */
static void
start(struct sender *s, struct attempt *a, const PGresult *res, int i)
{
	char	 secret[SEAL_SECRET_LEN + 1];

	a->s = s;
	snprintf(a->delivery, sizeof(a->delivery), "%s", PQgetvalue(res, i, 0));
	snprintf(a->webhook, sizeof(a->webhook), "%s", PQgetvalue(res, i, 1));
	snprintf(a->event, sizeof(a->event), "%s", PQgetvalue(res, i, 4));
	a->number = atoi(PQgetvalue(res, i, 6));
	a->started = now_ms();
	a->payload = strdup(PQgetvalue(res, i, 5));
	if (seal_open_hex(s->conf.webhook_key, PQgetvalue(res, i, 3), secret) == -1) {
		record(s, a, 0, "the secret does not open with this server's "
		    "webhook_key_file");
		slot_free(a);
		return;
	}
	if (a->payload == NULL || (a->easy = curl_easy_init()) == NULL ||
	    headers(a, secret) == -1) {
		sodium_memzero(secret, sizeof(secret));
		record(s, a, 0, "out of memory");
		slot_free(a);
		return;
	}
	sodium_memzero(secret, sizeof(secret));
	options(s, a, PQgetvalue(res, i, 2));
	curl_multi_add_handle(s->multi, a->easy);
	s->inflight++;
}

/*
 * Claims as many due deliveries as there are free slots and starts them.
 * Returns how many were claimed, or -1 when the database cannot be asked.
 */
static int
claim(struct sender *s)
{
	char		 limit[16], lease[16];
	const char	*args[3] = { s->id, limit, lease };
	PGresult	*res;
	int		 i, n, want = s->nslots - s->inflight;

	if (want <= 0)
		return 0;
	snprintf(limit, sizeof(limit), "%d", want);
	snprintf(lease, sizeof(lease), "%d", s->conf.webhook_timeout + LEASE_MARGIN);
	db_deadline(&s->db, 0);
	if (db_exec(&s->db, STMT_WH_CLAIM, args, &res) != DB_OK)
		return -1;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		struct attempt	*a = free_slot(s);

		if (a != NULL)
			start(s, a, res, i);
	}
	PQclear(res);
	return n;
}

/* What went wrong with a finished transfer, for the log and last_error. */
static void
failure_text(const struct attempt *a, CURLcode rc, long code, char *out, size_t len)
{
	if (a->refused[0] != '\0')
		snprintf(out, len, "%s", a->refused);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(out, len, "timed out after %d ms", a->s->conf.webhook_timeout);
	else if (rc != CURLE_OK)
		snprintf(out, len, "%s%s%s", curl_easy_strerror(rc),
		    a->errbuf[0] ? ": " : "", a->errbuf);
	else
		snprintf(out, len, "HTTP %ld", code);
}

/*
 * Records every transfer that ended, frees its slot. Returns the smallest
 * retry delay (ms) among them, or -1 when none is due again.
 */
static int
finish_done(struct sender *s)
{
	CURLMsg		*m;
	int		 left, next = -1, d;

	while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
		struct attempt	*a;
		long		 code = 0;
		char		 why[400];

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&a);
		if (m->data.result == CURLE_OK)
			curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code);
		failure_text(a, m->data.result, code, why, sizeof(why));
		curl_multi_remove_handle(s->multi, a->easy);
		d = record(s, a, m->data.result == CURLE_OK ? code : 0, why);
		if (d >= 0 && (next == -1 || d < next))
			next = d;
		slot_free(a);
		s->inflight--;
	}
	return next;
}

/*
 * A second SIGTERM: every attempt in flight is abandoned and its delivery
 * given back to the queue (webhook_release()), due at once for any sender.
 */
static void
release_all(struct sender *s)
{
	int	 i;

	for (i = 0; i < s->nslots; i++) {
		struct attempt	*a = &s->slots[i];
		const char	*args[2] = { a->delivery, s->id };
		PGresult	*res;

		if (a->easy == NULL)
			continue;
		curl_multi_remove_handle(s->multi, a->easy);
		db_deadline(&s->db, 0);
		if (db_exec(&s->db, STMT_WH_RELEASE, args, &res) == DB_OK)
			PQclear(res);
		log_msg(s->conf.log_level, LOG_LEVEL_WARN, "delivery %s: attempt %d "
		    "abandoned, given back to the queue", a->delivery, a->number);
		slot_free(a);
		s->inflight--;
	}
}

/* SIGHUP: the settings read again; on a mistake the old ones stay. */
static void
reload(struct sender *s)
{
	struct conf	 c;
	char		 err[1024];

	conf_defaults(&c);
	if (s->config_path != NULL && conf_load(&c, s->config_path, err,
	    sizeof(err)) == -1) {
		log_msg(s->conf.log_level, LOG_LEVEL_ERROR, "reload: %s; the settings "
		    "stay as they were", err);
		return;
	}
	if (c.webhook_key_file[0] == '\0') {
		log_msg(s->conf.log_level, LOG_LEVEL_ERROR, "reload: webhook_key_file is "
		    "not set; the settings stay as they were");
		return;
	}
	log_setup(c.log_format, "calendence-webhooks");
	db_cleanup(&s->db);
	/* the slots stay as many as at start (they are in use) */
	c.webhook_concurrency = s->nslots;
	s->conf = c;
	set_db(s);
	s->renew_multi = 1;	/* connections made under the old rules go */
	s->woken = 1;
	log_msg(s->conf.log_level, LOG_LEVEL_INFO, "settings reloaded");
}

/* Runs the maintenance function (old events removed) now and then. */
static void
maintain(struct sender *s, long long *next)
{
	PGresult	*res;

	if (s->conf.maintenance_interval == 0 || now_ms() < *next)
		return;
	*next = now_ms() + (long long)s->conf.maintenance_interval * 1000;
	db_deadline(&s->db, 0);
	if (db_exec(&s->db, STMT_WH_MAINTENANCE, NULL, &res) == DB_OK) {
		log_msg(s->conf.log_level, LOG_LEVEL_DEBUG, "maintenance: %s events "
		    "removed", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
}

/*
 * Waits until a transfer can move, a notification or a signal arrives, or
 * timeout ms pass; a notification sets s->woken.
 */
static void
wait_events(struct sender *s, int timeout)
{
	struct curl_waitfd	 fds[2];
	unsigned		 n = 0;
	int			 pg = db_socket(&s->db);
	char			 drain[64];

	if (s->wake_fd != -1) {
		fds[n].fd = s->wake_fd;
		fds[n].events = CURL_WAIT_POLLIN;
		fds[n++].revents = 0;
	}
	if (pg != -1) {
		fds[n].fd = pg;
		fds[n].events = CURL_WAIT_POLLIN;
		fds[n++].revents = 0;
	}
	curl_multi_poll(s->multi, fds, n, timeout, NULL);
	if (s->wake_fd != -1)
		while (read(s->wake_fd, drain, sizeof(drain)) > 0)
			;
	if (pg != -1 && db_notified(&s->db, NULL, NULL) > 0)
		s->woken = 1;
}

/* A new multi handle when the settings changed and nothing is in flight. */
static void
renew(struct sender *s)
{
	CURLM	*m;

	if (!s->renew_multi || s->inflight > 0 || (m = curl_multi_init()) == NULL)
		return;
	curl_multi_cleanup(s->multi);
	s->multi = m;
	s->renew_multi = 0;
}

/*
 * The loop, until SIGTERM: claims when woken or when the poll timer ends,
 * lets the transfers move, records each that ends. On SIGTERM it claims no
 * more and lets the attempts in flight end (each within webhook_timeout);
 * a second SIGTERM gives them back to the queue instead. Returns 0.
 */
int
sender_run(struct sender *s)
{
	long long	 now, next_claim = 0, next_maint = now_ms() + 5000;
	int		 running, n, d, timeout;

	log_msg(s->conf.log_level, LOG_LEVEL_INFO, "webhook sender %s started: %d at "
	    "once, %d attempts, %d ms each", s->id, s->nslots, s->conf.webhook_ndelays + 1,
	    s->conf.webhook_timeout);
	for (;;) {
		if (*s->hup) {
			*s->hup = 0;
			reload(s);
		}
		if (*s->term >= 2 && s->inflight > 0)
			release_all(s);
		if (*s->term && !s->stopping) {
			s->stopping = 1;
			log_msg(s->conf.log_level, LOG_LEVEL_INFO, "stopping: %d attempts in "
			    "flight finish first", s->inflight);
		}
		if (s->stopping && s->inflight == 0)
			break;
		renew(s);
		now = now_ms();
		if (!s->stopping && (s->woken || now >= next_claim) &&
		    s->inflight < s->nslots) {
			int	 want = s->nslots - s->inflight;

			n = claim(s);
			s->woken = n == want;		/* a full batch: more may be due */
			next_claim = now + (n < 0 ? 1000 : s->conf.webhook_poll_interval);
		}
		maintain(s, &next_maint);
		curl_multi_perform(s->multi, &running);
		if ((d = finish_done(s)) >= 0 && now_ms() + d < next_claim)
			next_claim = now_ms() + d;
		/* no wait when more may be claimed now; a full table waits for a transfer */
		timeout = s->woken && s->inflight < s->nslots ? 0 :
		    (int)(next_claim - now_ms());
		if (s->stopping || timeout > 1000)
			timeout = s->stopping ? 200 : 1000;
		wait_events(s, timeout < 0 ? 0 : timeout);
	}
	log_msg(s->conf.log_level, LOG_LEVEL_INFO, "webhook sender %s stopped", s->id);
	return 0;
}

/* Frees everything s holds (nothing may be in flight). */
void
sender_cleanup(struct sender *s)
{
	int	 i;

	for (i = 0; s->slots != NULL && i < s->nslots; i++)
		if (s->slots[i].easy != NULL) {
			curl_multi_remove_handle(s->multi, s->slots[i].easy);
			slot_free(&s->slots[i]);
		}
	free(s->slots);
	curl_multi_cleanup(s->multi);
	db_cleanup(&s->db);
	sodium_memzero(s->conf.webhook_key, sizeof(s->conf.webhook_key));
}
