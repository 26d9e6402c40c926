/* test_conf.c: the settings and the config file parser (fcgi/conf.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "conf.h"
#include "db.h"

/* One setting of c rendered as text, so that cases can be rows of strings. */
static const char *
field(const struct conf *c, const char *name, char *out, size_t len)
{
	static const char *const levels[] = { "error", "warn", "info", "debug" };
	size_t	 i, n;

	out[0] = '\0';
	if (strcmp(name, "database") == 0)
		snprintf(out, len, "%s", c->database);
	else if (strcmp(name, "body_limit") == 0)
		snprintf(out, len, "%zu", c->body_limit);
	else if (strcmp(name, "body_timeout") == 0)
		snprintf(out, len, "%d", c->body_timeout);
	else if (strcmp(name, "auth_fail_limit") == 0)
		snprintf(out, len, "%d", c->auth_fail_limit);
	else if (strcmp(name, "log_level") == 0)
		snprintf(out, len, "%s", levels[c->log_level]);
	else if (strcmp(name, "public_url") == 0)
		snprintf(out, len, "%s", c->public_url);
	else if (strcmp(name, "maintenance_interval") == 0)
		snprintf(out, len, "%d", c->maintenance_interval);
	else if (strcmp(name, "listen") == 0)
		snprintf(out, len, "%s", c->listen);
	else if (strcmp(name, "workers") == 0)
		snprintf(out, len, "%d", c->workers);
	else if (strcmp(name, "socket_mode") == 0)
		snprintf(out, len, "0%o", (unsigned)c->socket_mode);
	else if (strcmp(name, "max_requests") == 0)
		snprintf(out, len, "%ld", c->max_requests);
	else if (strcmp(name, "prepared_statements") == 0)
		snprintf(out, len, "%d", c->prepared_statements);
	else if (strcmp(name, "db_timeout") == 0)
		snprintf(out, len, "%d", c->db_timeout);
	else if (strcmp(name, "max_holds") == 0)
		snprintf(out, len, "%d", c->max_holds);
	else if (strcmp(name, "trusted_proxies") == 0)
		for (i = 0; i < c->nproxies; i++) {
			struct ip_addr	 a;
			char		 ip[IP_STRLEN];

			a.family = c->proxies[i].family;
			memcpy(a.addr, c->proxies[i].addr, sizeof(a.addr));
			ip_format(&a, ip);
			n = strlen(out);
			snprintf(out + n, len - n, "%s%s/%d", i ? " " : "", ip,
			    c->proxies[i].bits);
		}
	else
		cr_assert_fail("no such field %s", name);
	return out;
}

Test(conf, defaults)
{
	static const struct {
		const char	*name;
		const char	*value;
	} want[] = {
		{ "database", "" },
		{ "body_limit", "65536" },
		{ "body_timeout", "30" },
		{ "auth_fail_limit", "20" },
		{ "trusted_proxies", "" },
		{ "log_level", "info" },
		{ "public_url", "" },
		{ "maintenance_interval", "300" },
		{ "listen", "" },
		{ "workers", "4" },
		{ "socket_mode", "0660" },
		{ "max_requests", "0" },
		{ "db_timeout", "5000" },
		{ "max_holds", "3" },
	};
	struct conf	 c;
	char		 text[512];
	size_t		 i;

	memset(&c, 0x5a, sizeof(c));
	conf_defaults(&c);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_str_eq(field(&c, want[i].name, text, sizeof(text)),
		    want[i].value, "default %s", want[i].name);
	cr_expect_eq(c.nproxies, 0);
	cr_expect_eq(c.prepared_statements, DB_PREPARE_AUTO);
}

Test(conf, set_good_values)
{
	static const struct {
		const char	*name;
		const char	*value;
		const char	*want;		/* the field afterwards */
	} cases[] = {
		{ "database", "host=/run/pg dbname=calendence", "host=/run/pg dbname=calendence" },
		{ "database", "", "" },
		{ "body_limit", "1", "1" },
		{ "body_limit", "1024", "1024" },
		{ "body_limit", "16777216", "16777216" },
		{ "body_timeout", "0", "0" },
		{ "body_timeout", "3600", "3600" },
		{ "auth_fail_limit", "1", "1" },
		{ "auth_fail_limit", "1000000", "1000000" },
		{ "maintenance_interval", "0", "0" },
		{ "maintenance_interval", "86400", "86400" },
		{ "log_level", "error", "error" },
		{ "log_level", "warn", "warn" },
		{ "log_level", "info", "info" },
		{ "log_level", "debug", "debug" },
		{ "public_url", "", "" },
		{ "public_url", "https://api.example.com", "https://api.example.com" },
		{ "public_url", "https://api.example.com/", "https://api.example.com" },
		{ "public_url", "http://127.0.0.1:8080", "http://127.0.0.1:8080" },
		{ "trusted_proxies", "", "" },
		{ "trusted_proxies", "127.0.0.1", "127.0.0.1/32" },
		{ "trusted_proxies", "10.0.0.0/8, 192.168.0.1 2001:db8::/32",
		    "10.0.0.0/8 192.168.0.1/32 2001:db8::/32" },
		{ "trusted_proxies", " ,10.0.0.0/8,,\t::1 , ", "10.0.0.0/8 ::1/128" },
		{ "listen", "/run/calendence/calendence.sock", "/run/calendence/calendence.sock" },
		{ "listen", "127.0.0.1:9000", "127.0.0.1:9000" },
		{ "workers", "1", "1" },
		{ "workers", "256", "256" },
		{ "socket_mode", "0600", "0600" },
		{ "socket_mode", "777", "0777" },
		{ "socket_mode", "0", "00" },
		{ "max_requests", "0", "0" },
		{ "max_requests", "1000000000", "1000000000" },
		{ "prepared_statements", "auto", "0" },
		{ "prepared_statements", "on", "1" },
		{ "prepared_statements", "off", "2" },
		{ "db_timeout", "100", "100" },
		{ "db_timeout", "600000", "600000" },
		{ "max_holds", "1", "1" },
		{ "max_holds", "1000", "1000" },
	};
	struct conf	 c;
	char		 err[256], text[512];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		err[0] = '\0';
		cr_expect_eq(conf_set(&c, cases[i].name, cases[i].value, err, sizeof(err)),
		    0, "%s = %s: %s", cases[i].name, cases[i].value, err);
		cr_expect_str_eq(field(&c, cases[i].name, text, sizeof(text)),
		    cases[i].want, "%s = %s", cases[i].name, cases[i].value);
	}
}

Test(conf, set_prepared_maps_to_db_prepare)
{
	struct conf	 c;
	char		 err[256];

	conf_defaults(&c);
	cr_assert_eq(conf_set(&c, "prepared_statements", "off", err, sizeof(err)), 0);
	cr_expect_eq(c.prepared_statements, DB_PREPARE_OFF);
	cr_assert_eq(conf_set(&c, "prepared_statements", "on", err, sizeof(err)), 0);
	cr_expect_eq(c.prepared_statements, DB_PREPARE_ON);
	cr_assert_eq(conf_set(&c, "prepared_statements", "auto", err, sizeof(err)), 0);
	cr_expect_eq(c.prepared_statements, DB_PREPARE_AUTO);
}

Test(conf, set_bad_values)
{
	static const struct {
		const char	*name;
		const char	*value;
		const char	*err;
	} cases[] = {
		{ "body_limit", "0", "expected a whole number from 1 to 16777216, got \"0\"" },
		{ "body_limit", "16777217",
		    "expected a whole number from 1 to 16777216, got \"16777217\"" },
		{ "body_limit", "abc", "expected a whole number from 1 to 16777216, got \"abc\"" },
		{ "body_limit", "", "expected a whole number from 1 to 16777216, got \"\"" },
		{ "body_limit", "64k", "expected a whole number from 1 to 16777216, got \"64k\"" },
		{ "body_limit", "-5", "expected a whole number from 1 to 16777216, got \"-5\"" },
		{ "body_limit", "1.5", "expected a whole number from 1 to 16777216, got \"1.5\"" },
		{ "body_limit", "99999999999999999999",
		    "expected a whole number from 1 to 16777216, got \"99999999999999999999\"" },
		{ "body_timeout", "-1", "expected a whole number from 0 to 3600, got \"-1\"" },
		{ "body_timeout", "3601", "expected a whole number from 0 to 3600, got \"3601\"" },
		{ "body_timeout", "30s", "expected a whole number from 0 to 3600, got \"30s\"" },
		{ "auth_fail_limit", "0", "expected a whole number from 1 to 1000000, got \"0\"" },
		{ "auth_fail_limit", "1000001",
		    "expected a whole number from 1 to 1000000, got \"1000001\"" },
		{ "maintenance_interval", "-1",
		    "expected a whole number from 0 to 86400, got \"-1\"" },
		{ "maintenance_interval", "86401",
		    "expected a whole number from 0 to 86400, got \"86401\"" },
		{ "workers", "0", "expected a whole number from 1 to 256, got \"0\"" },
		{ "workers", "257", "expected a whole number from 1 to 256, got \"257\"" },
		{ "max_requests", "-1", "expected a whole number from 0 to 1000000000, got \"-1\"" },
		{ "max_requests", "1000000001",
		    "expected a whole number from 0 to 1000000000, got \"1000000001\"" },
		{ "socket_mode", "0800", "expected octal permissions such as 0660, got \"0800\"" },
		{ "socket_mode", "1777", "expected octal permissions such as 0660, got \"1777\"" },
		{ "socket_mode", "rw", "expected octal permissions such as 0660, got \"rw\"" },
		{ "socket_mode", "", "expected octal permissions such as 0660, got \"\"" },
		{ "log_level", "INFO", "log_level must be error, warn, info or debug, got \"INFO\"" },
		{ "log_level", "verbose",
		    "log_level must be error, warn, info or debug, got \"verbose\"" },
		{ "log_level", "", "log_level must be error, warn, info or debug, got \"\"" },
		{ "prepared_statements", "yes",
		    "prepared_statements must be auto, on or off, got \"yes\"" },
		{ "db_timeout", "99", "expected a whole number from 100 to 600000, got \"99\"" },
		{ "db_timeout", "5s", "expected a whole number from 100 to 600000, got \"5s\"" },
		{ "max_holds", "0", "expected a whole number from 1 to 1000, got \"0\"" },
		{ "public_url", "ftp://x", "public_url must start with http:// or https://" },
		{ "public_url", "api.example.com", "public_url must start with http:// or https://" },
		/* found by fuzz_conf: "http://" became "http:/", links without a host */
		{ "public_url", "http://", "public_url must name a host after the scheme" },
		{ "public_url", "https://", "public_url must name a host after the scheme" },
		{ "public_url", "https:///api", "public_url must name a host after the scheme" },
		{ "trusted_proxies", "10.0.0.0/33",
		    "\"10.0.0.0/33\" is not an address or network (ADDR or ADDR/BITS)" },
		{ "trusted_proxies", "127.0.0.1, localhost",
		    "\"localhost\" is not an address or network (ADDR or ADDR/BITS)" },
		{ "trusted_proxies", "10.0.0.0/8;10.1.0.0/16",
		    "\"10.0.0.0/8;10.1.0.0/16\" is not an address or network (ADDR or ADDR/BITS)" },
		{ "no_such_setting", "1", "unknown setting \"no_such_setting\"" },
		{ "Body_Limit", "1", "unknown setting \"Body_Limit\"" },
		{ "", "1", "unknown setting \"\"" },
	};
	struct conf	 c;
	char		 err[256], before[512], after[512];
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_defaults(&c);
		if (cases[i].name[0] != '\0' && strstr(cases[i].err, "unknown") == NULL)
			field(&c, cases[i].name, before, sizeof(before));
		err[0] = '\0';
		cr_expect_eq(conf_set(&c, cases[i].name, cases[i].value, err, sizeof(err)),
		    -1, "%s = %s", cases[i].name, cases[i].value);
		cr_expect_str_eq(err, cases[i].err, "%s = %s", cases[i].name,
		    cases[i].value);
		/* a bad value leaves the setting as it was (a list: undefined) */
		if (strcmp(cases[i].name, "trusted_proxies") != 0 &&
		    cases[i].name[0] != '\0' && strstr(cases[i].err, "unknown") == NULL)
			cr_expect_str_eq(field(&c, cases[i].name, after, sizeof(after)),
			    before, "%s = %s changed it", cases[i].name, cases[i].value);
	}
}

/* Values longer than their field are refused, one short of it accepted. */
Test(conf, set_length_limits)
{
	static const struct {
		const char	*name;
		size_t		 max;		/* longest accepted value */
		const char	*prefix;
	} cases[] = {
		{ "database", 1023, "" },
		{ "public_url", 255, "https://" },
		{ "listen", 255, "/" },
	};
	struct conf	 c;
	char		 v[2048], err[256], want[64];
	size_t		 i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].prefix);
		memcpy(v, cases[i].prefix, n);
		memset(v + n, 'a', cases[i].max - n);
		v[cases[i].max] = '\0';
		conf_defaults(&c);
		cr_expect_eq(conf_set(&c, cases[i].name, v, err, sizeof(err)), 0,
		    "%s of %zu: %s", cases[i].name, cases[i].max, err);
		v[cases[i].max] = 'a';
		v[cases[i].max + 1] = '\0';
		cr_expect_eq(conf_set(&c, cases[i].name, v, err, sizeof(err)), -1,
		    "%s of %zu", cases[i].name, cases[i].max + 1);
		snprintf(want, sizeof(want), "value longer than %zu characters",
		    cases[i].max);
		cr_expect_str_eq(err, want);
	}
}

Test(conf, trusted_proxies_limit)
{
	struct conf	 c;
	char		 v[1024], err[256];
	size_t		 len = 0;
	int		 i;

	for (i = 0; i < IP_MAX_PROXIES; i++)
		len += (size_t)snprintf(v + len, sizeof(v) - len, "10.0.0.%d ", i);
	conf_defaults(&c);
	cr_expect_eq(conf_set(&c, "trusted_proxies", v, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.nproxies, IP_MAX_PROXIES);
	snprintf(v + len, sizeof(v) - len, "10.0.1.1");
	cr_expect_eq(conf_set(&c, "trusted_proxies", v, err, sizeof(err)), -1);
	cr_expect_str_eq(err, "too long a list or entry");
	/* a new list replaces the old one */
	cr_expect_eq(conf_set(&c, "trusted_proxies", "::1", err, sizeof(err)), 0);
	cr_expect_eq(c.nproxies, 1);
}

/* A config file in a fresh temporary path; the caller unlinks it. */
static void
write_file(char path[64], const char *text)
{
	FILE	*f;
	int	 fd;

	strcpy(path, "/tmp/calendence-unit-conf.XXXXXX");
	cr_assert_neq(fd = mkstemp(path), -1);
	cr_assert_not_null(f = fdopen(fd, "w"));
	fputs(text, f);
	cr_assert_eq(fclose(f), 0);
}

Test(conf, load_a_full_file)
{
	char		 path[64], err[512] = "", text[512];
	struct conf	 c;
	static const struct {
		const char	*name;
		const char	*value;
	} want[] = {
		{ "database", "host=/run/pg dbname=calendence" },
		{ "body_limit", "1024" },
		{ "auth_fail_limit", "5" },
		{ "trusted_proxies", "10.0.0.0/8 ::1/128" },
		{ "log_level", "debug" },
		{ "public_url", "https://api.example.com" },
		{ "maintenance_interval", "0" },
		{ "listen", "127.0.0.1:9000" },
		{ "workers", "8" },
		{ "socket_mode", "0600" },
		{ "max_requests", "10000" },
		{ "prepared_statements", "2" },
	};
	size_t		 i;

	write_file(path,
	    "# calendence.conf for the unit tests\n"
	    "\n"
	    "   \n"
	    "database = \"host=/run/pg dbname=calendence\"   # quoted, with a comment\n"
	    "body_limit=1024\n"
	    "\tauth_fail_limit   =   5\t\n"
	    "trusted_proxies = 10.0.0.0/8, ::1\n"
	    "  # an indented comment\n"
	    "log_level = \"debug\"\n"
	    "public_url = https://api.example.com/\n"
	    "maintenance_interval = 0\n"
	    "listen = 127.0.0.1:9000\n"
	    "workers = 8\n"
	    "socket_mode = 0600\n"
	    "max_requests = 10000\n"
	    "prepared_statements = off");		/* no final newline */
	conf_defaults(&c);
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_expect_str_eq(field(&c, want[i].name, text, sizeof(text)),
		    want[i].value, "%s", want[i].name);
	unlink(path);
}

/* The shipped example's syntax: empty values, every name known. */
Test(conf, load_empty_values_and_crlf)
{
	char		 path[64], err[512] = "";
	struct conf	 c;

	write_file(path,
	    "database =\r\n"
	    "trusted_proxies =\r\n"
	    "public_url = \"\"\r\n"
	    "listen =\r\n"
	    "log_level = warn\r\n");
	conf_defaults(&c);
	strcpy(c.database, "stale");
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.database, "");
	cr_expect_str_eq(c.public_url, "");
	cr_expect_eq(c.nproxies, 0);
	cr_expect_eq(c.log_level, LOG_LEVEL_WARN);
	unlink(path);
}

/* What a file does not set keeps its earlier value. */
Test(conf, load_over_existing_values)
{
	char		 path[64], err[512] = "";
	struct conf	 c;

	write_file(path, "log_level = error\n");
	conf_defaults(&c);
	c.body_limit = 123;
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.body_limit, 123);
	cr_expect_eq(c.log_level, LOG_LEVEL_ERROR);
	unlink(path);

	write_file(path, "");
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	unlink(path);
}

/* Errors name the file and the line, counting blank and comment lines. */
Test(conf, load_errors_name_file_and_line)
{
	static const struct {
		const char	*text;
		const char	*err;		/* after "PATH:" */
	} cases[] = {
		{ "# settings\n\nbody_limit = 10\ncolour = blue\nworkers = 2\n",
		    "4: unknown setting \"colour\"" },
		{ "# a\n# b\n\n\nbody_limit = lots\n",
		    "5: expected a whole number from 1 to 16777216, got \"lots\"" },
		{ "log_level = info\njust some words\n", "2: expected \"name = value\"" },
		{ "= 5\n", "1: unknown setting \"\"" },
		{ "log_level = info\nlog_level = loud # comment\n",
		    "2: log_level must be error, warn, info or debug, got \"loud\"" },
		{ "trusted_proxies = 10.0.0.1\r\ntrusted_proxies = nope\r\n",
		    "2: \"nope\" is not an address or network (ADDR or ADDR/BITS)" },
		{ "workers = 2\nworkers = 0", "2: expected a whole number from 1 to 256, got \"0\"" },
	};
	char		 path[64], err[512], want[640];
	struct conf	 c;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(path, cases[i].text);
		conf_defaults(&c);
		err[0] = '\0';
		cr_expect_eq(conf_load(&c, path, err, sizeof(err)), -1, "%s", cases[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].err);
		cr_expect_str_eq(err, want);
		unlink(path);
	}
}

Test(conf, load_a_line_too_long)
{
	char		 path[64], err[512] = "", want[128];
	char		*text = malloc(5000);
	struct conf	 c;

	cr_assert_not_null(text);
	strcpy(text, "log_level = info\ndatabase = ");
	memset(text + strlen(text), 'a', 4000);
	strcpy(text + strlen("log_level = info\ndatabase = ") + 4000, "\n");
	write_file(path, text);
	conf_defaults(&c);
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:2: line too long (over 2047 bytes)", path);
	cr_expect_str_eq(err, want);
	unlink(path);
	free(text);
}

/*
 * A NUL byte in a line is refused with its line number: read as a C string
 * the line would end at it, and "body_limit = 10\0000" would be taken as 10.
 * In the last line too, and the longest line that fits is still read.
 */
Test(conf, load_a_nul_byte)
{
	static const char	 mid[] = "log_level = info\nbody_limit = 10\0000\nworkers = 2\n";
	static const char	 last[] = "log_level = info\nbody_limit = 10\0000";
	const struct {
		const char	*text;
		size_t		 len;
	} cases[] = { { mid, sizeof(mid) - 1 }, { last, sizeof(last) - 1 } };
	char		 path[64], err[512], want[128];
	struct conf	 c;
	FILE		*f;
	size_t		 i;

	for (i = 0; i < 2; i++) {
		write_file(path, "");
		cr_assert_not_null(f = fopen(path, "w"));
		cr_assert_eq(fwrite(cases[i].text, 1, cases[i].len, f), cases[i].len);
		cr_assert_eq(fclose(f), 0);
		conf_defaults(&c);
		err[0] = '\0';
		cr_expect_eq(conf_load(&c, path, err, sizeof(err)), -1, "case %zu", i);
		snprintf(want, sizeof(want), "%s:2: a NUL byte in the line", path);
		cr_expect_str_eq(err, want);
		cr_expect_eq(c.body_limit, 64 * 1024, "case %zu: body_limit %zu", i, c.body_limit);
		unlink(path);
	}
}

Test(conf, load_the_longest_line)
{
	char		 path[64], err[512] = "";
	char		*text = malloc(3000);
	struct conf	 c;
	size_t		 pre = strlen("database = ");

	/* 2047 bytes with the newline: database = and 2035 letters */
	cr_assert_not_null(text);
	strcpy(text, "database = ");
	memset(text + pre, 'a', 2047 - pre - 1);
	strcpy(text + 2047 - 1, "\n");
	write_file(path, text);
	conf_defaults(&c);
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), -1);
	/* too long for the database field (1023), but not for a line */
	cr_expect_null(strstr(err, "line too long"), "%s", err);
	cr_expect_not_null(strstr(err, ":1: value longer than 1023 characters"), "%s", err);
	unlink(path);
	free(text);
}

Test(conf, load_a_missing_file)
{
	char		 err[512] = "";
	struct conf	 c;

	conf_defaults(&c);
	cr_expect_eq(conf_load(&c, "/nonexistent/calendence.conf", err, sizeof(err)), -1);
	cr_expect_str_eq(err, "/nonexistent/calendence.conf: No such file or directory");
}

/* The example file shipped in conf/ loads as it is. */
Test(conf, load_the_shipped_example)
{
	char		 err[512] = "";
	struct conf	 c;

	conf_defaults(&c);
	if (access("conf/calendence.conf", R_OK) != 0)
		cr_skip_test("run from the project's root to check conf/calendence.conf");
	cr_expect_eq(conf_load(&c, "conf/calendence.conf", err, sizeof(err)), 0, "%s", err);
}

Test(conf, hash_inside_quotes_is_kept)
{
	struct conf	 c;
	char		 path[] = "/tmp/calendence-conf-XXXXXX", err[512];
	int		 fd = mkstemp(path);
	FILE		*f = fdopen(fd, "w");

	fputs("database = \"password=a#b host=x\"  # a comment\n"
	    "log_level = debug # trailing comment\n", f);
	fclose(f);
	conf_defaults(&c);
	cr_assert_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_str_eq(c.database, "password=a#b host=x");
	cr_expect_eq(c.log_level, LOG_LEVEL_DEBUG);
	f = fopen(path, "w");
	fputs("database = \"unterminated\n", f);
	fclose(f);
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), -1);
	cr_expect(strstr(err, ":1: unterminated quoted value") != NULL, "%s", err);
	unlink(path);
}

/*
 * Bare values: a '#' begins a comment only after white space (or as the
 * value's first character), so "password=a#b" stays whole.
 */
Test(conf, hash_in_a_bare_value)
{
	static const struct {
		const char	*line;
		const char	*database;
	} cases[] = {
		{ "database = password=a#b\n", "password=a#b" },
		{ "database = password=a#b host=x # the host\n", "password=a#b host=x" },
		{ "database = password=a#b\t# tab before\n", "password=a#b" },
		{ "database = a## b\n", "a## b" },
		{ "database = #all comment\n", "" },
		{ "database=x#y#z\r\n", "x#y#z" },
	};
	struct conf	 c;
	char		 path[] = "/tmp/calendence-conf-XXXXXX", err[512];
	int		 fd = mkstemp(path);
	size_t		 i;
	FILE		*f;

	cr_assert_geq(fd, 0);
	close(fd);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_not_null(f = fopen(path, "w"));
		fputs(cases[i].line, f);
		fclose(f);
		conf_defaults(&c);
		cr_expect_eq(conf_load(&c, path, err, sizeof(err)), 0, "%zu: %s", i, err);
		cr_expect_str_eq(c.database, cases[i].database, "case %zu", i);
	}
	/* a comment after a number still works; one glued to it does not */
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("workers = 7 # seven\n", f);
	fclose(f);
	conf_defaults(&c);
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.workers, 7);
	cr_assert_not_null(f = fopen(path, "w"));
	fputs("workers = 7# seven\n", f);
	fclose(f);
	cr_expect_eq(conf_load(&c, path, err, sizeof(err)), -1);
	cr_expect(strstr(err, ":1: expected a whole number") != NULL, "%s", err);
	unlink(path);
}

Test(conf, log_format)
{
	struct conf	 c;
	char		 err[512] = "";

	conf_defaults(&c);
	cr_expect_eq(c.log_format, LOG_FORMAT_TEXT);
	cr_expect_eq(conf_set(&c, "log_format", "json", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.log_format, LOG_FORMAT_JSON);
	cr_expect_eq(conf_set(&c, "log_format", "text", err, sizeof(err)), 0, "%s", err);
	cr_expect_eq(c.log_format, LOG_FORMAT_TEXT);
	cr_expect_eq(conf_set(&c, "log_format", "xml", err, sizeof(err)), -1);
	cr_expect_str_eq(err, "log_format must be text or json, got \"xml\"");
}

/*
 * The file read when none is named: --config, else CALENDENCE_CONFIG, else
 * the default when it exists (built in from the Makefile's SYSCONFDIR).
 */
Test(conf, the_path_read)
{
	char	*saved = getenv("CALENDENCE_CONFIG");

	saved = saved ? strdup(saved) : NULL;
	cr_expect_str_eq(CONF_DEFAULT_PATH + strlen(CONF_DEFAULT_PATH) -
	    strlen("/calendence.conf"), "/calendence.conf");
	setenv("CALENDENCE_CONFIG", "/from/env.conf", 1);
	cr_expect_str_eq(conf_path("/named.conf"), "/named.conf");
	cr_expect_str_eq(conf_path(NULL), "/from/env.conf");
	cr_expect_str_eq(conf_path(""), "/from/env.conf");
	setenv("CALENDENCE_CONFIG", "", 1);
	if (access(CONF_DEFAULT_PATH, F_OK) == 0)
		cr_expect_str_eq(conf_path(NULL), CONF_DEFAULT_PATH);
	else
		cr_expect_null(conf_path(NULL));
	unsetenv("CALENDENCE_CONFIG");
	if (access(CONF_DEFAULT_PATH, F_OK) != 0)
		cr_expect_null(conf_path(NULL));
	if (saved != NULL)
		setenv("CALENDENCE_CONFIG", saved, 1);
	free(saved);
}
