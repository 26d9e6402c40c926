/* auth.h: Bearer credential -> principal, admission and permission. */
#ifndef AUTH_H
#define AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

int	auth_bearer(const char *, const char **, size_t *);
int	auth_or_reply(struct request *);
uint64_t *key_uses_new(void);
void	 key_uses_free(uint64_t *);

#endif
