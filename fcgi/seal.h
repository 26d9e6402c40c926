/* seal.h: webhook signing secrets: made, sealed with the server's key, opened. */
#ifndef SEAL_H
#define SEAL_H

#include <stddef.h>

#include <sodium.h>

#define SEAL_KEY_LEN	crypto_secretbox_KEYBYTES		/* 32 */
#define SEAL_SECRET_LEN	38	/* "whsec_" + 32 base62 (SPEC 11) */
#define SEAL_BOX_LEN	(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + \
			 SEAL_SECRET_LEN)
/* the box as PostgreSQL's bytea text: "\x" and two hex digits a byte */
#define SEAL_BOX_HEX_LEN (2 + 2 * SEAL_BOX_LEN)

int	 seal_key_load(const char *, unsigned char [SEAL_KEY_LEN], char *, size_t);
void	 seal_secret_new(char [SEAL_SECRET_LEN + 1]);
int	 seal_close_hex(const unsigned char [SEAL_KEY_LEN], const char *,
	    char [SEAL_BOX_HEX_LEN + 1]);
int	 seal_open_hex(const unsigned char [SEAL_KEY_LEN], const char *,
	    char [SEAL_SECRET_LEN + 1]);

#endif
