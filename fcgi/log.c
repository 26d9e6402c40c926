/*
 * log.c: timestamped lines on stderr (the web server's error log, the
 * journal): one line per event, whatever a message holds (control
 * characters escaped), as words (log_format = text) or one JSON object
 * (log_format = json). The one place a log line is written.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pthread.h>

#include "buf.h"
#include "log.h"

static pid_t	 pid_cached;
static volatile size_t	 held_len;	/* bytes of request lines held back */

/* In a forked child: its own pid, and none of its parent's lines to write. */
static void
pid_forget(void)
{
	pid_cached = 0;
	held_len = 0;
}

/*
 * This process's id, asked of the kernel once (a system call for every log
 * line was one of the dozen a request costs); a forked child asks again.
 */
pid_t
log_pid(void)
{
	static int	 registered;

	if (!registered) {
		pthread_atfork(NULL, NULL, pid_forget);
		registered = 1;
	}
	if (pid_cached == 0)
		pid_cached = getpid();
	return pid_cached;
}

static enum log_format	 log_format = LOG_FORMAT_TEXT;
static const char	*log_program = "calendence";

static const char *const names[LOG_LEVEL__MAX] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* Token prefixes whose secret part a log line never shows. */
static const char *const secret_prefixes[] = {
	"cal_hub_", "cal_biz_", "cal_pub_", "cal_ses_", "whsec_"
};

#define LOG_SHOWN_MAX	4	/* a display form shows 4 characters */

static int
is_base62(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int
starts_secret(const char *s)
{
	size_t	 i;

	if (*s != 'c' && *s != 'w')	/* no prefix begins otherwise */
		return 0;
	for (i = 0; i < sizeof(secret_prefixes) / sizeof(secret_prefixes[0]); i++)
		if (strncmp(s, secret_prefixes[i], strlen(secret_prefixes[i])) == 0)
			return 1;
	return 0;
}

/*
 * Length of the token-like run at s: base62 characters, and %XX escapes
 * (a path is logged as sent, so a token may arrive percent-encoded), up
 * to the prefix of a next token.
 */
static size_t
secret_run(const char *s)
{
	size_t	 n = 0;

	for (;;) {
		if (starts_secret(s + n))
			return n;
		if (is_base62((unsigned char)s[n]))
			n++;
		else if (s[n] == '%' && s[n + 1] != '\0' && s[n + 2] != '\0')
			n += 3;
		else
			return n;
	}
}

/*
 * Rewrites line in place so that nothing token-shaped survives: after a
 * token prefix, a run longer than a display form's 4 characters becomes
 * "[redacted]" (a key's display form, cal_biz_ and 4 characters, stays).
 * Whatever a caller passes, a request path included, goes through here.
 */
void
log_redact(char *line, size_t size)
{
	static const char mark[] = "[redacted]";
	const size_t	 mlen = sizeof(mark) - 1, nprefix =
			    sizeof(secret_prefixes) / sizeof(secret_prefixes[0]);
	char		*p = line, *q;
	size_t		 i, plen, run, rest, at;

	while ((p = strchr(p, '_')) != NULL) {
		for (i = 0; i < nprefix; i++) {
			plen = strlen(secret_prefixes[i]);
			q = p + 1 - plen;
			if (p + 1 - line >= (ptrdiff_t)plen &&
			    strncmp(q, secret_prefixes[i], plen) == 0)
				break;
		}
		p++;
		if (i == nprefix || (run = secret_run(p)) <= LOG_SHOWN_MAX)
			continue;
		at = (size_t)(p - line);
		if (at + mlen + 1 > size) {	/* no room for the mark: cut here */
			*p = '\0';
			return;
		}
		rest = strlen(p + run) + 1;	/* the tail, its NUL included */
		if (at + mlen + rest > size)
			rest = size - at - mlen;
		memmove(p + mlen, p + run, rest);
		memcpy(p, mark, mlen);
		line[size - 1] = '\0';
		p += mlen;
	}
}

/* The format of the lines from now on, and the program they name (json). */
void
log_setup(enum log_format fmt, const char *program)
{
	log_format = fmt;
	if (program != NULL)
		log_program = program;
}

/*
 * Copies s into out (size len, NUL-terminated, cut if need be) with every
 * control character escaped, so that a message is one line: \n, \r, \t,
 * else \xNN (DEL too). Other bytes, UTF-8 included, stay.
 */
void
log_escape(const char *s, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char	 c;
	char		 e[5];
	size_t		 o = 0, n;

	if (len == 0)
		return;
	for (; s != NULL && (c = (unsigned char)*s) != '\0'; s++) {
		if (c >= 0x20 && c != 0x7f) {
			e[0] = (char)c;
			n = 1;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			e[0] = '\\';
			e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
			n = 2;
		} else {
			e[0] = '\\';
			e[1] = 'x';
			e[2] = hex[c >> 4];
			e[3] = hex[c & 15];
			n = 4;
		}
		if (o + n >= len)
			break;
		memcpy(out + o, e, n);
		o += n;
	}
	out[o] = '\0';
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t
utf8_len(const unsigned char *s)
{
	size_t	 n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/* A JSON line under construction: cut, never overrun, when too long. */
struct jline {
	char	*p;
	size_t	 len, size;
	int	 full;
};

static void
jl_raw(struct jline *j, const char *s, size_t n)
{
	if (j->full || j->len + n >= j->size) {
		j->full = 1;
		return;
	}
	memcpy(j->p + j->len, s, n);
	j->len += n;
	j->p[j->len] = '\0';
}

/* s as a JSON string (NULL: null); bytes that are not UTF-8 as U+FFFD. */
static void
jl_str(struct jline *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	char		 e[6];
	size_t		 n;

	if (s == NULL) {
		jl_raw(j, "null", 4);
		return;
	}
	jl_raw(j, "\"", 1);
	while (*u != '\0') {
		if (*u == '"' || *u == '\\') {
			e[0] = '\\';
			e[1] = (char)*u;
			jl_raw(j, e, 2);
			u++;
		} else if (*u < 0x20 || *u == 0x7f) {
			if (*u == '\n' || *u == '\r' || *u == '\t') {
				e[0] = '\\';
				e[1] = *u == '\n' ? 'n' : *u == '\r' ? 'r' : 't';
				jl_raw(j, e, 2);
			} else {
				memcpy(e, "\\u00", 4);
				e[4] = hex[*u >> 4];
				e[5] = hex[*u & 15];
				jl_raw(j, e, 6);
			}
			u++;
		} else if ((n = utf8_len(u)) == 0) {
			jl_raw(j, "\\ufffd", 6);
			u++;
		} else {
			jl_raw(j, (const char *)u, n);
			u += n;
		}
	}
	jl_raw(j, "\"", 1);
}

/* ,"name":"value" (or null); the first field without its comma */
static void
jl_field(struct jline *j, const char *name, const char *value)
{
	if (j->len > 1)
		jl_raw(j, ",", 1);
	jl_str(j, name);
	jl_raw(j, ":", 1);
	jl_str(j, value);
}

static void
jl_num(struct jline *j, const char *name, long long v)
{
	char	 num[24];
	int	 n;

	n = snprintf(num, sizeof(num), "%lld", v);
	jl_raw(j, ",", 1);
	jl_str(j, name);
	jl_raw(j, ":", 1);
	jl_raw(j, num, (size_t)n);
}

/*
 * Appends n bytes of s at *o in out (size len), cut as snprintf() cuts:
 * out stays NUL-terminated. The request's line is put together with this,
 * not with snprintf(), whose formatting was a good part of its cost.
 */
static void
put(char *out, size_t len, size_t *o, const char *s, size_t n)
{
	if (*o + 1 >= len)
		return;
	if (n > len - 1 - *o)
		n = len - 1 - *o;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
}

static void
put_str(char *out, size_t len, size_t *o, const char *s)
{
	put(out, len, o, s, strlen(s));
}

static void
put_num(char *out, size_t len, size_t *o, long long v)
{
	char	 d[NUM_TEXT_LEN];

	put_str(out, len, o, num_text(v, d));
}

/*
 * Formats a line of level lvl (with the request's fields when req is not
 * NULL) into out, of size len: the line the configured format asks for,
 * without its newline, redacted (log_redact()).
 */
void
log_format_line(enum log_level lvl, const struct log_req *req, const char *msg,
    char *out, size_t len)
{
	static char	 stamp[32];	/* of stamp_at, made once a second */
	static time_t	 stamp_at = -1;
	char		 esc[LOG_LINE_MAX];
	struct jline	 j = { out, 0, len, 0 };
	struct tm	 tm;
	time_t		 now;

	if ((now = time(NULL)) != stamp_at) {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		stamp_at = now;
	}
	if (len == 0)
		return;
	out[0] = '\0';
	if (log_format == LOG_FORMAT_TEXT) {
		size_t	 o = 0;

		log_escape(msg, esc, sizeof(esc));
		/* "%s calendence[%d] %s: %s" */
		put_str(out, len, &o, stamp);
		put(out, len, &o, " calendence[", 12);
		put_num(out, len, &o, (int)log_pid());
		put(out, len, &o, "] ", 2);
		put_str(out, len, &o, names[lvl]);
		put(out, len, &o, ": ", 2);
		put_str(out, len, &o, esc);
		log_redact(out, len);
		return;
	}
	jl_raw(&j, "{", 1);
	jl_field(&j, "time", stamp);
	jl_field(&j, "level", names[lvl]);
	jl_num(&j, "pid", (long long)log_pid());
	jl_field(&j, "program", log_program);
	jl_field(&j, "message", msg);
	if (req != NULL) {
		jl_field(&j, "request_id", req->request_id);
		jl_field(&j, "method", req->method);
		jl_field(&j, "path", req->path);
		jl_num(&j, "status", req->status);
		jl_field(&j, "error_code", req->status >= 400 && req->error_code != NULL &&
		    *req->error_code != '\0' ? req->error_code : NULL);
		jl_field(&j, "key", req->key);
		jl_field(&j, "key_id", req->key_id);
		jl_field(&j, "business_id", req->business_id);
		jl_num(&j, "latency_us", req->latency_us);
		jl_field(&j, "ip", req->ip);
	}
	if (j.full) {		/* too long: the message alone, cut */
		j.len = 0;
		j.full = 0;
		out[0] = '\0';
		jl_raw(&j, "{", 1);
		jl_field(&j, "time", stamp);
		jl_field(&j, "level", names[lvl]);
		jl_num(&j, "pid", (long long)log_pid());
		jl_field(&j, "program", log_program);
		log_escape(msg, esc, len / 8);
		jl_field(&j, "message", esc);
	}
	jl_raw(&j, "}", 1);
	log_redact(out, len);
}

/*
 * Request lines held back (log_request()), written together: a write(2) of
 * its own for every request's line was one of the system calls a request
 * costs. They are written before any other line (so the order stays), when
 * the worker is about to wait for work (log_flush() in main.c), when the
 * next would not fit, when the first held is LOG_HOLD_SECONDS old, and on
 * a crash (SIGSEGV, SIGABRT...: log_flush_on_crash(), which the worker
 * calls). Only a SIGKILL, or a crash of the machine, loses them: at most
 * LOG_HOLD_MAX bytes of lines of requests already answered, from the last
 * second.
 */
#define LOG_HOLD_MAX		8192
#define LOG_HOLD_SECONDS	1

static char		 held[LOG_HOLD_MAX];	/* held_len bytes of it complete */
static time_t		 held_since;	/* when the first of them was held */

/* Writes all of s to stderr (fd 2); only write(2): safe in a signal handler. */
static void
write_all(const char *s, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(STDERR_FILENO, s, len)) == -1) {
			if (errno == EINTR)
				continue;
			return;		/* nowhere to say so */
		}
		s += n;
		len -= (size_t)n;
	}
}

/*
 * Writes the request lines held back, if any. Async-signal-safe (write(2)
 * only), for a crash handler: a line being added when the signal came is
 * not yet counted in held_len and is not written.
 */
void
log_flush(void)
{
	size_t	 len = held_len;
	int	 saved = errno;

	if (len == 0)
		return;
	held_len = 0;
	write_all(held, len);
	errno = saved;
}

/* the signals of a crash, and what they did before on_crash() */
static const int	 crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
static struct sigaction	 crash_before[sizeof(crash_signals) / sizeof(crash_signals[0])];

/*
 * A crash: the request lines held back are written, then the signal does
 * what it did before (the default, or a sanitizer's report) as soon as
 * this handler returns.
 */
static void
on_crash(int sig)
{
	size_t	 i;

	log_flush();
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		if (crash_signals[i] == sig)
			sigaction(sig, &crash_before[i], NULL);
	raise(sig);
}

/* Makes a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) write the held lines first. */
void
log_flush_on_crash(void)
{
	struct sigaction sa;
	size_t		 i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, &crash_before[i]);
}

static void
log_write(enum log_level lvl, const struct log_req *req, const char *msg)
{
	char	 line[LOG_LINE_MAX * 2 + 1];
	size_t	 len;

	log_format_line(lvl, req, msg, line, sizeof(line) - 1);
	len = strlen(line);
	line[len++] = '\n';
	log_flush();
	write_all(line, len);
}

/* Holds a request's line back (see held[]), or writes it when it cannot be held. */
static void
log_hold(const struct log_req *req, const char *msg)
{
	char	 line[LOG_LINE_MAX * 2 + 1];
	size_t	 len;
	time_t	 now = time(NULL);

	log_format_line(LOG_LEVEL_INFO, req, msg, line, sizeof(line) - 1);
	len = strlen(line);
	line[len++] = '\n';
	if (held_len > 0 && (held_len + len > sizeof(held) ||
	    now - held_since >= LOG_HOLD_SECONDS))
		log_flush();
	if (len > sizeof(held)) {
		write_all(line, len);
		return;
	}
	if (held_len == 0)
		held_since = now;
	memcpy(held + held_len, line, len);
	/* the line in place before it counts, for on_crash() */
	atomic_signal_fence(memory_order_seq_cst);
	held_len += len;
}

/*
 * Writes one line at level lvl when the configured threshold lets it
 * through. Callers never pass a token (keys appear in display form only),
 * and log_redact() makes sure of it.
 */
void
log_msg(enum log_level threshold, enum log_level lvl, const char *fmt, ...)
{
	char		 msg[LOG_LINE_MAX];
	va_list		 ap;

	if (lvl > threshold)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(lvl, NULL, msg);
}

/*
 * The words of a request's line: "ID METHOD PATH STATUS NNNus key=DISPLAY
 * ip=IP", and " error=CODE" for an answer of 400 or more with an error code.
 */
void
log_request_words(const struct log_req *req, char *msg, size_t size)
{
	int	 err = req->status >= 400 && req->error_code != NULL &&
		    req->error_code[0] != '\0';
	size_t	 o = 0;

	/* "%s %s %s %d %lldus key=%s ip=%s%s%s" */
	if (size == 0)
		return;
	msg[0] = '\0';
	put_str(msg, size, &o, req->request_id);
	put(msg, size, &o, " ", 1);
	put_str(msg, size, &o, req->method);
	put(msg, size, &o, " ", 1);
	put_str(msg, size, &o, req->path);
	put(msg, size, &o, " ", 1);
	put_num(msg, size, &o, req->status);
	put(msg, size, &o, " ", 1);
	put_num(msg, size, &o, req->latency_us);
	put(msg, size, &o, "us key=", 7);
	put_str(msg, size, &o, req->key != NULL ? req->key : "-");
	put(msg, size, &o, " ip=", 4);
	put_str(msg, size, &o, req->ip);
	if (err) {
		put(msg, size, &o, " error=", 7);
		put_str(msg, size, &o, req->error_code);
	}
}

/*
 * The request's line (level info): in text, log_request_words(); in json,
 * those as the message and each field apart. Held back with the lines of
 * the requests served since the worker last waited for work (held[]): the
 * worker calls log_flush() before it waits.
 */
void
log_request(enum log_level threshold, const struct log_req *req)
{
	char	 msg[LOG_LINE_MAX];

	if (LOG_LEVEL_INFO > threshold)
		return;
	log_request_words(req, msg, sizeof(msg));
	log_hold(req, msg);
}
