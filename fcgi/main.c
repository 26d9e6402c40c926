/* main.c: the FastCGI worker: settings, signals, the accept loop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "app.h"
#include "log.h"

#define VERSION "0.1.0"

static volatile sig_atomic_t	 stopping;
static volatile sig_atomic_t	 in_request;

/* SIGTERM: exit now when idle, else after the request in flight. */
static void
on_term(int sig)
{
	(void)sig;
	if (!in_request)
		_exit(0);
	stopping = 1;
}

static void
usage(void)
{
	fputs("usage: calendence.fcgi [--config FILE] [--check-config] [--version]\n"
	    "Runs as a FastCGI worker on the listening socket it is given as fd 0\n"
	    "(lighttpd bin-path, Apache mod_fcgid). Settings: CALENDENCE_CONFIG or\n"
	    "--config; the database from the config's 'database' or libpq's PG*.\n",
	    stderr);
}

/* Loads the settings; a bad one stops start-up with FILE:LINE: problem. */
static int
load_conf(struct conf *c, const char *path)
{
	char	 err[1024];

	conf_defaults(c);
	if (path == NULL)
		path = getenv("CALENDENCE_CONFIG");
	if (path == NULL || *path == '\0')
		return 0;
	if (conf_load(c, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "calendence: %s\n", err);
		return -1;
	}
	return 0;
}

static void
signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Runs the maintenance function now and then, between requests. */
static void
maintain(struct app *app, time_t *next)
{
	PGresult	*res;
	time_t		 now = time(NULL);

	if (app->conf.maintenance_interval == 0 || now < *next)
		return;
	*next = now + app->conf.maintenance_interval +
	    (time_t)randombytes_uniform((uint32_t)app->conf.maintenance_interval);
	if (db_exec(&app->db, STMT_MAINTENANCE, NULL, &res) == DB_OK) {
		log_msg(app->conf.log_level, LOG_LEVEL_DEBUG,
		    "maintenance: %s sessions, %s rate windows removed",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		PQclear(res);
	}
}

static int
serve(struct app *app)
{
	FCGX_Request	 fr;
	struct request	 r;
	struct buf	 wire;
	time_t		 next = time(NULL) + 5;

	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0) {
		fputs("calendence: cannot set up FastCGI\n", stderr);
		return 1;
	}
	req_init(&r, app);
	buf_init(&wire);
	while (!stopping && FCGX_Accept_r(&fr) >= 0) {
		in_request = 1;
		app_handle(app, &r, fr.envp, fr.in);
		app_wire(&r, &wire);
		FCGX_PutStr(wire.p, (int)wire.len, fr.out);
		FCGX_Finish_r(&fr);
		sodium_memzero(wire.p, wire.len);
		app_log(app, &r);
		req_reset(&r);
		maintain(app, &next);
		in_request = 0;
	}
	req_cleanup(&r);
	buf_cleanup(&wire);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct app app;	/* the refusal caches are large */
	const char	*config = NULL;
	int		 i, check = 0, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--check-config") == 0)
			check = 1;
		else if (strcmp(argv[i], "--version") == 0) {
			puts("calendence.fcgi " VERSION);
			return 0;
		} else {
			usage();
			return 2;
		}
	}
	if (load_conf(&app.conf, config) == -1)
		return 1;
	if (check)
		return 0;
	if (sodium_init() < 0) {
		fputs("calendence: libsodium cannot start\n", stderr);
		return 1;
	}
	if (FCGX_IsCGI()) {
		fputs("calendence: not started as a FastCGI application (fd 0 is not "
		    "a listening socket)\n", stderr);
		usage();
		return 1;
	}
	signals();
	app_init(&app);
	log_msg(app.conf.log_level, LOG_LEVEL_INFO, "worker started (version %s)",
	    VERSION);
	if (db_connect(&app.db) == 0)
		log_msg(app.conf.log_level, LOG_LEVEL_INFO, "database connected");
	rc = serve(&app);
	app_cleanup(&app);
	log_msg(app.conf.log_level, LOG_LEVEL_INFO, "worker stopped");
	return rc;
}
