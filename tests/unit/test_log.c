/* test_log.c: no token survives in a log line (fcgi/log.c, log_redact()). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

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
