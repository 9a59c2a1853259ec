/* The phones' digest answers (RFC 7616 section 3.4, RFC 8760 for SIP):
 * MD5 and SHA-256, qop=auth or none, computed with OpenSSL's EVP. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "digest.h"

/* RFC 7616 section 3.3: "If [algorithm] is not present, it is assumed to
 * be "MD5"." The -sess variants are not answered: no server here offers
 * them, and pinholed's RFC 8760 challenges never do. */
int digest_alg_parse(const char *name, enum digest_alg *alg)
{
	if (!name || !strcasecmp(name, "MD5"))
		*alg = DIGEST_MD5;
	else if (!strcasecmp(name, "SHA-256"))
		*alg = DIGEST_SHA256;
	else
		return ENOTSUP;
	return 0;
}

/* 1 when a challenge's qop list (RFC 7616 section 3.3: quoted, comma
 * separated) offers "auth", which is all we answer (not "auth-int"). */
int digest_qop_auth(const char *qop, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if (!strncmp(qop + i, "auth", 4) &&
		    (!i || strchr("\", \t", qop[i - 1])) &&
		    (i + 4 == len || strchr("\", \t", qop[i + 4])))
			return 1;
	return 0;
}

/* hex of H(s), s given as pieces joined by ':' */
static int hash_hex(char *hex, size_t size, enum digest_alg alg,
		    const char *const *part, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, alg == DIGEST_SHA256 ?
					  EVP_sha256() : EVP_md5(), NULL);

	for (size_t i = 0; ok && i < n; i++)
		ok = (!i || EVP_DigestUpdate(ctx, ":", 1)) &&
		     EVP_DigestUpdate(ctx, part[i], strlen(part[i]));
	ok = ok && EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ENOMEM;
	if (size < 2 * len + 1)
		return ENOSPC;
	for (unsigned int i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	return 0;
}

/* RFC 7616 section 3.4.1: response = KD(H(A1), nonce ":" nc ":" cnonce
 * ":" qop ":" H(A2)) with qop, KD(H(A1), nonce ":" H(A2)) without (RFC
 * 2069's form, kept by RFC 7616 for compatibility); A1 = user ":" realm
 * ":" password, A2 = method ":" uri (qop=auth). */
int digest_response(char *hex, size_t size, enum digest_alg alg,
		    const char *realm, const char *nonce, int qop_auth,
		    const struct digest_cred *c)
{
	char ha1[DIGEST_HEX_MAX + 1], ha2[DIGEST_HEX_MAX + 1], nc[9];
	const char *a1[] = {c->user, realm, c->pass};
	const char *a2[] = {c->method, c->uri};
	const char *kd[] = {ha1, nonce, nc, c->cnonce, "auth", ha2};
	const char *kd0[] = {ha1, nonce, ha2};
	int err;

	if (alg != DIGEST_MD5 && alg != DIGEST_SHA256)
		return EINVAL;
	if (qop_auth && (!c->cnonce || !c->nc))
		return EINVAL;
	snprintf(nc, sizeof nc, "%08x", c->nc);
	if ((err = hash_hex(ha1, sizeof ha1, alg, a1, 3)) ||
	    (err = hash_hex(ha2, sizeof ha2, alg, a2, 2)))
		return err;
	return qop_auth ? hash_hex(hex, size, alg, kd, 6)
			: hash_hex(hex, size, alg, kd0, 3);
}

/* The value of an Authorization or Proxy-Authorization header field
 * (RFC 7616 section 3.4, RFC 3261 section 25.1's digest-response). */
int digest_credentials(char *buf, size_t size, const struct digest_chall *ch,
		       const struct digest_cred *c)
{
	char resp[DIGEST_HEX_MAX + 1];
	int n, err = digest_response(resp, sizeof resp, ch->alg, ch->realm,
				     ch->nonce, ch->qop_auth, c);

	if (err)
		return err;
	n = snprintf(buf, size, "Digest username=\"%s\", realm=\"%s\", "
		     "nonce=\"%s\", uri=\"%s\", response=\"%s\", algorithm=%s",
		     c->user, ch->realm, ch->nonce, c->uri, resp,
		     ch->alg == DIGEST_SHA256 ? "SHA-256" : "MD5");
	if (n > 0 && (size_t)n < size && ch->qop_auth)
		n += snprintf(buf + n, size - (size_t)n,
			      ", cnonce=\"%s\", qop=auth, nc=%08x", c->cnonce,
			      c->nc);
	if (n > 0 && (size_t)n < size && ch->opaque)
		n += snprintf(buf + n, size - (size_t)n, ", opaque=\"%s\"",
			      ch->opaque);
	return n > 0 && (size_t)n < size ? 0 : ENOSPC;
}
