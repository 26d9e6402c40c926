/* token.c: token format: generate, checksum, parse (no I/O). */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "token.h"

static const char base62[] =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static const struct {
	const char	*prefix;	/* 8 characters */
	const char	*name;		/* as in the kind column */
} kinds[TOKEN__MAX] = {
	[TOKEN_HUB] =		{ "cal_hub_", "hub" },
	[TOKEN_BUSINESS] =	{ "cal_biz_", "business" },
	[TOKEN_PUBLISHABLE] =	{ "cal_pub_", "publishable" },
	[TOKEN_SESSION] =	{ "cal_ses_", "session" },
};

/* The kind's name as the database spells it. */
const char *
token_kind_name(enum token_kind k)
{
	return k < TOKEN__MAX ? kinds[k].name : "unknown";
}

static int
is_base62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	    (c >= 'a' && c <= 'z');
}

/*
 * Writes the 6-character checksum of the 40-character body: the first four
 * bytes of its SHA-256 as a big-endian number, in base62, zero-padded.
 */
void
token_checksum(const char *body, char out[6])
{
	unsigned char	 h[crypto_hash_sha256_BYTES];
	uint32_t	 n;
	int		 i;

	crypto_hash_sha256(h, (const unsigned char *)body, TOKEN_BODY_LEN);
	n = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	for (i = 5; i >= 0; i--) {
		out[i] = base62[n % 62];
		n /= 62;
	}
}

/*
 * Checks s (len bytes, not necessarily NUL-terminated) against the format:
 * known prefix, exact length, base62 alphabet, checksum. Returns 0 and sets
 * *kind when it is well formed, -1 otherwise. Never touches the database.
 */
int
token_parse(const char *s, size_t len, enum token_kind *kind)
{
	char	 sum[6];
	size_t	 i;
	int	 k;

	if (s == NULL || len != TOKEN_LEN)
		return -1;
	for (k = 0; k < TOKEN__MAX; k++)
		if (memcmp(s, kinds[k].prefix, 8) == 0)
			break;
	if (k == TOKEN__MAX)
		return -1;
	for (i = 8; i < TOKEN_LEN; i++)
		if (!is_base62((unsigned char)s[i]))
			return -1;
	token_checksum(s, sum);
	if (memcmp(sum, s + TOKEN_BODY_LEN, 6) != 0)
		return -1;
	*kind = (enum token_kind)k;
	return 0;
}

/* Writes n random base62 characters (no NUL) into out, from libsodium's CSPRNG. */
void
token_random62(char *out, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		out[i] = base62[randombytes_uniform(62)];
}

/* Writes a fresh NUL-terminated token of the kind into out. */
void
token_generate(enum token_kind kind, char out[TOKEN_LEN + 1])
{
	memcpy(out, kinds[kind].prefix, 8);
	token_random62(out + 8, TOKEN_BODY_LEN - 8);
	token_checksum(out, out + TOKEN_BODY_LEN);
	out[TOKEN_LEN] = '\0';
}

/* SHA-256 of the whole token: what the database stores. */
void
token_hash(const char *s, size_t len, unsigned char out[TOKEN_HASH_LEN])
{
	crypto_hash_sha256(out, (const unsigned char *)s, len);
}

/* The display form: the 8-character prefix and the last 4 characters. */
void
token_display(const char *s, char out[TOKEN_DISPLAY_LEN + 1])
{
	memcpy(out, s, 8);
	memcpy(out + 8, s + TOKEN_LEN - 4, 4);
	out[TOKEN_DISPLAY_LEN] = '\0';
}
