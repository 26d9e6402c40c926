/* conf.c: parses the config file: "name = value" lines, '#' comments. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

#define CONF_LINE_MAX	2047	/* bytes of one line, its newline included */

typedef int (*conf_setter)(struct conf *, const char *, char *, size_t);

static int	set_database(struct conf *, const char *, char *, size_t);
static int	set_body_limit(struct conf *, const char *, char *, size_t);
static int	set_body_timeout(struct conf *, const char *, char *, size_t);
static int	set_auth_fail_limit(struct conf *, const char *, char *, size_t);
static int	set_trusted_proxies(struct conf *, const char *, char *, size_t);
static int	set_log_level(struct conf *, const char *, char *, size_t);
static int	set_log_format(struct conf *, const char *, char *, size_t);
static int	set_public_url(struct conf *, const char *, char *, size_t);
static int	set_maintenance(struct conf *, const char *, char *, size_t);
static int	set_listen(struct conf *, const char *, char *, size_t);
static int	set_workers(struct conf *, const char *, char *, size_t);
static int	set_socket_mode(struct conf *, const char *, char *, size_t);
static int	set_max_requests(struct conf *, const char *, char *, size_t);
static int	set_prepared(struct conf *, const char *, char *, size_t);
static int	set_db_timeout(struct conf *, const char *, char *, size_t);
static int	set_max_holds(struct conf *, const char *, char *, size_t);
static int	set_catalogue(struct conf *, const char *, char *, size_t);
static int	set_availability(struct conf *, const char *, char *, size_t);
static int	set_wh_key_file(struct conf *, const char *, char *, size_t);
static int	set_wh_allow_http(struct conf *, const char *, char *, size_t);
static int	set_wh_allow_private(struct conf *, const char *, char *, size_t);
static int	set_wh_timeout(struct conf *, const char *, char *, size_t);
static int	set_wh_delays(struct conf *, const char *, char *, size_t);
static int	set_wh_concurrency(struct conf *, const char *, char *, size_t);
static int	set_wh_poll(struct conf *, const char *, char *, size_t);

static const struct {
	const char	*name;
	conf_setter	 set;
} settings[] = {
	{ "database",			set_database },
	{ "body_limit",			set_body_limit },
	{ "body_timeout",		set_body_timeout },
	{ "auth_fail_limit",		set_auth_fail_limit },
	{ "trusted_proxies",		set_trusted_proxies },
	{ "log_level",			set_log_level },
	{ "log_format",			set_log_format },
	{ "public_url",			set_public_url },
	{ "maintenance_interval",	set_maintenance },
	{ "listen",			set_listen },
	{ "workers",			set_workers },
	{ "socket_mode",		set_socket_mode },
	{ "max_requests",		set_max_requests },
	{ "prepared_statements",	set_prepared },
	{ "db_timeout",			set_db_timeout },
	{ "max_holds",			set_max_holds },
	{ "catalogue_cache",		set_catalogue },
	{ "availability_cache",		set_availability },
	{ "webhook_key_file",		set_wh_key_file },
	{ "webhook_allow_http",		set_wh_allow_http },
	{ "webhook_allow_private",	set_wh_allow_private },
	{ "webhook_timeout",		set_wh_timeout },
	{ "webhook_retry_delays",	set_wh_delays },
	{ "webhook_concurrency",	set_wh_concurrency },
	{ "webhook_poll_interval",	set_wh_poll },
};

static const char *const level_names[LOG_LEVEL__MAX] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

/* Fills c with the documented defaults. */
void
conf_defaults(struct conf *c)
{
	memset(c, 0, sizeof(*c));
	c->body_limit = 64 * 1024;
	c->body_timeout = 30;
	c->auth_fail_limit = 20;
	c->log_level = LOG_LEVEL_INFO;
	c->maintenance_interval = 300;
	c->workers = 4;
	c->socket_mode = 0660;
	c->db_timeout = 5000;
	c->max_holds = 3;
	c->catalogue_cache = 768;
	c->availability_cache = 1024;
	c->webhook_timeout = 10000;
	c->webhook_delays[0] = 10000;
	c->webhook_delays[1] = 60000;
	c->webhook_ndelays = 2;
	c->webhook_concurrency = 8;
	c->webhook_poll_interval = 5000;
}

static int
parse_long(const char *v, long min, long max, long *out, char *err, size_t errlen)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max) {
		snprintf(err, errlen, "expected a whole number from %ld to %ld, got \"%s\"",
		    min, max, v);
		return -1;
	}
	*out = n;
	return 0;
}

/* parse_long() for an int setting (min and max fit an int). */
static int
parse_int(const char *v, int min, int max, int *out, char *err, size_t errlen)
{
	long	 n;

	if (parse_long(v, min, max, &n, err, errlen) == -1)
		return -1;
	*out = (int)n;
	return 0;
}

static int
copy_value(char *dst, size_t dstlen, const char *v, char *err, size_t errlen)
{
	if (strlen(v) >= dstlen) {
		snprintf(err, errlen, "value longer than %zu characters", dstlen - 1);
		return -1;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int
set_database(struct conf *c, const char *v, char *err, size_t errlen)
{
	return copy_value(c->database, sizeof(c->database), v, err, errlen);
}

static int
set_body_limit(struct conf *c, const char *v, char *err, size_t errlen)
{
	long	 n;

	if (parse_long(v, 1, 16L * 1024 * 1024, &n, err, errlen) == -1)
		return -1;
	c->body_limit = (size_t)n;
	return 0;
}

static int
set_body_timeout(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 0, 3600, &c->body_timeout, err, errlen);
}

static int
set_auth_fail_limit(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 1, 1000000, &c->auth_fail_limit, err, errlen);
}

static int
set_maintenance(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 0, 86400, &c->maintenance_interval, err, errlen);
}

static int
set_listen(struct conf *c, const char *v, char *err, size_t errlen)
{
	return copy_value(c->listen, sizeof(c->listen), v, err, errlen);
}

static int
set_workers(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 1, 256, &c->workers, err, errlen);
}

static int
set_max_requests(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_long(v, 0, 1000000000L, &c->max_requests, err, errlen);
}

/* Milliseconds a request may wait for PostgreSQL, locks included (SPEC 7). */
static int
set_db_timeout(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 100, 600000, &c->db_timeout, err, errlen);
}

/* Live holds one session chain may have at once (SPEC 9). */
static int
set_max_holds(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 1, 1000, &c->max_holds, err, errlen);
}

/* KiB of catalogue a worker caches (catalogue.c); 0: none. */
static int
set_catalogue(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 0, 1048576, &c->catalogue_cache, err, errlen);
}

/* KiB of GET /availability answers a worker keeps (answers.c); 0: none. */
static int
set_availability(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 0, 1048576, &c->availability_cache, err, errlen);
}

/* yes or no (also true/false, on/off, 1/0) into *out. */
static int
parse_bool(const char *v, int *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t	 i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(v, yes[i]) == 0 || strcmp(v, no[i]) == 0) {
			*out = strcmp(v, yes[i]) == 0;
			return 0;
		}
	snprintf(err, errlen, "expected yes or no, got \"%s\"", v);
	return -1;
}

/*
 * The file of the key that seals webhook secrets (seal.c), read now, so
 * that a missing or malformed key stops start-up; empty: webhooks are off.
 */
static int
set_wh_key_file(struct conf *c, const char *v, char *err, size_t errlen)
{
	sodium_memzero(c->webhook_key, sizeof(c->webhook_key));
	if (copy_value(c->webhook_key_file, sizeof(c->webhook_key_file), v, err,
	    errlen) == -1)
		return -1;
	if (*v == '\0')
		return 0;
	return seal_key_load(v, c->webhook_key, err, errlen);
}

static int
set_wh_allow_http(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_bool(v, &c->webhook_allow_http, err, errlen);
}

static int
set_wh_allow_private(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_bool(v, &c->webhook_allow_private, err, errlen);
}

/* Milliseconds one delivery attempt may take (SPEC 11: 10 s). */
static int
set_wh_timeout(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 100, 600000, &c->webhook_timeout, err, errlen);
}

/* Milliseconds before the 2nd, 3rd ... attempt: 1 to 9 of them, by commas. */
static int
set_wh_delays(struct conf *c, const char *v, char *err, size_t errlen)
{
	char	 item[16];
	size_t	 len;
	int	 n = 0;

	while (*v != '\0') {
		len = strcspn(v, ", \t");
		if (len > 0) {
			if (len >= sizeof(item) || n == CONF_MAX_RETRIES) {
				snprintf(err, errlen, "at most %d delays of at most 8 "
				    "digits", CONF_MAX_RETRIES);
				return -1;
			}
			memcpy(item, v, len);
			item[len] = '\0';
			if (parse_int(item, 0, 86400000, &c->webhook_delays[n], err,
			    errlen) == -1)
				return -1;
			n++;
		}
		v += len;
		v += strspn(v, ", \t");
	}
	if (n == 0) {
		snprintf(err, errlen, "expected one or more delays in milliseconds");
		return -1;
	}
	c->webhook_ndelays = n;
	return 0;
}

static int
set_wh_concurrency(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 1, 256, &c->webhook_concurrency, err, errlen);
}

static int
set_wh_poll(struct conf *c, const char *v, char *err, size_t errlen)
{
	return parse_int(v, 100, 3600000, &c->webhook_poll_interval, err, errlen);
}

/* auto, on or off: off for PgBouncer in transaction pooling mode. */
static int
set_prepared(struct conf *c, const char *v, char *err, size_t errlen)
{
	static const char *const names[] = { "auto", "on", "off" };
	int	 i;

	for (i = 0; i < 3; i++)
		if (strcmp(v, names[i]) == 0) {
			c->prepared_statements = i;
			return 0;
		}
	snprintf(err, errlen, "prepared_statements must be auto, on or off, got \"%s\"", v);
	return -1;
}

/* Permissions in octal, such as 0660. */
static int
set_socket_mode(struct conf *c, const char *v, char *err, size_t errlen)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(v, &end, 8);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < 0 || n > 0777) {
		snprintf(err, errlen, "expected octal permissions such as 0660, got \"%s\"", v);
		return -1;
	}
	c->socket_mode = (int)n;
	return 0;
}

/* A list of addresses or networks, separated by commas or spaces. */
static int
set_trusted_proxies(struct conf *c, const char *v, char *err, size_t errlen)
{
	char	 item[IP_STRLEN];
	size_t	 len;

	c->nproxies = 0;
	while (*v != '\0') {
		len = strcspn(v, ", \t");
		if (len > 0) {
			if (len >= sizeof(item) || c->nproxies == IP_MAX_PROXIES) {
				snprintf(err, errlen, "too long a list or entry");
				return -1;
			}
			memcpy(item, v, len);
			item[len] = '\0';
			if (ip_net_parse(item, &c->proxies[c->nproxies]) == -1) {
				snprintf(err, errlen, "\"%s\" is not an address or "
				    "network (ADDR or ADDR/BITS)", item);
				return -1;
			}
			c->nproxies++;
		}
		v += len;
		v += strspn(v, ", \t");
	}
	return 0;
}

static int
set_log_level(struct conf *c, const char *v, char *err, size_t errlen)
{
	int	 i;

	for (i = 0; i < LOG_LEVEL__MAX; i++)
		if (strcmp(v, level_names[i]) == 0) {
			c->log_level = (enum log_level)i;
			return 0;
		}
	snprintf(err, errlen, "log_level must be error, warn, info or debug, "
	    "got \"%s\"", v);
	return -1;
}

/* text (one line of words) or json (one JSON object a line), log.c */
static int
set_log_format(struct conf *c, const char *v, char *err, size_t errlen)
{
	if (strcmp(v, "text") == 0 || strcmp(v, "json") == 0) {
		c->log_format = strcmp(v, "json") == 0 ? LOG_FORMAT_JSON : LOG_FORMAT_TEXT;
		return 0;
	}
	snprintf(err, errlen, "log_format must be text or json, got \"%s\"", v);
	return -1;
}

static int
set_public_url(struct conf *c, const char *v, char *err, size_t errlen)
{
	const char	*host;
	size_t		 len = strlen(v);

	if (len == 0) {
		c->public_url[0] = '\0';
		return 0;
	}
	if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
		snprintf(err, errlen, "public_url must start with http:// or https://");
		return -1;
	}
	/* "http://" alone, or "http:///x", would make links without a host */
	host = v + (v[4] == 's' ? 8 : 7);
	if (*host == '\0' || *host == '/') {
		snprintf(err, errlen, "public_url must name a host after the scheme");
		return -1;
	}
	if (copy_value(c->public_url, sizeof(c->public_url), v, err, errlen) == -1)
		return -1;
	if (len > 0 && c->public_url[len - 1] == '/')
		c->public_url[len - 1] = '\0';
	return 0;
}

/*
 * Sets one setting by name. Returns 0, or -1 with a message in err when the
 * name is unknown or the value is bad.
 */
int
conf_set(struct conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	size_t	 i;

	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		if (strcmp(name, settings[i].name) == 0)
			return settings[i].set(c, value, err, errlen);
	snprintf(err, errlen, "unknown setting \"%s\"", name);
	return -1;
}

static char *
trim(char *s)
{
	char	*e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Cuts a '#' comment: after a value in double quotes, or in a bare value
 * where the '#' follows white space.
 */
static int
cut_comment(char *value, char *err, size_t errlen)
{
	char	*end, *hash;

	value += strspn(value, " \t");
	if (*value != '"') {
		/*
		 * a '#' begins a comment only after white space (or as the
		 * value's first character): "password=a#b" stays whole
		 */
		for (hash = value; (hash = strchr(hash, '#')) != NULL; hash++)
			if (hash == value || hash[-1] == ' ' || hash[-1] == '\t') {
				*hash = '\0';
				break;
			}
		return 0;
	}
	if ((end = strchr(value + 1, '"')) == NULL) {
		snprintf(err, errlen, "unterminated quoted value");
		return -1;
	}
	hash = end + 1 + strspn(end + 1, " \t\r\n");
	if (*hash != '\0' && *hash != '#') {
		snprintf(err, errlen, "text after a quoted value");
		return -1;
	}
	end[1] = '\0';
	return 0;
}

/* Parses one line; returns 0 or -1 with err set. */
static int
conf_line(struct conf *c, char *line, char *err, size_t errlen)
{
	char	*eq, *name, *value;

	name = line + strspn(line, " \t");
	if (*name == '#')
		return 0;
	if ((eq = strchr(name, '=')) == NULL) {
		if (*trim(name) == '\0')
			return 0;
		snprintf(err, errlen, "expected \"name = value\"");
		return -1;
	}
	*eq = '\0';
	if (cut_comment(eq + 1, err, errlen) == -1)
		return -1;
	name = trim(name);
	value = trim(eq + 1);
	if (strlen(value) >= 2 && value[0] == '"' && value[strlen(value) - 1] == '"') {
		value[strlen(value) - 1] = '\0';
		value++;
	}
	return conf_set(c, name, value, err, errlen);
}

/*
 * Reads the config file at path over the defaults already in c. Returns 0,
 * or -1 with "FILE:LINE: problem" in err.
 */
int
conf_load(struct conf *c, const char *path, char *err, size_t errlen)
{
	FILE	*f;
	char	*line = NULL, why[512];
	size_t	 cap = 0;
	ssize_t	 n;
	int	 lineno = 0, rc = 0;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) != -1) {
		lineno++;
		if (n > CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%d: line too long (over %d bytes)", path,
			    lineno, CONF_LINE_MAX);
			rc = -1;
			break;
		}
		/* a NUL would end the line early and hide what follows it */
		if (memchr(line, '\0', (size_t)n) != NULL) {
			snprintf(err, errlen, "%s:%d: a NUL byte in the line", path, lineno);
			rc = -1;
			break;
		}
		if (conf_line(c, line, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/*
 * The settings file to read: the one named (--config, passed as named),
 * else $CALENDENCE_CONFIG, else CONF_DEFAULT_PATH when it exists. NULL when
 * none is named and the default is missing: all defaults. A file named
 * but missing is conf_load()'s error, as is a default that exists but
 * cannot be read.
 */
const char *
conf_path(const char *named)
{
	const char	*env;

	if (named != NULL && *named != '\0')
		return named;
	if ((env = getenv("CALENDENCE_CONFIG")) != NULL && *env != '\0')
		return env;
	if (access(CONF_DEFAULT_PATH, F_OK) == 0)
		return CONF_DEFAULT_PATH;
	return NULL;
}
