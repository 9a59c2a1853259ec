/* What pinholed vouches for: its Record-Route's flow token and the branch
 * of each Via it adds carry a MAC (HMAC-SHA-256, truncated), so that it
 * follows only routes it wrote and forwards a stray response only along a
 * Via it added: a forged token would make it an open relay (RFC 3261
 * section 26.4.4 warns of proxies used to reach third parties). */
#ifndef PINHOLED_SIGN_H
#define PINHOLED_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 96 bits of the MAC, base64url (RFC 4648 section 5): a token character
 * string in a URI parameter or a Via branch. */
#define SIGN_MAC_BYTES 12
#define SIGN_STRLEN (SIGN_MAC_BYTES / 3 * 4 + 1)
#define SIGN_SECRET_MIN 16

struct sign_key;

/* The key: secret's bytes (route_secret, at least SIGN_SECRET_MIN long),
 * or, when secret is empty, 32 random bytes for this process. */
int sign_key_alloc(struct sign_key **kp, const char *secret);
void sign_key_free(struct sign_key *key);
/* The MAC of n strings (NULL counts as empty), each with its end, so that
 * ("ab", "c") and ("a", "bc") differ. */
int sign_mac(const struct sign_key *key, const char *const *parts, size_t n,
	     char out[SIGN_STRLEN]);
/* mac is that of the parts (a constant-time comparison). */
bool sign_check(const struct sign_key *key, const char *const *parts,
		size_t n, const char *mac);
/* len random bytes as base64url, len a multiple of 3: a nonce. */
int sign_nonce(char *out, size_t size, size_t len);

#endif
