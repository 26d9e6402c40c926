/*
 * seal.c: webhook signing secrets (SPEC 11): made ("whsec_" + 32 base62),
 * sealed with the server's key (libsodium crypto_secretbox, a fresh nonce
 * each time) for the database, which so never holds one in the clear, and
 * opened again by the sender. The key is 32 bytes, 64 hex digits in a file
 * named by the webhook_key_file setting.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "seal.h"
#include "token.h"

/*
 * Reads the key file at path into key: 64 hex digits, then nothing but an
 * optional line end. 0, or -1 with the reason in err.
 */
int
seal_key_load(const char *path, unsigned char key[SEAL_KEY_LEN], char *err,
    size_t errlen)
{
	char	 text[2 * SEAL_KEY_LEN + 4];
	size_t	 n, bin;
	FILE	*f;
	int	 rc = -1;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read the key file %s: %s", path, strerror(errno));
		return -1;
	}
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	if (n != 2 * SEAL_KEY_LEN || sodium_hex2bin(key, SEAL_KEY_LEN, text, n, NULL,
	    &bin, NULL) != 0 || bin != SEAL_KEY_LEN)
		snprintf(err, errlen, "the key file %s must hold 64 hex digits (32 random "
		    "bytes: openssl rand -hex 32)", path);
	else
		rc = 0;
	sodium_memzero(text, sizeof(text));
	fclose(f);
	return rc;
}

/* Writes a fresh secret, NUL-terminated, into out. */
void
seal_secret_new(char out[SEAL_SECRET_LEN + 1])
{
	memcpy(out, "whsec_", 6);
	token_random62(out + 6, SEAL_SECRET_LEN - 6);
	out[SEAL_SECRET_LEN] = '\0';
}

/*
 * Seals secret (exactly SEAL_SECRET_LEN characters) with key: the nonce and
 * the box, as bytea text into hex. 0, or -1 when secret has another length.
 */
int
seal_close_hex(const unsigned char key[SEAL_KEY_LEN], const char *secret,
    char hex[SEAL_BOX_HEX_LEN + 1])
{
	unsigned char	 box[SEAL_BOX_LEN];

	if (strlen(secret) != SEAL_SECRET_LEN)
		return -1;
	randombytes_buf(box, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES,
	    (const unsigned char *)secret, SEAL_SECRET_LEN, box, key);
	memcpy(hex, "\\x", 2);
	sodium_bin2hex(hex + 2, SEAL_BOX_HEX_LEN - 1, box, sizeof(box));
	return 0;
}

/*
 * Opens a box in bytea text (as libpq returns bytea) with key into secret.
 * 0, or -1 when it is malformed or was not sealed with this key (secret is
 * then wiped).
 */
int
seal_open_hex(const unsigned char key[SEAL_KEY_LEN], const char *hex,
    char secret[SEAL_SECRET_LEN + 1])
{
	unsigned char	 box[SEAL_BOX_LEN];
	size_t		 bin;

	memset(secret, 0, SEAL_SECRET_LEN + 1);
	if (strncmp(hex, "\\x", 2) != 0 || strlen(hex) != SEAL_BOX_HEX_LEN ||
	    sodium_hex2bin(box, sizeof(box), hex + 2, SEAL_BOX_HEX_LEN - 2, NULL, &bin,
	    NULL) != 0 || bin != sizeof(box))
		return -1;
	if (crypto_secretbox_open_easy((unsigned char *)secret,
	    box + crypto_secretbox_NONCEBYTES, SEAL_BOX_LEN - crypto_secretbox_NONCEBYTES,
	    box, key) != 0) {
		sodium_memzero(secret, SEAL_SECRET_LEN + 1);
		return -1;
	}
	return 0;
}
