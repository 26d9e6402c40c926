/* log.h: one line per request and start-up/database events, on stderr. */
#ifndef LOG_H
#define LOG_H

#include <sys/types.h>

#include <stddef.h>

#include "conf.h"

#define LOG_LINE_MAX	2048	/* bytes of a message */

/* the fields of a request's line; NULL strings are "-" (text), null (json) */
struct log_req {
	const char	*request_id;
	const char	*method;
	const char	*path;
	int		 status;
	const char	*error_code;	/* the error envelope's code; status >= 400 */
	const char	*key;		/* display form, never a token */
	const char	*key_id;
	const char	*business_id;
	long long	 latency_us;
	const char	*ip;
};

void	log_setup(enum log_format, const char *);
pid_t	log_pid(void);
void	log_msg(enum log_level, enum log_level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

void	log_request(enum log_level, const struct log_req *);
void	log_flush(void);
void	log_flush_on_crash(void);
void	log_request_words(const struct log_req *, char *, size_t);
void	log_redact(char *, size_t);
void	log_escape(const char *, char *, size_t);
void	log_format_line(enum log_level, const struct log_req *, const char *, char *,
	    size_t);

#endif
