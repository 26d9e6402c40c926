/* test_json_check.c: the strict RFC 8259 recogniser in front of json-c. */
#include <string.h>

#include <criterion/criterion.h>

#include "body.h"

static int
ok(const char *s)
{
	return json_check(s, strlen(s));
}

Test(json_check, takes_rfc8259_texts)
{
	static const char *const good[] = {
		"{}", " { } ", "[]", "0", "-0", "1.5e-3", "-12E+2", "1e5", "\"\"",
		"true", "false", "null", "\n{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\\n\\\"\"}\r\n",
		"{\"k\":\"caf\xc3\xa9\"}", "[[[[[[[[[[1]]]]]]]]]]", "{\"a\":1,\"a\":2}",
	};
	size_t	 i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_expect(ok(good[i]), "refused: %s", good[i]);
}

Test(json_check, refuses_what_json_c_lets_through)
{
	static const char *const bad[] = {
		"{'a':1}", "{\"a\":'x'}", "{\"a\":NaN}", "{\"a\":Infinity}",
		"{\"a\":-Infinity}", "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}",
		"{\"a\":1,}", "[1,]", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "+1", "1e",
		"-", "\"\\x41\"", "\"\\u12G4\"", "\"open", "{\"a\":1} x", "{\"a\":1}{}",
		"", " ", "tru", "nul", "truex", "[1 2]", "{\"a\":1 \"b\":2}", "/*c*/{}",
		"{\"a\":1}//c",
	};
	size_t	 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_expect(!ok(bad[i]), "accepted: %s", bad[i]);
}

Test(json_check, nul_byte_and_depth)
{
	char	 deep[2 * JSON_CHECK_MAX_DEPTH + 3];
	size_t	 n;

	cr_expect(!json_check("{\"a\":\"x\0y\"}", 11), "a raw NUL in a string");
	cr_expect(!json_check("{}\0", 3), "a NUL after the value");

	/* exactly the maximum depth is taken, one more is not */
	for (n = 0; n < JSON_CHECK_MAX_DEPTH; n++)
		deep[n] = '[';
	for (; n < 2 * JSON_CHECK_MAX_DEPTH; n++)
		deep[n] = ']';
	cr_expect(json_check(deep, n), "depth %d", JSON_CHECK_MAX_DEPTH);
	memmove(deep + 1, deep, n);
	deep[0] = '[';
	deep[n + 1] = ']';
	cr_expect(!json_check(deep, n + 2), "depth %d", JSON_CHECK_MAX_DEPTH + 1);
}
