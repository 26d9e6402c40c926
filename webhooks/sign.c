/*
 * sign.c: the two signatures of a delivery (SPEC 11), HMAC-SHA256 through
 * libsodium, keyed with the whole secret string ("whsec_..."):
 *   X-Calendence-Signature: sha256=<hex of HMAC(secret, body)>
 *   Calendence-Signature: t=<unix seconds>,v1=<hex of HMAC(secret, t "." body)>
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sender.h"

/*
 * The hex HMAC-SHA256, keyed with secret, of prefix (plen bytes, may be 0)
 * followed by body (len bytes), into hex.
 */
void
sign_hex(const char *secret, const char *prefix, size_t plen, const char *body,
    size_t len, char hex[SIGN_HEX_LEN + 1])
{
	crypto_auth_hmacsha256_state	 st;
	unsigned char			 mac[crypto_auth_hmacsha256_BYTES];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	if (plen > 0)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)prefix, plen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, SIGN_HEX_LEN + 1, mac, sizeof(mac));
	sodium_memzero(&st, sizeof(st));
}

/*
 * Both signature headers, whole ("Name: value"), of body (len bytes) sent
 * at unix time t: legacy into x, the timestamped one into v1.
 */
void
sign_headers(const char *secret, const char *body, size_t len, long long t,
    char x[SIGN_HEADER_MAX], char v1[SIGN_HEADER_MAX])
{
	char	 hex[SIGN_HEX_LEN + 1], stamp[32];
	int	 n;

	sign_hex(secret, NULL, 0, body, len, hex);
	snprintf(x, SIGN_HEADER_MAX, "X-Calendence-Signature: sha256=%s", hex);
	n = snprintf(stamp, sizeof(stamp), "%lld.", t);
	sign_hex(secret, stamp, (size_t)n, body, len, hex);
	snprintf(v1, SIGN_HEADER_MAX, "Calendence-Signature: t=%lld,v1=%s", t, hex);
}
