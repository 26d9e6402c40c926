/* kit.h: what handlers share: a checked database call, body and query values, list and get skeletons, SQL outcomes as HTTP answers. */
#ifndef KIT_H
#define KIT_H

#include <stddef.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "catalogue.h"
#include "db.h"
#include "request.h"

#define KIT_VALUE_MAX	128	/* bytes of one query value */

/* An argument array and its length, from a list of expressions. */
#define KIT_ARGS(...)	(const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(const char *)

int	 kit_call_or_reply(struct request *, enum stmt, const char *const *, size_t,
	    PGresult **);
int	 kit_query_or_reply(struct request *, const char *, char *, size_t,
	    const char **);
int	 kit_member_or_reply(struct request *, const char *, enum json_type,
	    const char **);
void	 kit_outcome_reply(struct request *, PGresult *, int);
void	 kit_outcome_reply_at(struct request *, PGresult *, int, int);
void	 kit_outcome(struct request *, enum stmt, int, const char *const *, size_t);
void	 kit_list(struct request *, enum stmt, const char *, const char *const *,
	    size_t);
void	 kit_list_checked(struct request *, enum stmt, const char *,
	    const char *const *, const char *const *, size_t);
void	 kit_get(struct request *, enum stmt, const char *, const char *const *,
	    size_t);
void	 kit_cat_list(struct request *, enum cat_kind, const char *, const char *,
	    const char *, enum stmt, const char *const *, size_t);
void	 kit_cat_get(struct request *, enum cat_kind, const char *, const char *,
	    const char *, enum stmt, const char *const *, size_t);

#endif
