/* sender.h: the webhook sender (SPEC 11): deliveries claimed, sent, recorded. */
#ifndef SENDER_H
#define SENDER_H

#include <signal.h>
#include <stddef.h>

#include <curl/curl.h>

#include "conf.h"
#include "db.h"
#include "seal.h"

#define SIGN_HEX_LEN	64	/* HMAC-SHA256 in hex */
#define SIGN_HEADER_MAX	160

/* One attempt of one delivery in flight: a slot of the sender's table. */
struct attempt {
	struct sender	*s;
	CURL		*easy;		/* NULL: the slot is free */
	struct curl_slist *headers;
	char		*payload;
	char		 delivery[37];
	char		 webhook[37];
	char		 event[32];
	int		 number;	/* 1 for the first attempt */
	long long	 started;	/* ms, CLOCK_MONOTONIC */
	char		 refused[160];	/* why the destination was refused */
	char		 errbuf[CURL_ERROR_SIZE];
};

struct sender {
	struct conf	 conf;
	const char	*config_path;
	struct db	 db;
	CURLM		*multi;
	int		 renew_multi;	/* settings changed: a new one when idle */
	char		 id[37];	/* this sender's claims: a fresh uuid */
	struct attempt	*slots;		/* webhook_concurrency of them */
	int		 nslots;
	int		 inflight;
	int		 woken;		/* a NOTIFY came, or more may be due */
	int		 stopping;
	int		 wake_fd;	/* read end of the signal handlers' pipe */
	volatile sig_atomic_t *term;	/* SIGTERM/SIGINT count (main.c) */
	volatile sig_atomic_t *hup;	/* SIGHUP seen (main.c) */
};

int	 sender_init(struct sender *, const struct conf *, const char *);
int	 sender_run(struct sender *);
void	 sender_cleanup(struct sender *);

void	 sign_hex(const char *, const char *, size_t, const char *, size_t,
	    char [SIGN_HEX_LEN + 1]);
void	 sign_headers(const char *, const char *, size_t, long long,
	    char [SIGN_HEADER_MAX], char [SIGN_HEADER_MAX]);

#endif
