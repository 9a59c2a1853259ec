/* Defects of Debian's sofia-sip (1.12.11) that pinholed must not inherit,
 * mended where sofia-sip lets us: a function it calls that pinholed's
 * executable defines again, which sofia's internal calls reach through the
 * PLT (checked with objdump on Debian 12's libsofia-sip-ua.so.0), and
 * which hands on to the original (dlsym RTLD_NEXT).
 *
 * msg_next(): on a TCP connection, the second and later messages that
 * arrive in one read are made by msg_next() with msg_create(), without
 * the agent's size limit (NTATAG_MAXSIZE) that the first one got. A
 * Content-Length near 2^32 then overflows msg_extract_payload()'s buffer
 * arithmetic, and it writes outside the buffer: a remote crash, found by
 * make fuzz-net (tests/sipp/onepacket.py, case pipelined). The next
 * message gets its predecessor's limit, so such a length is refused as
 * too large, as it is for the first message. */
#include "config.h"

#include <dlfcn.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <sofia-sip/msg.h>

msg_t *msg_next(msg_t *msg);

msg_t *msg_next(msg_t *msg)
{
	static msg_t *(*sofia_msg_next)(msg_t *);
	msg_t *next;

	if (!sofia_msg_next)
		*(void **)&sofia_msg_next = dlsym(RTLD_NEXT, "msg_next");
	if (!sofia_msg_next)
		return NULL;
	next = sofia_msg_next(msg);
	if (next && msg)
		msg_maxsize(next, msg_maxsize(msg, 0));
	return next;
}

/* SSL_CTX_new(): sofia-sip's TLS transport makes its context with
 * TLS_method() and no version floor (it ignores TPTAG_TLS_VERSION), so
 * it would speak whatever the host's OpenSSL configuration allows, TLS
 * 1.0 and 1.1 included. pinholed speaks TLS 1.2 and 1.3 only (RFC 8996
 * deprecates 1.0 and 1.1), whatever that configuration says: every
 * context made in this process gets the floor. */
SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth)
{
	static SSL_CTX *(*ssl_ctx_new)(const SSL_METHOD *);
	SSL_CTX *ctx;

	if (!ssl_ctx_new)
		*(void **)&ssl_ctx_new = dlsym(RTLD_NEXT, "SSL_CTX_new");
	if (!ssl_ctx_new)
		return NULL;
	ctx = ssl_ctx_new(meth);
	if (ctx && !SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}
