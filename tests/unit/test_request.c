/* test_request.c: FastCGI parameters -> struct request, query strings, ids (fcgi/request.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "app.h"
#include "worker.h"
#include "request.h"

static const char alphabet[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void
setup(void)
{
	cr_assert(sodium_init() >= 0);
}

TestSuite(request, .init = setup);

/* req_parse with no trusted proxies, as the tests of this file want it. */
static void
parse(struct request *r, char **envp)
{
	req_init(r, NULL);
	req_parse(r, envp, NULL, 0);
}

Test(request, parse_a_typical_get)
{
	char *envp[] = {
		"REQUEST_METHOD=GET",
		"REQUEST_URI=/api/v1/services/?page=2",
		"HTTP_AUTHORIZATION=Bearer cal_biz_x",
		"CONTENT_TYPE=application/json",
		"HTTP_CALENDENCE_BUSINESS=123e4567-e89b-12d3-a456-426614174000",
		"HTTP_HOST=api.example.com",
		"HTTP_X_FORWARDED_FOR=198.51.100.1",
		"REMOTE_ADDR=203.0.113.7",
		NULL
	};
	struct request	 r;

	parse(&r, envp);
	cr_expect_str_eq(r.method, "GET");
	cr_expect_eq(r.is_head, 0);
	cr_expect_eq(r.path_ok, 1);
	cr_expect_str_eq(r.path, "/api/v1/services");
	cr_expect_str_eq(r.query, "page=2");
	cr_expect_str_eq(r.authorization, "Bearer cal_biz_x");
	cr_expect_str_eq(r.content_type, "application/json");
	cr_expect_str_eq(r.business_hdr, "123e4567-e89b-12d3-a456-426614174000");
	cr_expect_str_eq(r.xff, "198.51.100.1");
	cr_expect_str_eq(r.remote_addr, "203.0.113.7");
	cr_expect_eq(r.content_length, -1);
	cr_expect_null(r.repeated);
	cr_expect_null(r.origin);
	cr_expect_eq(r.client_ok, 1);
	cr_expect_str_eq(r.client_ip, "203.0.113.7");	/* no proxy is trusted */
	cr_expect_str_eq(r.ip_subject, "203.0.113.7");
	req_cleanup(&r);
}

Test(request, parse_with_nothing_at_all)
{
	char		*envp[] = { NULL };
	struct request	 r;

	parse(&r, envp);
	cr_expect_str_eq(r.method, "");
	cr_expect_eq(r.path_ok, 0);
	cr_expect_str_eq(r.query, "");
	cr_expect_null(r.authorization);
	cr_expect_null(r.content_type);
	cr_expect_null(r.origin);
	cr_expect_null(r.business_hdr);
	cr_expect_null(r.xff);
	cr_expect_null(r.remote_addr);
	cr_expect_eq(r.content_length, -1);
	cr_expect_eq(r.client_ok, 0);
	cr_expect_str_eq(r.client_ip, "unknown");
	cr_expect_str_eq(r.ip_subject, "unknown");
	req_cleanup(&r);
}

Test(request, request_id_is_req_and_16_base62)
{
	char		*envp[] = { "REQUEST_METHOD=GET", NULL };
	struct request	 r;
	char		 first[REQ_ID_LEN + 1];
	size_t		 i;

	parse(&r, envp);
	cr_expect_eq(strlen(r.id), 20, "%s", r.id);
	cr_expect_eq(strncmp(r.id, "req_", 4), 0, "%s", r.id);
	for (i = 4; i < 20; i++)
		cr_expect_neq(strchr(alphabet, r.id[i]), NULL, "%s", r.id);
	memcpy(first, r.id, sizeof(first));
	req_reset(&r);
	req_parse(&r, envp, NULL, 0);
	cr_expect_str_neq(r.id, first);
	req_cleanup(&r);
}

/*
 * Ids come from a buffer of random bytes: a forked worker (the pool, lighttpd's
 * --workers N) must not take the same bytes as its parent would next.
 */
Test(request, a_forked_child_makes_other_ids_than_its_parent)
{
	char		*envp[] = { "REQUEST_METHOD=GET", NULL };
	struct request	 r;
	char		 child[REQ_ID_LEN + 1] = "";
	int		 fd[2], st;
	pid_t		 pid;

	parse(&r, envp);	/* the buffer is filled in the parent */
	cr_assert_eq(pipe(fd), 0);
	if ((pid = fork()) == 0) {
		req_reset(&r);
		req_parse(&r, envp, NULL, 0);
		_exit(write(fd[1], r.id, REQ_ID_LEN) == REQ_ID_LEN ? 0 : 1);
	}
	cr_assert_gt(pid, 0);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_assert_eq(read(fd[0], child, REQ_ID_LEN), REQ_ID_LEN);
	req_reset(&r);
	req_parse(&r, envp, NULL, 0);
	cr_expect_str_neq(r.id, child, "the child's id is the parent's next: %s", child);
	close(fd[0]);
	close(fd[1]);
	req_cleanup(&r);
}

Test(request, head_is_flagged)
{
	static const struct {
		char		*method;	/* the FastCGI parameter */
		int		 head;
	} cases[] = {
		{ "REQUEST_METHOD=HEAD", 1 },
		{ "REQUEST_METHOD=GET", 0 },
		{ "REQUEST_METHOD=head", 0 },
		{ "REQUEST_METHOD=HEADER", 0 },
	};
	struct request	 r;
	char		*envp[2] = { NULL, NULL };
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		envp[0] = cases[i].method;
		parse(&r, envp);
		cr_expect_eq(r.is_head, cases[i].head, "%s", cases[i].method);
		cr_expect_str_eq(r.method, cases[i].method + strlen("REQUEST_METHOD="));
		req_cleanup(&r);
	}
}

/* A method that does not fit the 16-byte copy is left empty (then a 405). */
Test(request, overlong_method_is_dropped)
{
	char		*envp[] = { "REQUEST_METHOD=ABCDEFGHIJKLMNOP", NULL };
	struct request	 r;

	parse(&r, envp);
	cr_expect_str_eq(r.method, "");
	req_cleanup(&r);
	envp[0] = "REQUEST_METHOD=ABCDEFGHIJKLMNO";
	parse(&r, envp);
	cr_expect_str_eq(r.method, "ABCDEFGHIJKLMNO");
	req_cleanup(&r);
}

Test(request, uri_to_path_and_query)
{
	static const struct {
		const char	*uri;		/* NULL: no REQUEST_URI */
		int		 ok;
		const char	*path;		/* when ok */
		const char	*query;
	} cases[] = {
		{ "/api/v1/services", 1, "/api/v1/services", "" },
		{ "/api/v1/services/", 1, "/api/v1/services", "" },
		{ "/api/v1/services?page=2", 1, "/api/v1/services", "page=2" },
		{ "/api/v1/services/?page=2&per_page=5", 1, "/api/v1/services",
		    "page=2&per_page=5" },
		{ "/api/v1/services/?", 1, "/api/v1/services", "" },
		{ "/api/v1/services?a=1?b=2", 1, "/api/v1/services", "a=1?b=2" },
		{ "/api/v1/services//", 1, "/api/v1/services/", "" },	/* one slash only */
		{ "/", 1, "/", "" },
		{ "/?x=1", 1, "/", "x=1" },
		{ "api/v1/services", 0, NULL, "" },
		{ "http://h/api/v1", 0, NULL, "" },
		{ "", 0, NULL, "" },
		{ NULL, 0, NULL, "" },
	};
	struct request	 r;
	char		 uri[64];
	char		*envp[2] = { uri, NULL };
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].uri != NULL)
			snprintf(uri, sizeof(uri), "REQUEST_URI=%s", cases[i].uri);
		else
			snprintf(uri, sizeof(uri), "NOT_THE_URI=/");
		parse(&r, envp);
		cr_expect_eq(r.path_ok, cases[i].ok, "%s", uri);
		if (cases[i].ok)
			cr_expect_str_eq(r.path, cases[i].path, "%s", uri);
		cr_expect_str_eq(r.query, cases[i].query, "%s", uri);
		req_cleanup(&r);
	}
}

/* The path buffer holds 511 characters; a longer path is not ok, its query still parsed. */
Test(request, path_length_limit)
{
	char		 uri[REQ_PATH_MAX + 64];
	char		*envp[2] = { uri, NULL };
	struct request	 r;
	size_t		 n = strlen("REQUEST_URI=");

	memcpy(uri, "REQUEST_URI=/", n + 1);
	memset(uri + n + 1, 'a', REQ_PATH_MAX - 2);	/* a 511-character path */
	strcpy(uri + n + REQ_PATH_MAX - 1, "?q=1");
	parse(&r, envp);
	cr_expect_eq(r.path_ok, 1);
	cr_expect_eq(strlen(r.path), REQ_PATH_MAX - 1);
	cr_expect_str_eq(r.query, "q=1");
	req_cleanup(&r);

	memset(uri + n + 1, 'a', REQ_PATH_MAX - 1);	/* 512 characters */
	strcpy(uri + n + REQ_PATH_MAX, "?q=1");
	parse(&r, envp);
	cr_expect_eq(r.path_ok, 0);
	cr_expect_str_eq(r.query, "q=1");
	req_cleanup(&r);
}

Test(request, content_length)
{
	static const struct {
		const char	*value;		/* NULL: absent */
		long long	 want;
	} cases[] = {
		{ NULL, -1 },
		{ "", -1 },
		{ "0", 0 },
		{ "12", 12 },
		{ "65536", 65536 },
		{ "007", 7 },
		{ "1099511627776", 1099511627776LL },
		{ "abc", -2 },
		{ "-1", -2 },
		{ "1e3", -2 },
		{ "+12", -2 },
		{ " 12", -2 },
		{ "12 ", -2 },
		{ "0x10", -2 },
		{ "12.0", -2 },
		{ "99999999999999999999999", -2 },
		{ "9223372036854775808", -2 },
	};
	struct request	 r;
	char		 cl[64];
	char		*envp[2] = { cl, NULL };
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].value != NULL)
			snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%s", cases[i].value);
		else
			snprintf(cl, sizeof(cl), "CONTENT_TYPE=text/plain");
		parse(&r, envp);
		cr_expect_eq(r.content_length, cases[i].want, "%s -> %lld", cl,
		    r.content_length);
		req_cleanup(&r);
	}
}

Test(request, origin_only_when_safe_to_echo)
{
	static const struct {
		const char	*value;
		int		 echoed;
	} cases[] = {
		{ "https://shop.example", 1 },
		{ "http://localhost:8080", 1 },
		{ "null", 1 },
		{ "https://a.example, https://b.example", 0 },
		{ "https://a.example,https://b.example", 0 },
		{ "https://a b", 0 },
		{ "https://a\tb", 0 },
		{ "https://a\r\nX-Evil: 1", 0 },
		{ "https://caf\xc3\xa9.example", 0 },
		{ "https://\x80.example", 0 },
		{ "https://a.example\x7f", 0 },
		{ "", 0 },
	};
	struct request	 r;
	char		 o[128];
	char		*envp[2] = { o, NULL };
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(o, sizeof(o), "HTTP_ORIGIN=%s", cases[i].value);
		parse(&r, envp);
		if (cases[i].echoed)
			cr_expect_str_eq(r.origin, cases[i].value);
		else
			cr_expect_null(r.origin, "echoed %s", cases[i].value);
		req_cleanup(&r);
	}
}

/*
 * Origin and Idempotency-Key reach SQL as text; bytes that are not UTF-8
 * made PostgreSQL fail the statement (a 500). Found by fuzz_request.
 */
Test(request, headers_for_sql_are_utf8)
{
	static const struct {
		const char	*origin, *origin_sql, *idem, *idem_sql;
	} cases[] = {
		{ "https://shop.example", "https://shop.example", "k-1", "k-1" },
		{ "https://caf\xc3\xa9.example", "https://caf\xc3\xa9.example",
		  "caf\xc3\xa9", "caf\xc3\xa9" },	/* UTF-8: SQL judges them */
		{ "https://\xff.example", "?", "k\xfe", "" },
		{ "https://\xc0\xaf", "?", "\xed\xa0\x80", "" },
	};
	char		 o[128], k[128];
	char		*envp[3] = { o, k, NULL };
	struct request	 r;
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(o, sizeof(o), "HTTP_ORIGIN=%s", cases[i].origin);
		snprintf(k, sizeof(k), "HTTP_IDEMPOTENCY_KEY=%s", cases[i].idem);
		parse(&r, envp);
		cr_expect_str_eq(r.origin_hdr, cases[i].origin_sql, "case %zu", i);
		cr_expect_str_eq(r.idem_key, cases[i].idem_sql, "case %zu", i);
		if (i > 0)
			cr_expect_null(r.origin, "case %zu echoed", i);
		req_cleanup(&r);
	}
}

Test(request, origin_length_limit)
{
	char		 o[400];
	char		*envp[2] = { o, NULL };
	struct request	 r;
	size_t		 n = strlen("HTTP_ORIGIN=");

	memcpy(o, "HTTP_ORIGIN=", n);
	memset(o + n, 'a', 255);
	o[n + 255] = '\0';
	parse(&r, envp);
	cr_expect_not_null(r.origin);
	req_cleanup(&r);
	memset(o + n, 'a', 256);
	o[n + 256] = '\0';
	parse(&r, envp);
	cr_expect_null(r.origin);
	req_cleanup(&r);
}

/*
 * A header the worker acts on that comes twice under its FastCGI name, as
 * lighttpd passes a client's "X_Forwarded_For" (or "X.Forwarded.For") next
 * to the real X-Forwarded-For (issue 11, 4): named in r->repeated, and
 * refused with a 400 whichever of the two comes first.
 */
Test(request, repeated_headers)
{
	static const struct {
		char		*a, *b;
		const char	*repeated;	/* NULL: accepted */
	} cases[] = {
		{ "HTTP_X_FORWARDED_FOR=198.51.100.66", "HTTP_X_FORWARDED_FOR=192.0.2.1",
		    "X-Forwarded-For" },
		{ "HTTP_CALENDENCE_BUSINESS=123e4567-e89b-12d3-a456-426614174000",
		    "HTTP_CALENDENCE_BUSINESS=223e4567-e89b-12d3-a456-426614174000",
		    "Calendence-Business" },
		{ "HTTP_AUTHORIZATION=Bearer a", "HTTP_AUTHORIZATION=Bearer b",
		    "Authorization" },
		{ "HTTP_ORIGIN=https://a.example", "HTTP_ORIGIN=https://b.example",
		    "Origin" },
		{ "HTTP_IDEMPOTENCY_KEY=a", "HTTP_IDEMPOTENCY_KEY=a", "Idempotency-Key" },
		{ "HTTP_IDEMPOTENCY_KEY=", "HTTP_IDEMPOTENCY_KEY=", "Idempotency-Key" },
		/* others may repeat; names that only begin alike are others */
		{ "HTTP_X_NOTE=1", "HTTP_X_NOTE=2", NULL },
		{ "HTTP_X_FORWARDED_FOR=198.51.100.66", "HTTP_X_FORWARDED_FORX=1", NULL },
		{ "HTTP_X_FORWARDED_FOR=198.51.100.66", "HTTP_X_FORWARDED=1", NULL },
		{ "HTTP_ORIGIN=https://a.example", "X_HTTP_ORIGIN=x", NULL },
	};
	struct ip_net	 proxies[1];
	struct request	 r;
	char		*envp[6] = { "REQUEST_METHOD=GET",
			    "REQUEST_URI=/api/v1/services", "REMOTE_ADDR=127.0.0.1",
			    NULL, NULL, NULL };
	size_t		 i, k, n;
	json_object	*root, *err, *v;

	cr_assert_eq(ip_net_parse("127.0.0.1", &proxies[0]), 0);
	/* each pair in both orders */
	for (n = 0; n < 2 * sizeof(cases) / sizeof(cases[0]); n++) {
		i = n / 2;
		k = n % 2;
		envp[3] = k == 0 ? cases[i].a : cases[i].b;
		envp[4] = k == 0 ? cases[i].b : cases[i].a;
		req_init(&r, NULL);
		req_parse(&r, envp, proxies, 1);
		if (cases[i].repeated == NULL) {
			cr_expect_null(r.repeated, "%s, %s: %s", envp[3], envp[4],
			    r.repeated);
			cr_expect_eq(app_headers_or_reply(&r), 0);
			cr_expect_eq(r.status, 0);
			req_cleanup(&r);
			continue;
		}
		cr_expect_str_eq(r.repeated, cases[i].repeated, "%s, %s", envp[3],
		    envp[4]);
		cr_expect_eq(app_headers_or_reply(&r), -1);
		cr_expect_eq(r.status, 400, "%s, %s", envp[3], envp[4]);
		root = json_tokener_parse(buf_str(&r.out));
		cr_assert(root != NULL && json_object_object_get_ex(root, "error", &err),
		    "%s", buf_str(&r.out));
		cr_expect(json_object_object_get_ex(err, "code", &v) &&
		    strcmp(json_object_get_string(v), "invalid_request") == 0,
		    "%s", buf_str(&r.out));
		cr_expect(json_object_object_get_ex(err, "param", &v) &&
		    strcmp(json_object_get_string(v), cases[i].repeated) == 0,
		    "%s", buf_str(&r.out));
		json_object_put(root);
		req_cleanup(&r);
	}
}

Test(request, param_lookup_is_exact)
{
	char *envp[] = {
		"REQUEST_METHODX=PUT",
		"REQUEST_METHOD=POST",
		"REQUEST_METHOD=DELETE",
		"EMPTY=",
		NULL
	};

	cr_expect_str_eq(req_param(envp, "REQUEST_METHOD"), "POST");
	cr_expect_str_eq(req_param(envp, "EMPTY"), "");
	cr_expect_null(req_param(envp, "REQUEST"));
	cr_expect_null(req_param(envp, "MISSING"));
	cr_expect_null(req_param(NULL, "REQUEST_METHOD"));
}

Test(request, client_address)
{
	static const struct {
		const char	*remote;	/* NULL: no REMOTE_ADDR */
		int		 ok;
		const char	*ip;
		const char	*subject;
	} cases[] = {
		{ "203.0.113.7", 1, "203.0.113.7", "203.0.113.7" },
		{ "2001:db8:1:2:3:4:5:6", 1, "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64" },
		{ "::ffff:192.0.2.1", 1, "192.0.2.1", "192.0.2.1" },
		{ "not-an-ip", 0, "unknown", "unknown" },
		{ "", 0, "unknown", "unknown" },
		{ NULL, 0, "unknown", "unknown" },
	};
	struct request	 r;
	char		 ra[64];
	char		*envp[3] = { ra, "HTTP_X_FORWARDED_FOR=198.51.100.1", NULL };
	size_t		 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].remote != NULL)
			snprintf(ra, sizeof(ra), "REMOTE_ADDR=%s", cases[i].remote);
		else
			snprintf(ra, sizeof(ra), "REMOTE_PORT=1234");
		parse(&r, envp);
		cr_expect_eq(r.client_ok, cases[i].ok, "%s", ra);
		cr_expect_str_eq(r.client_ip, cases[i].ip, "%s", ra);
		cr_expect_str_eq(r.ip_subject, cases[i].subject, "%s", ra);
		req_cleanup(&r);
	}
}

Test(request, client_behind_a_trusted_proxy)
{
	char *envp[] = {
		"REMOTE_ADDR=10.0.0.1",
		"HTTP_X_FORWARDED_FOR=192.0.2.55, 2001:db8:aa:bb:1::9, 10.0.0.2",
		NULL
	};
	struct ip_net	 proxies[1];
	struct request	 r;

	cr_assert_eq(ip_net_parse("10.0.0.0/8", &proxies[0]), 0);
	req_init(&r, NULL);
	req_parse(&r, envp, proxies, 1);
	cr_expect_eq(r.client_ok, 1);
	cr_expect_str_eq(r.client_ip, "2001:db8:aa:bb:1::9");
	cr_expect_str_eq(r.ip_subject, "2001:db8:aa:bb::/64");
	req_cleanup(&r);
}

/* req_reset frees what the request owns and keeps the app and the buffers. */
Test(request, reset_clears_the_request)
{
	char		*envp[] = { "REQUEST_METHOD=POST", "REQUEST_URI=/x?y=1",
			    "CONTENT_LENGTH=3", NULL };
	struct worker	*app = calloc(1, sizeof(*app));
	struct request	 r;

	req_init(&r, app);
	req_parse(&r, envp, NULL, 0);
	r.body = malloc(4);
	memcpy(r.body, "abc", 4);
	r.body_len = 3;
	r.json = json_object_new_object();
	r.status = 200;
	buf_puts(&r.headers, "X: y\r\n");
	buf_puts(&r.out, "{\"a\":1}");
	req_reset(&r);
	cr_expect_eq(r.worker, app);
	cr_expect_null(r.body);
	cr_expect_null(r.json);
	cr_expect_eq(r.status, 0);
	cr_expect_str_eq(r.method, "");
	cr_expect_eq(r.path_ok, 0);
	cr_expect_eq(r.headers.len, 0);
	cr_expect_eq(r.out.len, 0);
	cr_expect_str_eq(buf_str(&r.out), "");
	cr_expect_not_null(r.out.p);		/* storage kept for the next request */
	req_cleanup(&r);
	cr_expect_null(r.out.p);
	cr_expect_null(r.headers.p);
	free(app);
}

Test(request, query_values)
{
	static const struct {
		const char	*query;
		const char	*name;
		size_t		 outlen;
		int		 rc;
		const char	*value;		/* when rc == 1 */
	} cases[] = {
		{ "a=%41", "a", 32, 1, "A" },
		{ "a=%41%42c", "a", 32, 1, "ABc" },
		{ "a=%7e%7E", "a", 32, 1, "~~" },
		{ "q=hello+world", "q", 32, 1, "hello world" },
		{ "q=a%2Bb", "q", 32, 1, "a+b" },
		{ "q=a%26b&r=1", "q", 32, 1, "a&b" },
		{ "q=a=b", "q", 32, 1, "a=b" },
		{ "q=%zz", "q", 32, 1, "%zz" },		/* not an escape: kept as is */
		{ "q=%4", "q", 32, 1, "%4" },
		{ "q=%", "q", 32, 1, "%" },
		{ "flag", "flag", 32, 1, "" },
		{ "flag&x=1", "flag", 32, 1, "" },
		{ "x=1&flag", "flag", 32, 1, "" },
		{ "flag=&x=1", "flag", 32, 1, "" },
		{ "x=1&x=2", "x", 32, 1, "1" },		/* the first wins */
		{ "x=&x=2", "x", 32, 1, "" },
		{ "xx=1&x=2", "x", 32, 1, "2" },
		{ "x=1&xx=2", "xx", 32, 1, "2" },
		{ "a=1&&b=2", "b", 32, 1, "2" },
		{ "=1&a=2", "a", 32, 1, "2" },
		{ "&a=2", "a", 32, 1, "2" },
		{ "a=1&", "a", 32, 1, "1" },
		{ "x", "xx", 32, 0, NULL },
		{ "xx=1", "x", 32, 0, NULL },
		{ "a=1", "b", 32, 0, NULL },
		{ "A=1", "a", 32, 0, NULL },
		{ "", "a", 32, 0, NULL },
		{ "a=abc", "a", 4, 1, "abc" },		/* exactly fits 3 + NUL */
		{ "a=abcd", "a", 4, -1, NULL },		/* too long */
		{ "a=%41%41%41", "a", 4, 1, "AAA" },	/* decoded length counts */
		{ "a=%41%41%41%41", "a", 4, -1, NULL },
		{ "a=%00", "a", 32, -1, NULL },
		{ "a=x%00y", "a", 32, -1, NULL },
		/* control characters are in no value of the API (issue 11, 13) */
		{ "a=%01", "a", 32, -1, NULL },
		{ "a=x%0Ay", "a", 32, -1, NULL },
		{ "a=x%0d%0a", "a", 32, -1, NULL },
		{ "a=%09", "a", 32, -1, NULL },
		{ "a=%1F", "a", 32, -1, NULL },
		{ "a=%7F", "a", 32, -1, NULL },
		{ "a=x\x01", "a", 32, -1, NULL },
		{ "a=x\ty", "a", 32, -1, NULL },
		{ "a=x\x7f", "a", 32, -1, NULL },
		{ "a=%20%7E", "a", 32, 1, " ~" },		/* the printable ends */
		{ "a=%C2%80", "a", 32, 1, "\xc2\x80" },	/* U+0080 is no C0 control */
		{ "a=%01&b=2", "b", 32, 1, "2" },		/* only the value asked */
		/* the database takes UTF-8 text only (found by fuzz_request) */
		{ "a=caf%C3%A9", "a", 32, 1, "caf\xc3\xa9" },
		{ "a=caf\xc3\xa9", "a", 32, 1, "caf\xc3\xa9" },
		{ "a=%F0%9F%98%80", "a", 32, 1, "\xf0\x9f\x98\x80" },
		{ "a=%FF", "a", 32, -1, NULL },
		{ "a=\xff", "a", 32, -1, NULL },
		{ "a=%C3", "a", 32, -1, NULL },			/* cut short */
		{ "a=%C0%AF", "a", 32, -1, NULL },		/* overlong '/' */
		{ "a=%ED%A0%80", "a", 32, -1, NULL },		/* a surrogate */
		{ "a=%F4%90%80%80", "a", 32, -1, NULL },	/* past U+10FFFF */
		{ "a=%FF&b=2", "b", 32, 1, "2" },		/* only the value asked */
	};
	char	 out[64];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'Z', sizeof(out));
		rc = req_query(cases[i].query, cases[i].name, out, cases[i].outlen);
		cr_expect_eq(rc, cases[i].rc, "%s [%s]: %d", cases[i].query,
		    cases[i].name, rc);
		if (cases[i].rc == 1 && rc == 1)
			cr_expect_str_eq(out, cases[i].value, "%s [%s]",
			    cases[i].query, cases[i].name);
		cr_expect_eq(out[cases[i].outlen], 'Z', "%s: wrote past outlen",
		    cases[i].query);
	}
}

Test(request, uuid_validity)
{
	static const struct {
		const char	*s;
		int		 ok;
	} cases[] = {
		{ "123e4567-e89b-12d3-a456-426614174000", 1 },
		{ "00000000-0000-0000-0000-000000000000", 1 },
		{ "ffffffff-ffff-ffff-ffff-ffffffffffff", 1 },
		{ "123E4567-E89B-12D3-A456-426614174000", 0 },	/* uppercase */
		{ "123e4567-e89b-12d3-a456-42661417400A", 0 },
		{ "123e4567-e89b-12d3-a456-42661417400", 0 },	/* 35 */
		{ "123e4567-e89b-12d3-a456-4266141740000", 0 },	/* 37 */
		{ "123e4567e89b12d3a456426614174000", 0 },	/* no dashes */
		{ "123e4567-e89b-12d3-a4564-26614174000", 0 },	/* dash moved */
		{ "123e45670e89b-12d3-a456-426614174000", 0 },
		{ "123e4567-e89b-12d3-a456_426614174000", 0 },
		{ "g23e4567-e89b-12d3-a456-426614174000", 0 },
		{ "{23e4567-e89b-12d3-a456-42661417400}", 0 },
		{ "123e4567-e89b-12d3-a456-426614174000\n", 0 },
		{ "------------------------------------", 0 },
		{ "", 0 },
		{ NULL, 0 },
	};
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(uuid_valid(cases[i].s), cases[i].ok, "%s",
		    cases[i].s ? cases[i].s : "(null)");
}
