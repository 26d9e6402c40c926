/* outage.c: PostgreSQL stopped and started again under the running server. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"
#include "api.h"

Test(outage, database_down_gives_503_then_recovers, .timeout = 120)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	struct http_resp	 r;
	int			 i, ok = 0;

	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_assert_eq(r.status, 200, "%s", r.body);
	http_resp_free(&r);
	pgctl("stop");
	for (i = 0; i < 3; i++) {
		cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
		cr_expect_eq(r.status, 503, "%s", r.body);
		cr_expect_str_eq(jstr(r.json, "error.code"), "service_unavailable");
		cr_expect_str_eq(jstr(r.json, "error.type"), "api_error");
		cr_expect_not_null(http_header(&r, "Retry-After"));
		http_resp_free(&r);
	}
	pgctl("start");
	/* no restart of anything: the workers reconnect by themselves */
	for (i = 0; i < 50 && !ok; i++) {
		cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
		ok = r.status == 200;
		http_resp_free(&r);
		if (!ok)
			usleep(100000);
	}
	cr_expect(ok, "service did not resume after the database came back");
	free(key);
	free(biz);
	free(hub);
}
