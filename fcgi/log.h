/* log.h: one line per request and start-up/database events, on stderr. */
#ifndef LOG_H
#define LOG_H

#include <stddef.h>

#include "conf.h"

void	log_msg(enum log_level, enum log_level, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

void	log_redact(char *, size_t);

#endif
