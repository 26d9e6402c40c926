/* response.h: status, headers, JSON bodies, the error envelope. */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <json-c/json.h>

#include "request.h"

void		 resp_header(struct request *, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 resp_error(struct request *, int, const char *, const char *,
		    const char *);
void		 resp_json(struct request *, int, json_object *);
void		 resp_raw(struct request *, int, const char *, size_t);
void		 resp_empty(struct request *, int);
void		 resp_unavailable(struct request *, int);
void		 resp_rate_limited(struct request *);
const char	*resp_reason(int);
const char	*resp_error_type(int);
void		 resp_write(struct request *, struct buf *);

#endif
