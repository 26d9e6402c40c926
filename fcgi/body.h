/* body.h: the request body and its JSON rules (SPEC 7): read, type, syntax, parse. */
#ifndef BODY_H
#define BODY_H

#include <stddef.h>

#include "request.h"

#define JSON_CHECK_MAX_DEPTH	64

int	 json_check(const char *, size_t);
int	 body_or_reply(struct request *);

#endif
