/*
 * fuzz_conf.c: the config file, as conf_load() reads it from disk (an
 * in-memory file here). Invariants: a file accepted leaves every setting in
 * its documented range; a file refused names the file and a line.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/socket.h>

#include <unistd.h>

#include "conf.h"
#include "fuzz.h"

static void
check_conf(const struct conf *c)
{
	size_t	 i;

	FUZZ_ASSERT(c->body_limit >= 1 && c->body_limit <= 16 * 1024 * 1024);
	FUZZ_ASSERT(c->body_timeout >= 0 && c->body_timeout <= 3600);
	FUZZ_ASSERT(c->auth_fail_limit >= 1 && c->auth_fail_limit <= 1000000);
	FUZZ_ASSERT(c->nproxies <= IP_MAX_PROXIES);
	for (i = 0; i < c->nproxies; i++)
		FUZZ_ASSERT(c->proxies[i].bits >= 0 &&
		    c->proxies[i].bits <= (c->proxies[i].family == AF_INET ? 32 : 128));
	FUZZ_ASSERT(c->log_level >= LOG_LEVEL_ERROR && c->log_level < LOG_LEVEL__MAX);
	/* a base URL for links: empty, or a scheme and a host */
	FUZZ_ASSERT(c->public_url[0] == '\0' ||
	    (strncmp(c->public_url, "http://", 7) == 0 &&
	    c->public_url[7] != '\0' && c->public_url[7] != '/') ||
	    (strncmp(c->public_url, "https://", 8) == 0 &&
	    c->public_url[8] != '\0' && c->public_url[8] != '/'));
	FUZZ_ASSERT(memchr(c->database, '\0', sizeof(c->database)) != NULL);
	FUZZ_ASSERT(memchr(c->listen, '\0', sizeof(c->listen)) != NULL);
	FUZZ_ASSERT(c->maintenance_interval >= 0 && c->maintenance_interval <= 86400);
	FUZZ_ASSERT(c->workers >= 1 && c->workers <= 256);
	FUZZ_ASSERT(c->socket_mode >= 0 && c->socket_mode <= 0777);
	FUZZ_ASSERT(c->max_requests >= 0 && c->max_requests <= 1000000000L);
	FUZZ_ASSERT(c->prepared_statements >= 0 && c->prepared_statements <= 2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int	 fd = -1;
	static char	 path[64];
	struct conf	 c;
	char		 err[1024];

	if (fd == -1) {
		if ((fd = memfd_create("calendence.conf", 0)) == -1)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) == -1 ||
	    (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	conf_defaults(&c);
	err[0] = '\0';
	if (conf_load(&c, path, err, sizeof(err)) == 0) {
		FUZZ_ASSERT(err[0] == '\0');
		check_conf(&c);
	} else {
		FUZZ_ASSERT(strncmp(err, path, strlen(path)) == 0);
		FUZZ_ASSERT(err[strlen(path)] == ':' &&
		    err[strlen(path) + 1] >= '1' && err[strlen(path) + 1] <= '9');
	}
	return 0;
}
