/*
 * body.c: the request body and its JSON rules: read exactly CONTENT_LENGTH
 * under the cap and a time bound, the media type, RFC 8259 syntax
 * strictly, UTF-8, what PostgreSQL cannot take, then json-c.
 *
 * json-c's strict mode still takes single-quoted strings, NaN and Infinity,
 * and raw control characters inside strings. The recogniser json_check()
 * takes exactly the grammar of RFC 8259 (one value, whitespace around it)
 * and nothing else; UTF-8 well-formedness is checked separately.
 */
#include <sys/socket.h>
#include <sys/time.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "body.h"
#include "log.h"
#include "response.h"
#include "router.h"
#include "worker.h"

#define JSON_NUMBER_MAX		1000	/* characters of one number in a body */

struct scan {
	const unsigned char	*p, *end;
};

static int	 value(struct scan *, int);

static void
ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
digit(const struct scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static int
hexdigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
literal(struct scan *s, const char *word)
{
	for (; *word != '\0'; word++, s->p++)
		if (s->p >= s->end || *s->p != (unsigned char)*word)
			return 0;
	return 1;
}

static int
string(struct scan *s)
{
	int	 i;

	s->p++;				/* the opening quote */
	while (s->p < s->end) {
		unsigned char	 c = *s->p++;

		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (s->p >= s->end)
			return 0;
		switch (*s->p++) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			break;
		case 'u':
			for (i = 0; i < 4; i++, s->p++)
				if (s->p >= s->end || !hexdigit(*s->p))
					return 0;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static int
number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (!digit(s))
		return 0;
	if (*s->p++ != '0')
		while (digit(s))
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digit(s))
			return 0;
		while (digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digit(s))
			return 0;
		while (digit(s))
			s->p++;
	}
	return 1;
}

/* '[' or '{' members ']' or '}'; members are values, or "name": value. */
static int
container(struct scan *s, int depth, int object)
{
	unsigned char	 close = object ? '}' : ']';

	if (depth >= JSON_CHECK_MAX_DEPTH)
		return 0;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 1;
	}
	for (;;) {
		if (object) {
			if (s->p >= s->end || *s->p != '"' || !string(s))
				return 0;
			ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return 0;
		}
		if (!value(s, depth + 1))
			return 0;
		if (s->p >= s->end)
			return 0;
		if (*s->p == close) {
			s->p++;
			return 1;
		}
		if (*s->p++ != ',')
			return 0;
		ws(s);
	}
}

/* One value with the whitespace around it. */
static int
value(struct scan *s, int depth)
{
	int	 ok;

	ws(s);
	if (s->p >= s->end)
		return 0;
	switch (*s->p) {
	case '{':
		ok = container(s, depth, 1);
		break;
	case '[':
		ok = container(s, depth, 0);
		break;
	case '"':
		ok = string(s);
		break;
	case 't':
		ok = literal(s, "true");
		break;
	case 'f':
		ok = literal(s, "false");
		break;
	case 'n':
		ok = literal(s, "null");
		break;
	default:
		ok = number(s);
		break;
	}
	ws(s);
	return ok;
}

/*
 * 1 when s[0..len) is one JSON text by RFC 8259 nested at most
 * JSON_CHECK_MAX_DEPTH deep, 0 otherwise.
 */
int
json_check(const char *text, size_t len)
{
	struct scan	 s = { (const unsigned char *)text,
			    (const unsigned char *)text + len };

	return value(&s, 0) && s.p == s.end;
}

/* application/json, any case, with optional parameters (charset). */
static int
is_json_type(const char *ct)
{
	size_t	 n = strlen("application/json");

	if (ct == NULL || strncasecmp(ct, "application/json", n) != 0)
		return 0;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * A front end that streams the body (Apache's mod_proxy_fcgi) and stalls
 * would hold this worker for as long as it keeps the connection: a read of
 * the request's connection that waits body_timeout seconds fails instead
 * (EAGAIN). Set only when there is a body to read: no system call for the
 * requests without one.
 */
static void
body_deadline(struct request *r)
{
	struct timeval	 tv = { .tv_sec = r->worker->conf.body_timeout, .tv_usec = 0 };

	if (r->in_fd >= 0 && tv.tv_sec > 0 &&
	    setsockopt(r->in_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		log_msg(r->worker->conf.log_level, LOG_LEVEL_WARN, "body_timeout: %s",
		    strerror(errno));
}

/* Reads exactly CONTENT_LENGTH bytes; -1 with a 400 when there are more or fewer. */
static int
read_exact_or_reply(struct request *r)
{
	size_t	 want = (size_t)r->content_length;
	int	 n, stalled;

	body_deadline(r);
	r->body = malloc(want + 1);
	if (r->body == NULL) {
		resp_error(r, 413, "payload_too_large", NULL, "The body is too large.");
		return -1;
	}
	while (r->body_len < want && r->in != NULL) {
		n = FCGX_GetStr(r->body + r->body_len, (int)(want - r->body_len), r->in);
		if (n <= 0)
			break;
		r->body_len += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	if (r->body_len < want) {
		/* EAGAIN: the front end sent nothing for body_timeout seconds */
		stalled = r->in != NULL && (FCGX_GetError(r->in) == EAGAIN ||
		    FCGX_GetError(r->in) == EWOULDBLOCK);
		resp_error(r, 400, "invalid_request", NULL, stalled ?
		    "The body stopped arriving before its Content-Length." :
		    "The body is shorter than its Content-Length.");
		return -1;
	}
	if (r->in != NULL && FCGX_GetChar(r->in) != EOF) {
		resp_error(r, 400, "invalid_request", NULL,
		    "The body is longer than its Content-Length.");
		return -1;
	}
	return 0;
}

/*
 * What json_check() lets through but the database cannot take, in the
 * (syntactically valid) JSON text s[0..len): a string holding the escape
 * \u0000 (json-c would cut the string there, a key or an id silently
 * shortened, and PostgreSQL takes no U+0000 in text or jsonb), and a number
 * too long or with too large an exponent for PostgreSQL's numeric (objects
 * such as a booking's client go to the database as jsonb). Returns the
 * message of the 400, or NULL.
 */
static const char *
body_beyond_db(const char *s, size_t len)
{
	size_t	 i, start, e;
	int	 in_string = 0;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '"')
				in_string = 0;
			else if (s[i] == '\\') {
				if (len - i >= 6 && memcmp(s + i + 1, "u0000", 5) == 0)
					return "Strings in the body may not hold \\u0000.";
				i++;	/* the escaped character */
			}
			continue;
		}
		if (s[i] == '"') {
			in_string = 1;
			continue;
		}
		if (s[i] != '-' && (s[i] < '0' || s[i] > '9'))
			continue;
		for (start = i; i < len && strchr("+-.0123456789eE", s[i]) != NULL; i++)
			continue;
		for (e = start; e < i && s[e] != 'e' && s[e] != 'E'; e++)
			continue;
		if (e < i && (s[e + 1] == '+' || s[e + 1] == '-'))
			e++;
		while (e + 1 < i && s[e + 1] == '0')
			e++;
		/* at most 1000 characters, an exponent of at most 3 digits */
		if (i - start > JSON_NUMBER_MAX || (e < i && i - e - 1 > 3))
			return "A number in the body is out of range.";
		i--;
	}
	return NULL;
}

static int
parse_json_or_reply(struct request *r)
{
	struct json_tokener	*tok;
	enum json_tokener_error	 jerr;
	const char		*why;

	/* json-c's own UTF-8 check lets overlong forms and surrogates through */
	if (!req_utf8_valid(r->body, r->body_len) ||
	    !json_check(r->body, r->body_len)) {
		resp_error(r, 400, "invalid_json", NULL,
		    "The body is not valid UTF-8 JSON.");
		return -1;
	}
	if ((why = body_beyond_db(r->body, r->body_len)) != NULL) {
		resp_error(r, 400, "invalid_json", NULL, why);
		return -1;
	}
	tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	r->json = json_tokener_parse_ex(tok, r->body, (int)r->body_len);
	jerr = json_tokener_get_error(tok);
	if (r->json != NULL && jerr == json_tokener_success &&
	    json_tokener_get_parse_end(tok) != r->body_len) {
		json_object_put(r->json);
		r->json = NULL;
	}
	json_tokener_free(tok);
	if (r->json == NULL || jerr != json_tokener_success) {
		resp_error(r, 400, "invalid_json", NULL,
		    "The body is not valid UTF-8 JSON.");
		return -1;
	}
	if (!json_object_is_type(r->json, json_type_object)) {
		resp_error(r, 400, "invalid_json", NULL,
		    "The body must be a JSON object.");
		return -1;
	}
	return 0;
}

/*
 * Step 5 of the order of checks, for the body: 413 over the cap, 400 for a
 * malformed or lying Content-Length, 415 when a route that takes JSON gets
 * another type, 400 invalid_json. A body on a route that takes none is
 * read and dropped. Returns 0, or -1 when the response is written.
 */
int
body_or_reply(struct request *r)
{
	if (r->content_length == -2) {
		resp_error(r, 400, "invalid_request", NULL,
		    "The Content-Length header is malformed.");
		return -1;
	}
	if (r->content_length > (long long)r->worker->conf.body_limit) {
		resp_error(r, 413, "payload_too_large", NULL,
		    "The body is larger than this server accepts.");
		return -1;
	}
	if (r->content_length <= 0)
		return 0;
	if (read_exact_or_reply(r) == -1)
		return -1;
	if (!r->route->body)
		return 0;
	if (!is_json_type(r->content_type)) {
		resp_error(r, 415, "unsupported_media_type", NULL,
		    "The body must be application/json.");
		return -1;
	}
	return parse_json_or_reply(r);
}
