/* http.h: a tiny blocking HTTP/1.0 client and JSON path helpers for the end-to-end tests. */

#ifndef CALENDENCE_TESTS_HTTP_H
#define CALENDENCE_TESTS_HTTP_H

#include <stddef.h>

#include <json.h>

/* One header field of a response, as received; the value is trimmed. */
struct http_field {
	char		*name;
	char		*value;
};

/*
 * One response. Every string is NUL-terminated and owned by the response;
 * http_resp_free() releases them all. After a successful call 'headers' and
 * 'body' are never NULL (possibly empty). 'status' is 0 when the bytes that
 * came back do not start with an HTTP status line (including when the server
 * closed the connection without answering); 'body' then holds all of them.
 */
struct http_resp {
	int			 status;
	char			*headers;	/* status line and header lines, CRLFs kept */
	char			*body;
	size_t			 body_len;
	json_object		*json;		/* the body when it is application/json, else NULL */
	struct http_field	*fields;	/* the header lines, parsed, in order; read-only */
	size_t			 nfields;
};

/*
 * Sends one request to the base URL in CALENDENCE_URL (http://host[:port][/prefix]),
 * HTTP/1.0 with Connection: close, and reads the answer to EOF (10 s receive timeout).
 * 'hdrs': NULL-terminated header lines without CRLF, or NULL. A Host header is added
 * unless 'hdrs' has one. When 'body' is non-NULL, Content-Length: body_len is added and
 * body_len bytes are sent. Returns 0 and fills *resp, or -1 (message on stderr) when
 * CALENDENCE_URL is unusable or the connection fails or times out, or when the answer
 * holds a token (cal_..._ and 38 base62 characters) other than the "session_token"
 * of a new session: never the request's own; *resp is then zeroed. Either way
 * http_resp_free(resp) is safe. The tokens of every request and answer are recorded
 * in CALENDENCE_TOKEN_LOG (fixture.h, fx_token_seen()).
 */
int		 http_request(const char *method, const char *path, const char *const *hdrs,
		    const char *body, size_t body_len, struct http_resp *resp);

/*
 * Sends exactly 'len' bytes to the server of CALENDENCE_URL and reads the answer, as
 * http_request(). A server that closes or resets the connection before reading them
 * all is not an error: whatever it answered is returned.
 */
int		 http_raw(const char *bytes, size_t len, struct http_resp *resp);

/*
 * A request with 'Authorization: Bearer <token>' when 'token' is non-NULL, the extra
 * header lines 'extra' (NULL-terminated, or NULL), and the NUL-terminated 'json_body'
 * when non-NULL, sent with Content-Type: application/json unless 'extra' names a
 * Content-Type. A POST, PUT or PATCH without a body sends Content-Length: 0.
 * Returns as http_request().
 */
int		 http_call(const char *method, const char *path, const char *token,
		    const char *const *extra, const char *json_body, struct http_resp *resp);
int		 http_get(const char *path, const char *token, const char *const *extra,
		    struct http_resp *resp);
int		 http_post(const char *path, const char *token, const char *const *extra,
		    const char *json_body, struct http_resp *resp);
int		 http_delete(const char *path, const char *token, const char *const *extra,
		    struct http_resp *resp);

/*
 * The trimmed value of the first header field called 'name' (case-insensitive), or
 * NULL. The pointer belongs to 'resp' and stays valid until http_resp_free().
 */
const char	*http_header(const struct http_resp *resp, const char *name);

/* The address this process claims in X-Forwarded-For. */
const char	*http_client_ip(void);

/* How many header fields are called 'name' (case-insensitive). */
int		 http_header_count(const struct http_resp *resp, const char *name);

/* Frees everything 'resp' owns and zeroes it; accepts a zeroed or NULL resp. */
void		 http_resp_free(struct http_resp *resp);

/*
 * JSON paths are dot-separated: "error.code", "meta.total", "data.0.name"; a numeric
 * segment indexes an array, any other segment names an object member. "" is 'o'.
 * jget: the value at 'path' (borrowed from 'o'), or NULL when missing or JSON null.
 * jhas: 1 when 'path' exists, even holding JSON null; else 0.
 * jstr: json_object_get_string() of the value (borrowed), or NULL when jget is NULL.
 * jint: the value when it is a JSON integer, else -1.
 */
json_object	*jget(json_object *o, const char *path);
int		 jhas(json_object *o, const char *path);
const char	*jstr(json_object *o, const char *path);
long long	 jint(json_object *o, const char *path);

/*
 * Opens a connection to the server of CALENDENCE_URL and sends exactly 'len'
 * bytes, leaving it open: a client that has not finished its request. Returns
 * the socket (receive timeout 'timeout_sec'), or -1 with a message.
 */
int		 http_open(const char *bytes, size_t len, int timeout_sec);

/*
 * Reads what the server sends on 'fd' until it closes the connection (or the
 * receive timeout passes), parses it as http_request() does, and closes 'fd'.
 * Returns 0, or -1 on a timeout or error; either way *resp can be freed.
 */
int		 http_finish(int fd, struct http_resp *resp);

/*
 * Speaks FastCGI to the worker listening on the Unix socket 'path', as a web
 * server would: BEGIN_REQUEST (responder), the NULL-terminated "NAME=VALUE"
 * strings of 'params' (a value may hold any byte but NUL), 'in_len' bytes of
 * stdin from 'in', then the empty STDIN record that ends it unless 'hold_open'.
 * When 'hold_open' is set the connection stays open and its socket is
 * returned (for fcgi_finish()); else the answer is read into *resp, its CGI
 * "Status:" line turned into a status line, and 0 is returned. -1 with a
 * message on any failure or when no answer comes within 'timeout_sec'.
 */
int		 fcgi_request(const char *path, const char *const *params, const char *in,
		    size_t in_len, int hold_open, int timeout_sec, struct http_resp *resp);

/* Reads the answer of a fcgi_request() held open, as above; closes 'fd'. */
int		 fcgi_finish(int fd, struct http_resp *resp);

/*
 * The process ids of the FastCGI workers of the lighttpd under test (the
 * children of the lighttpd whose pid file lies next to the database
 * directory PG_DATA_DIR, as tests/run.sh lays them out), sorted, at most
 * 'max'. Returns how many, or -1 when that lighttpd cannot be found.
 */
int		 http_worker_pids(long *pids, int max);

/* Memory for the test library: out of memory ends the test with a message. */
void	*http_xrealloc(void *p, size_t size);
char	*http_xstrndup(const char *s, size_t len);
const char *http_find(const char *hay, size_t len, const char *needle, size_t nlen);

#endif
