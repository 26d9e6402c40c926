/* main.c: the FastCGI worker: settings, signals, the accept loop, the pool. */
#include <sys/select.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>
#include <sodium.h>

#include "app.h"
#include "auth.h"
#include "log.h"
#include "pool.h"
#include "worker.h"

#define VERSION "0.1.0"

static volatile sig_atomic_t	 stopping;
static sigset_t			 wait_mask;	/* the mask while waiting for work */
static struct worker		 wk;		/* the refusal caches are large */
static const char		*config_path;
static const char		*opt_listen;
static int			 opt_workers;
static int			 opt_mode = -1;

/*
 * SIGTERM: stop. It is blocked except while the worker waits for a
 * connection, so a request once accepted is always answered.
 */
static void
on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void
usage(void)
{
	fputs("usage: calendence.fcgi [--config FILE] [--check-config] [--version]\n"
	    "       calendence.fcgi --listen PATH|HOST:PORT [--workers N]\n"
	    "                       [--socket-mode MODE] [--config FILE]\n"
	    "       calendence.fcgi --workers N [--config FILE]\n"
	    "Without --listen it is one FastCGI worker on the listening socket it\n"
	    "is given as fd 0 (lighttpd bin-path, Apache mod_fcgid); with --workers\n"
	    "N too, a supervised pool of N workers sharing that socket. With\n"
	    "--listen it is a supervised pool of N workers on that socket (SIGHUP\n"
	    "reloads, SIGTERM stops). Settings: --config FILE, else CALENDENCE_CONFIG, else\n"
	    CONF_DEFAULT_PATH " if it exists.\n",
	    stderr);
}

/* Loads the settings; a bad one is reported as FILE:LINE: problem. */
static int
load_conf(struct conf *c)
{
	const char	*path = conf_path(config_path);
	char		 err[1024];

	conf_defaults(c);
	if (path != NULL && conf_load(c, path, err, sizeof(err)) == -1) {
		fprintf(stderr, "calendence: %s\n", err);
		return -1;
	}
	log_setup(c->log_format, "calendence");
	return 0;
}

static void
worker_signals(void)
{
	struct sigaction sa;
	sigset_t	 term;

	log_flush_on_crash();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_BLOCK, &term, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
}

/*
 * Waits until the listening socket has a connection and accepts it.
 * Returns 1 with a request, 0 when told to stop, -1 on error. The socket
 * is non-blocking: a connection already waiting is taken at once, without
 * a pselect() first, up to ACCEPT_RUN in a row (then pselect() lets a
 * SIGTERM in); when there is none, or another worker of the pool takes it
 * first, this one writes the log lines it holds (log.c) and waits instead
 * of blocking in accept(). While it waits, the 429s it answered from
 * memory are reported when due (usage.c), so that an idle worker does not
 * sit on them.
 */
#define ACCEPT_RUN	32

static int
next_request(int fd, FCGX_Request *fr)
{
	static int	 run;		/* connections taken without pselect() */
	fd_set		 rfds;
	struct timespec	 ts, *timeout;
	int		 rc, ms;

	for (;;) {
		if (stopping)
			return 0;
		if (run < ACCEPT_RUN) {
			rc = FCGX_Accept_r(fr);
			if (rc >= 0) {
				run++;
				return 1;
			}
			if (rc != -EAGAIN && rc != -EWOULDBLOCK && rc != -EINTR &&
			    rc != -ECONNABORTED)
				return -1;
		}
		run = 0;
		log_flush();
		FD_ZERO(&rfds);
		FD_SET(fd, &rfds);
		timeout = NULL;
		if ((ms = usage_wait_ms(&wk, time(NULL))) >= 0) {
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (long)(ms % 1000) * 1000000L;
			timeout = &ts;
		}
		if ((rc = pselect(fd + 1, &rfds, NULL, NULL, timeout, &wait_mask)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc == 0)
			usage_report(&wk, 1);
	}
}

/* Runs the maintenance function now and then, between requests. */
static void
maintain(time_t *next)
{
	PGresult	*res;
	time_t		 now = time(NULL);

	if (wk.conf.maintenance_interval == 0 || now < *next)
		return;
	*next = now + wk.conf.maintenance_interval +
	    (time_t)randombytes_uniform((uint32_t)wk.conf.maintenance_interval);
	db_deadline(&wk.db, 0);
	if (db_exec(&wk.db, STMT_MAINTENANCE, NULL, &res) == DB_OK) {
		log_msg(wk.conf.log_level, LOG_LEVEL_DEBUG,
		    "maintenance: %s sessions, %s rate windows removed",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
		PQclear(res);
	}
}

/* The accept loop on a listening socket, until SIGTERM or retirement. */
static int
serve(int fd)
{
	FCGX_Request	 fr;
	struct request	 r;
	struct buf	 wire;
	time_t		 next = time(NULL) + 5;

	if (FCGX_InitRequest(&fr, fd, 0) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		fputs("calendence: cannot set up FastCGI\n", stderr);
		return 1;
	}
	req_init(&r, &wk);
	buf_init(&wire);
	while (next_request(fd, &fr) == 1) {
		app_handle(&wk, &r, fr.envp, fr.in, fr.ipcFd);
		app_wire(&r, &wire);
		FCGX_PutStr(wire.p, (int)wire.len, fr.out);
		FCGX_Finish_r(&fr);
		sodium_memzero(wire.p, wire.len);
		app_log(&wk, &r);
		req_reset(&r);
		usage_report(&wk, 0);
		maintain(&next);
		if (wk.conf.max_requests > 0 &&
		    wk.requests >= (unsigned long)wk.conf.max_requests) {
			log_msg(wk.conf.log_level, LOG_LEVEL_INFO,
			    "worker retires after %lu requests", wk.requests);
			break;
		}
	}
	usage_report(&wk, 1);
	log_flush();
	FCGX_Free(&fr, 1);
	req_cleanup(&r);
	buf_cleanup(&wire);
	return 0;
}

/* One worker on fd: its own database connection, then the accept loop. */
static int
worker(int fd, void *arg)
{
	int	 rc;

	(void)arg;
	worker_signals();
	worker_init(&wk);
	log_msg(wk.conf.log_level, LOG_LEVEL_INFO, "worker started (version %s)",
	    VERSION);
	db_deadline(&wk.db, 0);
	if (db_connect(&wk.db) == 0)
		log_msg(wk.conf.log_level, LOG_LEVEL_INFO, "database connected");
	rc = serve(fd);
	worker_cleanup(&wk);
	log_msg(wk.conf.log_level, LOG_LEVEL_INFO, "worker stopped");
	return rc;
}

/* SIGHUP in the pool: new settings for the workers about to start. */
static int
reload(void *arg)
{
	struct conf	 c;

	(void)arg;
	if (load_conf(&c) == -1)
		return -1;
	wk.conf = c;
	log_msg(wk.conf.log_level, LOG_LEVEL_INFO, "settings reloaded");
	return 0;
}

static void
pool_log(void *arg, const char *msg)
{
	(void)arg;
	log_msg(wk.conf.log_level, LOG_LEVEL_INFO, "%s", msg);
}

/* The pool on its own socket (fd -1), or on the web server's (fd 0). */
static int
run_pool(int fd)
{
	struct pool_opts o;
	struct pool_ops	 ops = { worker, reload, pool_log, NULL };

	o.fd = fd;
	o.listen = fd >= 0 ? "the web server's socket (fd 0)" :
	    opt_listen ? opt_listen : wk.conf.listen;
	o.workers = opt_workers ? opt_workers : wk.conf.workers;
	o.socket_mode = opt_mode >= 0 ? opt_mode : wk.conf.socket_mode;
	/* one memory of the keys' last uses for all the workers (auth.c) */
	wk.uses = key_uses_new();
	return pool_run(&o, &ops);
}

static int
parse_args(int argc, char **argv, int *check)
{
	int	 i;
	char	*end;

	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--config") == 0 && v)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--listen") == 0 && v)
			opt_listen = argv[++i];
		else if (strcmp(argv[i], "--workers") == 0 && v) {
			opt_workers = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || opt_workers < 1 || opt_workers > 256)
				return -1;
		} else if (strcmp(argv[i], "--socket-mode") == 0 && v) {
			opt_mode = (int)strtol(argv[++i], &end, 8);
			if (*end != '\0' || opt_mode < 0 || opt_mode > 0777)
				return -1;
		} else if (strcmp(argv[i], "--check-config") == 0)
			*check = 1;
		else
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int	 check = 0;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("calendence.fcgi " VERSION);
		return 0;
	}
	if (parse_args(argc, argv, &check) == -1) {
		usage();
		return 2;
	}
	if (load_conf(&wk.conf) == -1)
		return 1;
	if (check)
		return 0;
	if (sodium_init() < 0 || FCGX_Init() != 0) {
		fputs("calendence: cannot initialise libsodium or libfcgi\n", stderr);
		return 1;
	}
	if (opt_listen != NULL || wk.conf.listen[0] != '\0')
		return run_pool(-1);
	if (FCGX_IsCGI()) {
		fputs("calendence: not started as a FastCGI application (fd 0 is not "
		    "a listening socket); use --listen to run a pool\n", stderr);
		return 1;
	}
	/*
	 * --workers N with the web server's socket: N workers share it (lighttpd
	 * bin-path with max-procs 1), so that one worker held up holds only its
	 * own request, not a share of the traffic queued on its own socket
	 */
	if (opt_workers > 0)
		return run_pool(0);
	return worker(0, NULL);
}
