/* main.c: calendence-webhooks, the webhook sender: settings, signals, the loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "log.h"
#include "sender.h"

#define VERSION "0.1.0"

static volatile sig_atomic_t	 term;		/* SIGTERM and SIGINT seen */
static volatile sig_atomic_t	 hup;		/* SIGHUP seen */
static int			 wake[2] = { -1, -1 };	/* self-pipe: wakes the loop */

static void
on_signal(int sig)
{
	int	 saved = errno;

	if (sig == SIGHUP)
		hup = 1;
	else if (term < 2)
		term++;
	(void)!write(wake[1], "x", 1);
	errno = saved;
}

static void
usage(void)
{
	fputs("usage: calendence-webhooks [--config FILE] [--check-config] [--version]\n"
	    "Sends the webhook deliveries of the database named in the settings\n"
	    "(--config FILE, else CALENDENCE_CONFIG, else " CONF_DEFAULT_PATH " if it\n"
	    "exists; the database: else libpq's environment), until\n"
	    "SIGTERM (attempts in flight finish; a second SIGTERM gives them back to\n"
	    "the queue). SIGHUP reads the settings again. Needs webhook_key_file.\n",
	    stderr);
}

/* Loads the settings; a bad one is reported as FILE:LINE: problem. */
static int
load_conf(struct conf *c, const char *path)
{
	char	 err[1024];

	conf_defaults(c);
	if (path != NULL && conf_load(c, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "calendence-webhooks: %s\n", err);
		return -1;
	}
	log_setup(c->log_format, "calendence-webhooks");
	if (c->webhook_key_file[0] == '\0') {
		fputs("calendence-webhooks: webhook_key_file is not set: no secret can be "
		    "opened, so nothing can be signed\n", stderr);
		return -1;
	}
	return 0;
}

/* SIGTERM, SIGINT and SIGHUP write to a non-blocking pipe the loop polls. */
static int
signals(void)
{
	struct sigaction sa;
	int		 i;

	if (pipe(wake) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		if (fcntl(wake[i], F_SETFL, fcntl(wake[i], F_GETFL) | O_NONBLOCK) == -1 ||
		    fcntl(wake[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	return 0;
}

int
main(int argc, char *argv[])
{
	static struct sender	 s;
	struct conf		 c;
	const char		*path = NULL;
	int			 i, check = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--check-config") == 0)
			check = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			puts("calendence-webhooks " VERSION);
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	path = conf_path(path);	/* else CALENDENCE_CONFIG, else the default */
	if (sodium_init() < 0 || load_conf(&c, path) == -1)
		return 1;
	if (check)
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || signals() == -1 ||
	    sender_init(&s, &c, path) == -1) {
		fputs("calendence-webhooks: cannot set up (libcurl, signals)\n", stderr);
		return 1;
	}
	sodium_memzero(c.webhook_key, sizeof(c.webhook_key));
	s.wake_fd = wake[0];
	s.term = &term;
	s.hup = &hup;
	rc = sender_run(&s);
	sender_cleanup(&s);
	curl_global_cleanup();
	return rc;
}
