/* receiver.h: a scripted HTTP/1.1 server on 127.0.0.1 inside the test process, for webhook tests. */

#ifndef CALENDENCE_TESTS_RECEIVER_H
#define CALENDENCE_TESTS_RECEIVER_H

#include <stddef.h>

struct rcv;

/*
 * One request as received. Every string is NUL-terminated; 'headers' and
 * 'body' are never NULL in a copy from rcv_copy(). 'status' and 'ended' stay
 * 0 while the request is still being handled (delayed, or a "hang" whose
 * client has not closed yet).
 */
struct rcv_req {
	char	 method[16];
	char	 path[512];	/* request target as sent, query included */
	char	*headers;	/* raw header block, "Name: value\r\n" lines */
	char	*body;		/* NUL-terminated copy of the body (chunked: decoded) */
	size_t	 body_len;
	int	 status;	/* what the receiver answered (0 = hung up without answering) */
	double	 started;	/* CLOCK_MONOTONIC seconds when the request line arrived */
	double	 ended;		/* ... when the answer was written or the connection dropped */
	double	 wall;		/* CLOCK_REALTIME seconds at arrival (for signature timestamps) */
};

/*
 * Binds 127.0.0.1 on an ephemeral port and starts the accept thread; one
 * thread per connection, one request per connection (Connection: close).
 * Bodies by Content-Length or chunked; "Expect: 100-continue" is honoured.
 * A malformed request is answered 400 (413 over 4 MiB of body, 431 over
 * 64 KiB of header) and not recorded. NULL with a message on failure.
 */
struct rcv	*rcv_start(void);
int		 rcv_port(const struct rcv *r);

/* "http://127.0.0.1:<port><path>" into buf[len]; returns buf. */
const char	*rcv_url(const struct rcv *r, const char *path, char *buf, size_t len);

/*
 * Paths: a 'path' argument without '?' matches a request whose target, query
 * excluded, is exactly 'path'; one with '?' must match the whole target.
 *
 * rcv_script: 'plan' is comma-separated answers for the successive requests to
 * 'path': an HTTP status ("200", "500", "204", "301": 3xx answers carry
 * "Location: /moved") or "hang": the request is read and counted, never
 * answered, and the connection stays open until the client closes it or
 * rcv_stop(). The last entry repeats. A new plan starts from its first entry;
 * NULL or "" removes the script. Paths without a script answer 200. A malformed
 * plan aborts the test. Thread-safe, may be called while requests arrive.
 */
void		 rcv_script(struct rcv *r, const char *path, const char *plan);

/* Sleeps 'ms' before answering each request to 'path' (0 = none); woken by rcv_stop(). */
void		 rcv_delay(struct rcv *r, const char *path, int ms);

/*
 * How many requests to 'path' (NULL = all) were received so far: a request
 * counts as soon as its whole body has been read, before it is answered.
 */
size_t		 rcv_count(struct rcv *r, const char *path);

/* Waits until rcv_count(path) >= n: 1 when reached, 0 after 'timeout_ms'. */
int		 rcv_wait(struct rcv *r, const char *path, size_t n, int timeout_ms);

/*
 * A deep copy of the i-th request (arrival order, from 0) to 'path' (NULL =
 * all) into *out: 1, or 0 (and *out zeroed) when there is no such request.
 * Free it with rcv_req_free().
 */
int		 rcv_copy(struct rcv *r, const char *path, size_t i, struct rcv_req *out);
void		 rcv_req_free(struct rcv_req *req);

/*
 * The value of the first header field called 'name' (case-insensitive),
 * trimmed, into buf[len] (truncated to fit); returns buf, or NULL if absent.
 */
const char	*rcv_header(const struct rcv_req *req, const char *name, char *buf,
		    size_t len);

/*
 * The largest number of recorded requests carrying 'header' equal to 'value'
 * that were being handled at the same moment, from their [started, ended)
 * intervals (one still being handled counts until now). A 'value' of NULL
 * groups the requests by their value of 'header' and returns the largest
 * group overlap: 1 means no value was ever handled twice in parallel.
 * 0 when no request carries the header.
 */
int		 rcv_max_parallel(struct rcv *r, const char *header, const char *value);

/* Forgets the recorded requests, scripts and delays (requests in flight are not recorded). */
void		 rcv_reset(struct rcv *r);

/* Closes the listener and every connection, joins every thread and frees everything. */
void		 rcv_stop(struct rcv *r);

#endif
