/*
 * e2e_secrets.c: the test client's own secrets rules (http.c): an answer
 * that holds a token other than a new session's "session_token" fails the
 * request, and every token of a request and its answer is recorded in
 * CALENDENCE_TOKEN_LOG for the run's secrets check. The server here is a
 * stand-in that answers whatever the test wants, so that the rules are seen
 * to fail; the real server is held to them by every other end-to-end test.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"

/* A token of 'kind' ("biz", "ses" ...) with random base62 characters. */
static void
fake_token(char out[FX_TOKEN_LEN + 1], const char *kind)
{
	static const char	 b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	unsigned char		 r[FX_TOKEN_LEN];
	FILE			*f = fopen("/dev/urandom", "rb");

	cr_assert_not_null(f);
	cr_assert_eq(fread(r, 1, sizeof(r), f), sizeof(r));
	fclose(f);
	snprintf(out, FX_TOKEN_LEN + 1, "cal_%s_", kind);
	for (int i = 8; i < FX_TOKEN_LEN; i++)
		out[i] = b62[r[i] % 62];
	out[FX_TOKEN_LEN] = '\0';
}

/*
 * Starts a server on 127.0.0.1 that takes one connection, reads the request
 * head and answers 'answer' (its body after a blank line); points
 * CALENDENCE_URL at it. Returns its process.
 */
static pid_t
stand_in(const char *answer)
{
	struct sockaddr_in	 a = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(a);
	char			 url[64], buf[8192];
	size_t			 got = 0;
	ssize_t			 n;
	pid_t			 pid;
	int			 s, c;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_neq(s = socket(AF_INET, SOCK_STREAM, 0), -1);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(s, 1), 0);
	cr_assert_eq(getsockname(s, (struct sockaddr *)&a, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(a.sin_port));
	cr_assert_eq(setenv("CALENDENCE_URL", url, 1), 0);
	cr_assert_neq(pid = fork(), -1);
	if (pid > 0) {
		close(s);
		return pid;
	}
	alarm(10);
	if ((c = accept(s, NULL, NULL)) == -1)
		_exit(1);
	while (got < sizeof(buf) - 1 && (n = read(c, buf + got, sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	n = write(c, answer, strlen(answer));
	_exit(n == (ssize_t)strlen(answer) ? 0 : 1);
}

/* The request through the stand-in that answers 'answer'; returns http_call()'s result. */
static int
call_with_answer(const char *method, const char *path, const char *token,
    const char *answer)
{
	struct http_resp	 r;
	pid_t			 pid = stand_in(answer);
	int			 rc, status;

	rc = http_call(method, path, token, NULL, NULL, &r);
	http_resp_free(&r);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return rc;
}

/* An answer of 'status' with one extra header line and a JSON body (malloc'd). */
static char *
answer(int status, const char *header, const char *body)
{
	size_t	 size = 256 + (header ? strlen(header) : 0) + strlen(body);
	char	*a = malloc(size);

	cr_assert_not_null(a);
	snprintf(a, size, "HTTP/1.0 %d X\r\nContent-Type: application/json\r\n"
	    "%s%sContent-Length: %zu\r\n\r\n%s", status, header ? header : "",
	    header ? "\r\n" : "", strlen(body), body);
	return a;
}

Test(secrets, an_answer_that_echoes_the_request_token_fails)
{
	char	 tok[FX_TOKEN_LEN + 1], body[128], *a;

	fake_token(tok, "biz");
	snprintf(body, sizeof(body), "{\"error\":{\"message\":\"bad key %s\"}}", tok);
	a = answer(401, NULL, body);
	cr_expect_eq(call_with_answer("GET", "/api/v1/services", tok, a), -1);
	free(a);
	/* in a header too, and for a POST of a new session */
	snprintf(body, sizeof(body), "X-Debug: Bearer %s", tok);
	a = answer(200, body, "{}");
	cr_expect_eq(call_with_answer("GET", "/api/v1/services", tok, a), -1);
	free(a);
	snprintf(body, sizeof(body), "{\"session_token\":\"%s\"}", tok);
	a = answer(201, NULL, body);
	cr_expect_eq(call_with_answer("POST", "/api/v1/session", tok, a), -1,
	    "a refresh that hands back the caller's own token");
	free(a);
}

Test(secrets, an_answer_with_any_other_token_fails)
{
	char	 tok[FX_TOKEN_LEN + 1], other[FX_TOKEN_LEN + 1], body[128], *a;

	fake_token(tok, "pub");
	fake_token(other, "ses");
	snprintf(body, sizeof(body), "{\"session_token\":\"%s\"}", other);
	a = answer(200, NULL, body);	/* not a new session: a GET */
	cr_expect_eq(call_with_answer("GET", "/api/v1/services", tok, a), -1);
	free(a);
	snprintf(body, sizeof(body), "{\"token\":\"%s\"}", other);
	a = answer(201, NULL, body);	/* a new session, but not in its field */
	cr_expect_eq(call_with_answer("POST", "/api/v1/session", tok, a), -1);
	free(a);
	snprintf(body, sizeof(body), "{\"session_token\":\"%s\"}", other);
	a = answer(201, NULL, body);
	cr_expect_eq(call_with_answer("POST", "/api/v1/session", NULL, a), 0,
	    "a new session's own token is its answer");
	free(a);
}

Test(secrets, display_forms_pass_and_every_token_is_recorded)
{
	char	 tok[FX_TOKEN_LEN + 1], ses[FX_TOKEN_LEN + 1], body[160], log[64], *a;
	char	 line[128];
	FILE	*f;
	int	 fd, seen_tok = 0, seen_ses = 0, lines = 0;

	snprintf(log, sizeof(log), "/tmp/calendence-tokens.XXXXXX");
	cr_assert_neq(fd = mkstemp(log), -1);
	close(fd);
	cr_assert_eq(setenv("CALENDENCE_TOKEN_LOG", log, 1), 0);
	fake_token(tok, "pub");
	fake_token(ses, "ses");
	snprintf(body, sizeof(body), "{\"session_token\":\"%s\",\"key\":\"cal_pub_%s\"}",
	    ses, tok + FX_TOKEN_LEN - 4);
	a = answer(201, NULL, body);
	cr_expect_eq(call_with_answer("POST", "/api/v1/session", tok, a), 0);
	free(a);
	cr_assert_not_null(f = fopen(log, "r"));
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		seen_tok |= strcmp(line, tok) == 0;
		seen_ses |= strcmp(line, ses) == 0;
		lines++;
	}
	fclose(f);
	unlink(log);
	cr_expect(seen_tok, "the request's token was not recorded");
	cr_expect(seen_ses, "the answer's token was not recorded");
	cr_expect_eq(lines, 2, "recorded %d lines", lines);
}
