/* smoke.c: the quick-start promise: a business key lists its services. */
#include <criterion/criterion.h>

#include "fixture.h"
#include "http.h"

Test(smoke, business_key_lists_services)
{
	char			*hub = fx_hub("pro"), *biz = fx_business(hub, NULL);
	char			*key = fx_key("business", biz);
	struct http_resp	 r;

	free(fx_service(biz, "Express Wash", 1));
	cr_assert_eq(http_get("/api/v1/services", key, NULL, &r), 0);
	cr_expect_eq(r.status, 200, "%s", r.body);
	cr_expect_str_eq(jstr(r.json, "data.0.name"), "Express Wash");
	cr_expect_eq(jint(r.json, "meta.total"), 1);
	http_resp_free(&r);
	free(key);
	free(biz);
	free(hub);
}
