/* HMAC-SHA-256 over OpenSSL for sign.h. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "sign.h"

int sign_key_init(struct sign_key *key, const char *secret)
{
	size_t n = strlen(secret);

	memset(key, 0, sizeof *key);
	if (!n) {
		key->len = 32;
		return RAND_bytes(key->k, (int)key->len) == 1 ? 0 : EIO;
	}
	if (n < SIGN_SECRET_MIN)
		return EINVAL;
	/* RFC 2104: a key longer than the block is hashed first anyway */
	if (n > sizeof key->k) {
		SHA256((const uint8_t *)secret, n, key->k);
		key->len = SHA256_DIGEST_LENGTH;
		return 0;
	}
	memcpy(key->k, secret, n);
	key->len = n;
	return 0;
}

/* base64url without padding: len a multiple of 3 */
static void b64url(char *out, const uint8_t *in, size_t len)
{
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	for (char *p = out; *p; p++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
}

static int mac_raw(const struct sign_key *key, const char *const *parts,
		   size_t n, uint8_t mac[EVP_MAX_MD_SIZE])
{
	char buf[2048];
	size_t used = 0;
	unsigned int mlen = 0;

	for (size_t i = 0; i < n; i++) {
		const char *s = parts[i] ? parts[i] : "";
		size_t l = strlen(s) + 1;

		if (used + l > sizeof buf)
			return ENAMETOOLONG;
		memcpy(buf + used, s, l);
		used += l;
	}
	if (!HMAC(EVP_sha256(), key->k, (int)key->len, (const uint8_t *)buf,
		  used, mac, &mlen) || mlen < SIGN_MAC_BYTES)
		return EIO;
	return 0;
}

int sign_mac(const struct sign_key *key, const char *const *parts, size_t n,
	     char out[SIGN_STRLEN])
{
	uint8_t mac[EVP_MAX_MD_SIZE];
	int err = mac_raw(key, parts, n, mac);

	if (!err)
		b64url(out, mac, SIGN_MAC_BYTES);
	return err;
}

bool sign_check(const struct sign_key *key, const char *const *parts,
		size_t n, const char *mac)
{
	char want[SIGN_STRLEN];

	return mac && strlen(mac) == SIGN_STRLEN - 1 &&
	       !sign_mac(key, parts, n, want) &&
	       !CRYPTO_memcmp(want, mac, SIGN_STRLEN - 1);
}

int sign_nonce(char *out, size_t size, size_t len)
{
	uint8_t r[48];

	if (len % 3 || len > sizeof r || size < len / 3 * 4 + 1)
		return EINVAL;
	if (RAND_bytes(r, (int)len) != 1)
		return EIO;
	b64url(out, r, len);
	return 0;
}
