/* token.h: the 46-character API token format of SPEC 2. */
#ifndef TOKEN_H
#define TOKEN_H

#include <stddef.h>

#define TOKEN_LEN	46	/* "cal_xxx_" + 32 random + 6 checksum */
#define TOKEN_BODY_LEN	40	/* what the checksum covers */
#define TOKEN_HASH_LEN	32	/* SHA-256 */
#define TOKEN_DISPLAY_LEN 12	/* "cal_biz_" + last 4 */

enum token_kind {
	TOKEN_HUB,
	TOKEN_BUSINESS,
	TOKEN_PUBLISHABLE,
	TOKEN_SESSION,
	TOKEN__MAX
};

#define TOKEN_BIT(k)	(1u << (k))

const char	*token_kind_name(enum token_kind);
int		 token_parse(const char *, size_t, enum token_kind *);
void		 token_checksum(const char *, char [6]);
void		 token_random62(char *, size_t);
void		 token_generate(enum token_kind, char [TOKEN_LEN + 1]);
void		 token_hash(const char *, size_t, unsigned char [TOKEN_HASH_LEN]);
void		 token_display(const char *, char [TOKEN_DISPLAY_LEN + 1]);

#endif
