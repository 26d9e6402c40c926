/* auth.h: Bearer credential -> principal, admission and permission. */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>

#include "request.h"

int	auth_bearer(const char *, const char **, size_t *);
int	auth_or_reply(struct request *);

#endif
