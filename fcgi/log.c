/* log.c: timestamped lines on stderr (the web server's error log). */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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

/*
 * Writes one line at level lvl when the configured threshold lets it
 * through. Callers never pass a token (keys appear in display form only),
 * and log_redact() makes sure of it.
 */
void
log_msg(enum log_level threshold, enum log_level lvl, const char *fmt, ...)
{
	char		 line[2048], stamp[32];
	struct tm	 tm;
	time_t		 now;
	va_list		 ap;
	int		 n;

	if (lvl > threshold)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, sizeof(line), "%s calendence[%d] %s: ", stamp,
	    (int)getpid(), names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	log_redact(line, sizeof(line));
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
