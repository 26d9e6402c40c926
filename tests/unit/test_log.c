/*
 * test_log.c: no token survives in a log line (fcgi/log.c, log_redact());
 * every line is one line (log_escape()); the text and json forms.
 */
#include <sys/wait.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <json-c/json.h>

#include "log.h"

#define TOKEN_BODY	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXabcdef"	/* 38 base62 */

Test(log, tokens_are_redacted_wherever_they_are)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		/* a token in a request path (finding 7 of issue 11) */
		{ "GET /api/v1/services/cal_biz_" TOKEN_BODY " 404 key=- ip=1.2.3.4",
		    "GET /api/v1/services/cal_biz_[redacted] 404 key=- ip=1.2.3.4" },
		{ "cal_hub_" TOKEN_BODY, "cal_hub_[redacted]" },
		{ "x=cal_pub_" TOKEN_BODY "&y", "x=cal_pub_[redacted]&y" },
		{ "cal_ses_" TOKEN_BODY "cal_ses_" TOKEN_BODY, "cal_ses_[redacted]cal_ses_[redacted]" },
		{ "whsec_" TOKEN_BODY, "whsec_[redacted]" },
		/* percent-encoded characters do not split a token */
		{ "/v1/cal_biz_%41%42CDEFGHIJ/x", "/v1/cal_biz_[redacted]/x" },
		/* short runs: display forms and words stay */
		{ "key=cal_biz_WXYZ ip=1", "key=cal_biz_WXYZ ip=1" },
		{ "cal_biz_ alone", "cal_biz_ alone" },
		{ "cal_xyz_ABCDEFGHIJKL", "cal_xyz_ABCDEFGHIJKL" },
		{ "database_unavailable: statement authenticate", "database_unavailable: "
		    "statement authenticate" },
		{ "", "" },
	};
	char	 line[256];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(line, sizeof(line), "%s", cases[i].in);
		log_redact(line, sizeof(line));
		cr_expect_str_eq(line, cases[i].want, "case %zu", i);
	}
}

/* The mark is longer than a short token tail: the line is cut, never overrun. */
Test(log, a_full_line_is_cut_not_overrun)
{
	char	 line[24];

	memset(line, 0, sizeof(line));
	snprintf(line, sizeof(line), "abcdefghi cal_biz_ABCDE");
	log_redact(line, sizeof(line));
	cr_expect_eq(strlen(line) < sizeof(line), 1);
	cr_expect_null(strstr(line, "ABCDE"), "%s", line);
	snprintf(line, sizeof(line), "abcdefghijklmnopqrstu");
	log_redact(line, sizeof(line));
	cr_expect_str_eq(line, "abcdefghijklmnopqrstu");
}

Test(log, control_characters_are_escaped)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "could not connect\nis the server running?\n",
		    "could not connect\\nis the server running?\\n" },
		{ "a\r\nb\tc", "a\\r\\nb\\tc" },
		{ "bell\a esc\x1b del\x7f", "bell\\x07 esc\\x1b del\\x7f" },
		{ "caf\xc3\xa9 stays", "caf\xc3\xa9 stays" },
		{ "plain", "plain" },
		{ "", "" },
	};
	char	 out[128];
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		log_escape(cases[i].in, out, sizeof(out));
		cr_expect_str_eq(out, cases[i].want, "case %zu", i);
	}
	/* cut between escapes, never inside one */
	log_escape("ab\ncd", out, 5);
	cr_expect_str_eq(out, "ab\\n");
	log_escape("ab\x01", out, 5);
	cr_expect_str_eq(out, "ab");
}

/* A message of several lines is one text line, prefix and all. */
Test(log, a_text_line_is_one_line)
{
	char	 line[512];

	log_setup(LOG_FORMAT_TEXT, "calendence");
	log_format_line(LOG_LEVEL_ERROR, NULL, "database: FATAL: no\nDETAIL: x\n",
	    line, sizeof(line));
	cr_expect_null(strchr(line, '\n'), "%s", line);
	cr_expect(strstr(line, " calendence[") != NULL, "%s", line);
	cr_expect(strstr(line, "] error: database: FATAL: no\\nDETAIL: x\\n") != NULL,
	    "%s", line);
}

static const struct log_req a_request = {
	.request_id = "req_0123456789abcdef", .method = "GET",
	.path = "/api/v1/services", .status = 429, .error_code = "rate_limited",
	.key = "cal_biz_WXYZ", .key_id = "7d7e6c1c-0000-4000-8000-000000000001",
	.business_id = NULL, .latency_us = 1234, .ip = "192.0.2.7",
};

/* The request line in text is as it always was. */
Test(log, the_text_request_line)
{
	char		 line[512];
	const char	*m;

	log_setup(LOG_FORMAT_TEXT, "calendence");
	log_format_line(LOG_LEVEL_INFO, &a_request, "req_0123456789abcdef GET "
	    "/api/v1/services 429 1234us key=cal_biz_WXYZ ip=192.0.2.7", line, sizeof(line));
	cr_assert_not_null(m = strstr(line, " calendence["), "%s", line);
	cr_expect_not_null(strstr(m, "] info: req_0123456789abcdef GET /api/v1/services "
	    "429 1234us key=cal_biz_WXYZ ip=192.0.2.7"), "%s", line);
	cr_expect_eq(line[strlen(line) - 1], '7');
}

/* The words of a request's line: the error code of a 4xx or 5xx answer last. */
Test(log, the_request_words_name_the_error)
{
	struct log_req	 ok = a_request;
	char		 msg[512];

	log_request_words(&a_request, msg, sizeof(msg));
	cr_expect_str_eq(msg, "req_0123456789abcdef GET /api/v1/services 429 1234us "
	    "key=cal_biz_WXYZ ip=192.0.2.7 error=rate_limited");
	ok.status = 200;
	ok.error_code = "";
	log_request_words(&ok, msg, sizeof(msg));
	cr_expect_str_eq(msg, "req_0123456789abcdef GET /api/v1/services 200 1234us "
	    "key=cal_biz_WXYZ ip=192.0.2.7");
	ok.key = NULL;
	ok.status = 401;
	ok.error_code = "invalid_api_key";
	log_request_words(&ok, msg, sizeof(msg));
	cr_expect_str_eq(msg, "req_0123456789abcdef GET /api/v1/services 401 1234us "
	    "key=- ip=192.0.2.7 error=invalid_api_key");
}

/*
 * The words are put together without snprintf(), and cut as snprintf()
 * cuts them in a buffer too small: at every size.
 */
Test(log, the_request_words_as_snprintf_writes_them)
{
	struct log_req	 req = a_request;
	char		 msg[256], want[256];
	size_t		 size;
	int		 k;

	for (k = 0; k < 3; k++) {
		if (k == 1) {
			req.key = NULL;
			req.latency_us = -5;
		}
		if (k == 2) {
			req.status = 200;
			req.latency_us = 1234567890123LL;
		}
		for (size = 1; size < sizeof(msg); size++) {
			memset(msg, 'x', sizeof(msg));
			log_request_words(&req, msg, size);
			snprintf(want, size, "%s %s %s %d %lldus key=%s ip=%s%s%s",
			    req.request_id, req.method, req.path, req.status,
			    req.latency_us, req.key != NULL ? req.key : "-", req.ip,
			    req.status >= 400 ? " error=" : "",
			    req.status >= 400 ? req.error_code : "");
			cr_expect_str_eq(msg, want, "size %zu", size);
		}
	}
}

/* The text line: stamp, "calendence[PID] LEVEL: ", the message. */
Test(log, the_text_line_as_snprintf_writes_it)
{
	char	 line[512], want[512];

	log_setup(LOG_FORMAT_TEXT, "calendence");
	log_format_line(LOG_LEVEL_WARN, NULL, "a message", line, sizeof(line));
	cr_assert_eq(strlen(line), 20 + strlen(" calendence[] warn: a message") +
	    (size_t)snprintf(want, sizeof(want), "%d", (int)getpid()), "%s", line);
	snprintf(want, sizeof(want), "%.20s calendence[%d] warn: a message", line,
	    (int)getpid());
	cr_expect_str_eq(line, want);
}

static json_object *
field(json_object *o, const char *name)
{
	json_object	*v = NULL;

	cr_expect(json_object_object_get_ex(o, name, &v), "no %s", name);
	return v;
}

/* The json request line: every field, valid JSON, one line. */
Test(log, the_json_request_line)
{
	char		 line[1024];
	json_object	*o;

	log_setup(LOG_FORMAT_JSON, "calendence");
	log_format_line(LOG_LEVEL_INFO, &a_request, "req_0123456789abcdef GET "
	    "/api/v1/services 429 1234us key=cal_biz_WXYZ ip=192.0.2.7", line, sizeof(line));
	log_setup(LOG_FORMAT_TEXT, "calendence");
	cr_expect_null(strchr(line, '\n'));
	cr_assert_not_null(o = json_tokener_parse(line), "%s", line);
	cr_expect_eq(json_object_get_type(field(o, "time")), json_type_string);
	cr_expect_str_eq(json_object_get_string(field(o, "level")), "info");
	cr_expect_eq(json_object_get_int(field(o, "pid")), (int)getpid());
	cr_expect_str_eq(json_object_get_string(field(o, "program")), "calendence");
	cr_expect(strstr(json_object_get_string(field(o, "message")), " 429 1234us ") != NULL);
	cr_expect_str_eq(json_object_get_string(field(o, "request_id")),
	    "req_0123456789abcdef");
	cr_expect_str_eq(json_object_get_string(field(o, "method")), "GET");
	cr_expect_str_eq(json_object_get_string(field(o, "path")), "/api/v1/services");
	cr_expect_eq(json_object_get_int(field(o, "status")), 429);
	cr_expect_str_eq(json_object_get_string(field(o, "error_code")), "rate_limited");
	cr_expect_str_eq(json_object_get_string(field(o, "key")), "cal_biz_WXYZ");
	cr_expect_str_eq(json_object_get_string(field(o, "key_id")),
	    "7d7e6c1c-0000-4000-8000-000000000001");
	cr_expect_null(field(o, "business_id"));
	cr_expect_eq(json_object_get_int(field(o, "latency_us")), 1234);
	cr_expect_str_eq(json_object_get_string(field(o, "ip")), "192.0.2.7");
	json_object_put(o);
}

/* Below 400 there is no error code; other lines carry no request fields. */
Test(log, json_lines_otherwise)
{
	struct log_req	 ok = a_request;
	char		 line[1024];
	json_object	*o, *v;

	ok.status = 200;
	log_setup(LOG_FORMAT_JSON, "calendence-webhooks");
	log_format_line(LOG_LEVEL_INFO, &ok, "m", line, sizeof(line));
	cr_assert_not_null(o = json_tokener_parse(line), "%s", line);
	cr_expect_null(field(o, "error_code"));
	cr_expect_str_eq(json_object_get_string(field(o, "program")), "calendence-webhooks");
	json_object_put(o);
	/* quotes, backslashes, control characters, bytes that are not UTF-8, a token */
	log_format_line(LOG_LEVEL_WARN, NULL, "say \"hi\" \\ a\nb\x01 \xff "
	    "cal_biz_" TOKEN_BODY, line, sizeof(line));
	log_setup(LOG_FORMAT_TEXT, "calendence");
	cr_expect_null(strchr(line, '\n'));
	cr_assert_not_null(o = json_tokener_parse(line), "%s", line);
	cr_expect_str_eq(json_object_get_string(field(o, "message")),
	    "say \"hi\" \\ a\nb\x01 \xef\xbf\xbd cal_biz_[redacted]");
	cr_expect_str_eq(json_object_get_string(field(o, "level")), "warn");
	cr_expect_not(json_object_object_get_ex(o, "status", &v));
	json_object_put(o);
	/* a message too long for the line: still one valid JSON object */
	{
		char	 big[LOG_LINE_MAX], small[256];

		memset(big, '\n', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		log_setup(LOG_FORMAT_JSON, "calendence");
		log_format_line(LOG_LEVEL_INFO, NULL, big, small, sizeof(small));
		log_setup(LOG_FORMAT_TEXT, "calendence");
		cr_assert_not_null(o = json_tokener_parse(small), "%s", small);
		json_object_put(o);
	}
}

/* stderr into a new temporary file; its fd (to read), the old stderr in *saved */
static int
stderr_to_file(int *saved)
{
	char	 path[] = "/tmp/test_log.XXXXXX";
	int	 fd;

	cr_assert_neq(fd = mkstemp(path), -1);
	unlink(path);
	cr_assert_neq(*saved = dup(STDERR_FILENO), -1);
	cr_assert_neq(dup2(fd, STDERR_FILENO), -1);
	return fd;
}

/* What the file holds, as a C string (static). */
static const char *
file_text(int fd)
{
	static char	 text[65536];
	ssize_t		 n;

	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	return text;
}

static int
lines(const char *s)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/*
 * Request lines are held back (a write(2) each was a system call a
 * request), and written, in order, before any other line or by
 * log_flush(); when they would not fit, the held ones are written first.
 */
Test(log, request_lines_are_held_until_flushed)
{
	const char	*t;
	int		 fd, saved, i;

	log_setup(LOG_FORMAT_TEXT, "calendence");
	fd = stderr_to_file(&saved);
	log_request(LOG_LEVEL_INFO, &a_request);
	log_request(LOG_LEVEL_INFO, &a_request);
	cr_expect_str_eq(file_text(fd), "");
	log_msg(LOG_LEVEL_INFO, LOG_LEVEL_ERROR, "database: gone");
	t = file_text(fd);
	cr_expect_eq(lines(t), 3, "%s", t);
	cr_expect_not_null(strstr(t, "info: req_0123456789abcdef GET"), "%s", t);
	cr_assert_not_null(strstr(t, "error: database: gone"), "%s", t);
	cr_expect_lt(strstr(t, "info: req_") - t, strstr(t, "error: database") - t);
	log_request(LOG_LEVEL_INFO, &a_request);
	cr_expect_eq(lines(file_text(fd)), 3);
	log_flush();
	cr_expect_eq(lines(file_text(fd)), 4);
	log_flush();
	cr_expect_eq(lines(file_text(fd)), 4);
	/* below the threshold: nothing, held or written */
	log_request(LOG_LEVEL_WARN, &a_request);
	log_flush();
	cr_expect_eq(lines(file_text(fd)), 4);
	/* more than the room: written as they come, none lost, none twice */
	for (i = 0; i < 200; i++)
		log_request(LOG_LEVEL_INFO, &a_request);
	t = file_text(fd);
	cr_expect_gt(lines(t), 4);
	cr_expect_lt(lines(t), 204);
	cr_expect_eq(t[strlen(t) - 1], '\n');
	log_flush();
	cr_expect_eq(lines(file_text(fd)), 204);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
}

/* A crash writes the held lines before the process dies of its signal. */
Test(log, a_crash_writes_the_held_lines)
{
	static const int sigs[] = { SIGABRT, SIGSEGV };
	const char	*t;
	pid_t		 pid;
	int		 fd, saved, status, i;

	for (i = 0; i < 2; i++) {
		log_setup(LOG_FORMAT_TEXT, "calendence");
		fd = stderr_to_file(&saved);
		cr_assert_neq(pid = fork(), -1);
		if (pid == 0) {
			struct sigaction sa;

			/* the default action, whatever the test runner set */
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = SIG_DFL;
			sigaction(sigs[i], &sa, NULL);
			log_flush_on_crash();
			log_request(LOG_LEVEL_INFO, &a_request);
			if (sigs[i] == SIGABRT)
				abort();
			raise(SIGSEGV);
			_exit(0);
		}
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		dup2(saved, STDERR_FILENO);
		close(saved);
		cr_expect(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i],
		    "status %d", status);
		t = file_text(fd);
		cr_expect_eq(lines(t), 1, "%s", t);
		cr_expect_not_null(strstr(t, "info: req_0123456789abcdef GET"), "%s", t);
		close(fd);
	}
}
