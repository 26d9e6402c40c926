/* conf.h: the application's settings, read once from one small file. */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

#include "ip.h"
#include "seal.h"

#define CONF_MAX_RETRIES	9	/* webhook_retry_delays entries */

/* the settings file read when none is named: $(SYSCONFDIR) of the Makefile */
#ifndef CALENDENCE_SYSCONFDIR
#define CALENDENCE_SYSCONFDIR	"/etc/calendence"
#endif
#define CONF_DEFAULT_PATH	CALENDENCE_SYSCONFDIR "/calendence.conf"

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL__MAX
};

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON
};

struct conf {
	char		 database[1024];	/* libpq conninfo; "" = PG* env */
	size_t		 body_limit;		/* bytes */
	int		 body_timeout;		/* seconds a body read may wait; 0 = no limit */
	int		 auth_fail_limit;	/* failed credentials per IP, minute */
	struct ip_net	 proxies[IP_MAX_PROXIES];
	size_t		 nproxies;
	enum log_level	 log_level;
	enum log_format	 log_format;		/* text or json lines (log.c) */
	char		 public_url[256];	/* base of pagination links; "" = relative */
	int		 maintenance_interval;	/* seconds */
	char		 listen[256];		/* own pool: socket path or HOST:PORT */
	int		 workers;		/* own pool: number of workers */
	int		 socket_mode;		/* own pool: Unix socket permissions */
	long		 max_requests;		/* retire after this many; 0 = never */
	int		 prepared_statements;	/* 0 auto, 1 on, 2 off (enum db_prepare) */
	int		 db_timeout;		/* ms a request may wait for PostgreSQL */
	int		 max_holds;		/* live holds per session chain */
	int		 catalogue_cache;	/* KiB of catalogue cached; 0 = none */
	int		 availability_cache;	/* KiB of availability answers; 0 = none */
	/* webhooks (SPEC 11): the API workers and the sender */
	char		 webhook_key_file[512];	/* "" = webhooks off */
	unsigned char	 webhook_key[SEAL_KEY_LEN]; /* read from it at load */
	int		 webhook_allow_http;	/* http:// URLs may be registered */
	int		 webhook_allow_private;	/* loopback, private ... destinations */
	int		 webhook_timeout;	/* ms per attempt */
	int		 webhook_delays[CONF_MAX_RETRIES]; /* ms before attempt 2, 3 ... */
	int		 webhook_ndelays;	/* attempts = 1 + this */
	int		 webhook_concurrency;	/* attempts in flight per sender */
	int		 webhook_poll_interval;	/* ms between polls without NOTIFY */
};

void	 conf_defaults(struct conf *);
int	 conf_load(struct conf *, const char *, char *, size_t);
const char *conf_path(const char *);
int	 conf_set(struct conf *, const char *, const char *, char *, size_t);

#endif
