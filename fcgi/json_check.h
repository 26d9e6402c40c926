/* json_check.h: RFC 8259 syntax, strictly, before json-c sees a body. */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H

#include <stddef.h>

#define JSON_CHECK_MAX_DEPTH	64

int	 json_check(const char *, size_t);

#endif
