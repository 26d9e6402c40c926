/* request.h: one HTTP request as the worker sees it, and what it answers. */
#ifndef REQUEST_H
#define REQUEST_H

#include <stddef.h>
#include <time.h>

#include <fcgiapp.h>
#include <json-c/json.h>
#include <libpq-fe.h>

#include "buf.h"
#include "ip.h"
#include "ratelimit.h"
#include "token.h"

#define REQ_ID_LEN	20	/* "req_" + 16 base62 */
#define REQ_PATH_MAX	512
#define REQ_ARG_MAX	64
#define REQ_MAX_ARGS	2
#define REQ_FUSE_ARGS	8	/* a fused statement's arguments (router.h) */
#define REQ_FUSE_LEN	128	/* bytes of one (kit.h KIT_VALUE_MAX) */

struct worker;
struct route;

/* Who is calling, as authenticate() found it; strings point into auth_res. */
struct principal {
	enum token_kind	 kind;
	const char	*key_id;		/* key or session id */
	const char	*hub_id;
	const char	*business_id;		/* the business acted for, or NULL */
	const char	*business_name;
	const char	*business_timezone;
	const char	*publishable_key_id;	/* sessions only */
	const char	*root_session_id;	/* sessions only */
	int		 full_api_access;
	int		 business_ok;
	int		 business_active;
	int		 origin_ok;
};

struct request {
	struct worker		*worker;	/* the worker serving it */
	FCGX_Stream		*in;		/* body; NULL when there is none */
	int			 in_fd;		/* the connection 'in' reads; -1 unknown */
	char			 id[REQ_ID_LEN + 1];
	struct timespec		 start;

	/* from the FastCGI parameters, valid until FCGX_Finish_r(); NULL when absent */
	char			 method[16];	/* a copy: the log line needs it later */
	const char		*query;		/* after '?', never NULL */
	const char		*authorization;
	const char		*content_type;
	const char		*origin;	/* NULL unless safe to echo */
	const char		*origin_hdr;	/* for allowed_origins; "?" if not UTF-8 */
	const char		*business_hdr;	/* Calendence-Business */
	const char		*idem_key;	/* Idempotency-Key; "" if not UTF-8 */
	const char		*xff;
	const char		*remote_addr;
	const char		*repeated;	/* a header that came twice, or NULL */
	long long		 content_length; /* -1 absent, -2 malformed */
	int			 is_head;
	char			 path[REQ_PATH_MAX];
	int			 path_ok;	/* 0 when too long or not absolute */

	struct ip_addr		 client;
	int			 client_ok;
	char			 client_ip[IP_STRLEN];	/* for logs and sessions */
	char			 ip_subject[IP_STRLEN];	/* for per-IP limits */

	const struct route	*route;
	char			 args[REQ_MAX_ARGS][REQ_ARG_MAX];

	char			 display[TOKEN_DISPLAY_LEN + 1]; /* for the log */
	struct principal	 principal;
	PGresult		*auth_res;
	int			 fused;		/* auth_res holds the handler's answer too
						   (router.h: fuse) */
	char			 fuse_buf[REQ_FUSE_ARGS][REQ_FUSE_LEN];
	struct rl_state		 rl;		/* rl.n == 0: no window governed */

	char			*body;
	size_t			 body_len;
	json_object		*json;

	int			 status;	/* 0 until a response is set */
	char			 error_code[48]; /* the error envelope's code, for the log */
	struct buf		 headers;	/* extra header lines, CRLF-ended */
	struct buf		 out;		/* the response body */
	int			 has_body;
};

void		 req_init(struct request *, struct worker *);
void		 req_reset(struct request *);
void		 req_cleanup(struct request *);
void		 req_parse(struct request *, char **, const struct ip_net *, size_t);
const char	*req_param(char **, const char *);
int		 req_query(const char *, const char *, char *, size_t);
int		 req_utf8_valid(const char *, size_t);
int		 uuid_valid(const char *);

#endif
