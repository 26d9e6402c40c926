/*
 * fuzz_token.c: the Authorization header: auth_bearer() finds the token,
 * token_parse() checks its format. Invariants: a token accepted has a known
 * prefix, the base62 alphabet and a checksum that an independent SHA-256
 * computation agrees with; the Bearer token lies inside the header, trimmed.
 */
#include <strings.h>

#include <sodium.h>

#include "auth.h"
#include "token.h"
#include "fuzz.h"

static const char *const prefixes[TOKEN__MAX] = {
	[TOKEN_HUB] = "cal_hub_",
	[TOKEN_BUSINESS] = "cal_biz_",
	[TOKEN_PUBLISHABLE] = "cal_pub_",
	[TOKEN_SESSION] = "cal_ses_",
};

static const char b62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* What SPEC 2 says a well-formed token is, written again from the spec. */
static int
well_formed(const char *s, size_t len, enum token_kind *kind)
{
	unsigned char	 h[crypto_hash_sha256_BYTES];
	unsigned long	 n;
	size_t		 i;
	int		 k, found = -1;

	if (len != 46)
		return 0;
	for (k = 0; k < TOKEN__MAX; k++)
		if (memcmp(s, prefixes[k], 8) == 0)
			found = k;
	if (found == -1)
		return 0;
	for (i = 8; i < len; i++)
		if (s[i] == '\0' || strchr(b62, s[i]) == NULL)
			return 0;
	crypto_hash_sha256(h, (const unsigned char *)s, 40);
	n = (unsigned long)h[0] << 24 | (unsigned long)h[1] << 16 |
	    (unsigned long)h[2] << 8 | h[3];
	for (i = 45; i >= 40; i--, n /= 62)
		if (s[i] != b62[n % 62])
			return 0;
	*kind = (enum token_kind)found;
	return 1;
}

static void
check_token(const char *s, size_t len)
{
	enum token_kind	 kind = TOKEN__MAX, want = TOKEN__MAX;
	char		 disp[TOKEN_DISPLAY_LEN + 1];
	int		 ok;

	ok = token_parse(s, len, &kind) == 0;
	FUZZ_ASSERT(ok == well_formed(s, len, &want));
	if (!ok)
		return;
	FUZZ_ASSERT(kind == want);
	token_display(s, disp);
	FUZZ_ASSERT(strlen(disp) == TOKEN_DISPLAY_LEN);
	FUZZ_ASSERT(memcmp(disp, s, 8) == 0 && memcmp(disp + 8, s + 42, 4) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char		*raw, *hdr;
	const char	*tok;
	size_t		 len;

	/* the bytes as a token, exactly as long as the input */
	raw = fuzz_dup(data, size);
	check_token(raw, size);
	free(raw);

	/* the bytes as an Authorization header */
	hdr = malloc(size + 1);
	if (hdr == NULL)
		abort();
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	if (auth_bearer(hdr, &tok, &len) == 0) {
		FUZZ_ASSERT(strncasecmp(hdr, "Bearer ", 7) == 0);
		FUZZ_ASSERT(tok >= hdr + 7 && len > 0 && tok + len <= hdr + strlen(hdr));
		FUZZ_ASSERT(tok[0] != ' ');
		FUZZ_ASSERT(tok[len - 1] != ' ' && tok[len - 1] != '\t');
		FUZZ_ASSERT(strspn(tok + len, " \t") == strlen(tok + len));
		check_token(tok, len);
	} else
		FUZZ_ASSERT(strncasecmp(hdr, "Bearer ", 7) != 0 ||
		    strspn(hdr + 7, " \t") == strlen(hdr + 7));
	free(hdr);
	return 0;
}
