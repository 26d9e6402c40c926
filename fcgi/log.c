/* log.c: timestamped lines on stderr (the web server's error log). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *const names[LOG_LEVEL__MAX] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/*
 * Writes one line at level lvl when the configured threshold lets it
 * through. Callers never pass a token: keys appear in display form only.
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
	fprintf(stderr, "%s\n", line);
	fflush(stderr);
}
