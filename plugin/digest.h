/* The phones' side of HTTP digest (RFC 7616, brought to SIP by RFC 8760):
 * the challenge to answer and the credentials that answer it, on OpenSSL.
 * Pure functions: no allocation, no I/O. */
#ifndef PINHOLE_DIGEST_H
#define PINHOLE_DIGEST_H

#include <stddef.h>

enum digest_alg { DIGEST_NONE = -1, DIGEST_MD5, DIGEST_SHA256 };

/* RFC 7616 section 3.7: the longest response, SHA-256's, in hex */
#define DIGEST_HEX_MAX 64

/* The parameters of one Digest challenge that the answer uses, unquoted. */
struct digest_chall {
	enum digest_alg alg;
	const char *realm, *nonce, *opaque;
	int qop_auth;                /* qop offered and lists "auth" */
};

struct digest_cred {
	const char *user, *pass, *method, *uri, *cnonce;
	unsigned nc;
};

int digest_alg_parse(const char *name, enum digest_alg *alg);
int digest_qop_auth(const char *qop, size_t len);
int digest_response(char *hex, size_t size, enum digest_alg alg,
		    const char *realm, const char *nonce, int qop_auth,
		    const struct digest_cred *c);
int digest_credentials(char *buf, size_t size, const struct digest_chall *ch,
		       const struct digest_cred *c);

#endif
