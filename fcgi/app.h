/* app.h: the request pipeline: route, check, authenticate, read the body, handle, log. */
#ifndef APP_H
#define APP_H

#include <fcgiapp.h>

#include "buf.h"
#include "request.h"

struct worker;

void	app_handle(struct worker *, struct request *, char **, FCGX_Stream *, int);
void	app_wire(struct request *, struct buf *);
void	app_log(struct worker *, const struct request *);
int	app_headers_or_reply(struct request *);

#endif
