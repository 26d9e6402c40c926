/* app.h: what a worker keeps across requests, and the request pipeline. */
#ifndef APP_H
#define APP_H

#include "conf.h"
#include "db.h"
#include "ratelimit.h"
#include "request.h"

struct app {
	struct conf	 conf;
	struct db	 db;
	struct rl_cache	 refusals;	/* exhausted windows, by subject digest */
	struct rl_cache	 unknown;	/* token hashes the database does not know */
	unsigned long	 requests;
};

void	app_init(struct app *);
void	app_cleanup(struct app *);
void	app_handle(struct app *, struct request *, char **, FCGX_Stream *, int);
void	app_wire(struct request *, struct buf *);
void	app_log(struct app *, const struct request *);
int	db_exec_or_reply(struct request *, enum stmt, PGresult **, ...);
int	body_or_reply(struct request *);

#endif
