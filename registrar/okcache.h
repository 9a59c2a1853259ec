/* The edits pinholed made to each 2xx to an INVITE it forwarded (the
 * relay's SDP, Firewall-Punch), kept 64*T1 by Call-ID, CSeq and To tag
 * for that 2xx's retransmissions, which nta forwards statelessly once the
 * client transaction is done (RFC 3261 16.11): the caller gets the same
 * answer whichever copy reaches it. No SIP stack in here. */
#ifndef PINHOLED_OKCACHE_H
#define PINHOLED_OKCACHE_H

#include <stddef.h>
#include <stdint.h>

/* 64*T1: the callee retransmits its 2xx until an ACK comes, that long at
 * most (RFC 3261 13.3.1.4); RFC 6026 section 7.1 keeps a proxy's INVITE
 * server transaction as long (Timer L) for them. */
#define OKCACHE_TTL_MS (64 * 500)

struct okcache;

/* max: the most kept (the oldest goes first) */
int okcache_alloc(struct okcache **cp, size_t max);
void okcache_free(struct okcache *c);
/* The edits (punch, body) of the 2xx with that Call-ID, CSeq number and To
 * tag, at now_ms. ENOMEM, ENAMETOOLONG (a key over 511 bytes), EMSGSIZE
 * (edits over 64 KiB): not kept. */
int okcache_put(struct okcache *c, const char *call_id, uint32_t cseq,
		const char *to_tag, const char *punch, const char *body,
		uint64_t now_ms);
/* Those edits, or ENOENT (never kept, or gone). *punch and *body are the
 * cache's, good until the next call on it. */
int okcache_get(struct okcache *c, const char *call_id, uint32_t cseq,
		const char *to_tag, uint64_t now_ms, const char **punch,
		const char **body);
/* Those past their time let go (also done by put and get). */
void okcache_expire(struct okcache *c, uint64_t now_ms);
size_t okcache_count(const struct okcache *c);

#endif
