/* STUN binding service core. Every answer goes only to the source address
 * of the request that asked for it: the service is never a reflector. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pinhole/stun.h>

#include "log.h"
#include "stund.h"

/* Remembered sources: a ring of slots in arrival order (the oldest is
 * reused first) indexed by a chained hash table of slot numbers. */
struct seen {
	struct ph_addr addr;
	uint64_t at_ms;
	int32_t next;   /* next slot in the hash chain, -1 ends */
	bool used;
};

struct stund {
	struct stund_conf conf;
	stund_send_h *sendh;
	void *arg;
	struct stund_stats stats;
	struct seen *ring;
	int32_t *heads;
	uint32_t mask;  /* heads has mask + 1 entries */
	uint32_t hand;  /* next ring slot to reuse */
};

int stund_alloc(struct stund **sp, const struct stund_conf *conf,
		stund_send_h *sendh, void *arg)
{
	struct stund *s;
	uint32_t n = 1;

	if (!conf->memory || !sendh)
		return EINVAL;
	while (n < conf->memory)
		n <<= 1;
	s = calloc(1, sizeof *s);
	if (!s)
		return ENOMEM;
	s->ring = calloc(conf->memory, sizeof *s->ring);
	s->heads = malloc(n * sizeof *s->heads);
	if (!s->ring || !s->heads) {
		stund_free(s);
		return ENOMEM;
	}
	memset(s->heads, 0xff, n * sizeof *s->heads);
	s->mask = n - 1;
	s->conf = *conf;
	s->sendh = sendh;
	s->arg = arg;
	*sp = s;
	return 0;
}

void stund_free(struct stund *s)
{
	if (!s)
		return;
	free(s->ring);
	free(s->heads);
	free(s);
}

const struct stund_stats *stund_stats(const struct stund *s)
{
	return &s->stats;
}

static int32_t *seen_find(const struct stund *s, const struct ph_addr *a)
{
	int32_t *p = &s->heads[ph_addr_hash(a) & s->mask];

	while (*p >= 0 && !ph_addr_eq(&s->ring[*p].addr, a))
		p = &s->ring[*p].next;
	return p;
}

static void seen_note(struct stund *s, const struct ph_addr *a, uint64_t now)
{
	int32_t *p = seen_find(s, a);
	struct seen *e;
	int32_t i;

	if (*p >= 0) {
		s->ring[*p].at_ms = now;
		return;
	}
	i = (int32_t)s->hand;
	s->hand = (s->hand + 1) % s->conf.memory;
	e = &s->ring[i];
	if (e->used) { /* forget the oldest: unlink it from its chain */
		int32_t *q = seen_find(s, &e->addr);
		*q = e->next;
		p = seen_find(s, a); /* the chain may have changed */
	}
	e->addr = *a;
	e->at_ms = now;
	e->used = true;
	e->next = -1;
	*p = i;
}

bool stund_seen(const struct stund *s, const struct ph_addr *src,
		uint64_t now_ms, uint64_t max_age_ms)
{
	int32_t i = *seen_find(s, src);

	return i >= 0 && now_ms - s->ring[i].at_ms <= max_age_ms;
}

static bool is_hop_port(const struct stund *s, uint16_t port)
{
	return port >= s->conf.port + 2 && port <= s->conf.port + 9;
}

/* The address the alternate answers come from (RFC 5780 OTHER-ADDRESS). */
static void other_address(const struct stund *s, const struct ph_addr *local,
			  struct ph_addr *out)
{
	*out = *local;
	if (ph_addr_isset(&s->conf.alt_ip) &&
	    ph_addr_af(&s->conf.alt_ip) == ph_addr_af(local))
		*out = s->conf.alt_ip;
	ph_addr_set_port(out, s->conf.port + 1);
}

static int send_answer(struct stund *s, const struct ph_stun_msg *req,
		       const struct ph_addr *from, const struct ph_addr *local,
		       const struct ph_addr *src)
{
	uint8_t buf[PH_STUN_MAX_LEN];
	struct ph_stun_enc e;
	struct ph_addr other;
	size_t len;
	int err;

	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_SUCCESS,
			 req->tid);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, src);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_RESPONSE_ORIGIN, from);
	if (ph_addr_port(local) == s->conf.port ||
	    ph_addr_port(local) == s->conf.port + 1) {
		other_address(s, local, &other);
		ph_stun_enc_addr(&e, PH_STUN_ATTR_OTHER_ADDRESS, &other);
	}
	err = ph_stun_enc_finish(&e, true, &len);
	if (!err)
		err = s->sendh(from, src, buf, len, s->arg);
	return err;
}

static int send_error(struct stund *s, const struct ph_stun_msg *req,
		      const struct ph_addr *local, const struct ph_addr *src,
		      uint16_t code, const char *reason)
{
	uint8_t buf[PH_STUN_MAX_LEN];
	struct ph_stun_enc e;
	size_t len;
	int err;

	ph_stun_enc_init(&e, buf, sizeof buf, req->method, PH_STUN_ERROR,
			 req->tid);
	ph_stun_enc_error(&e, code, reason);
	if (code == 420)
		ph_stun_enc_unknown(&e, req->unknown, req->n_unknown);
	err = ph_stun_enc_finish(&e, true, &len);
	if (!err)
		err = s->sendh(local, src, buf, len, s->arg);
	s->stats.errors++;
	return err;
}

/* Where CHANGE-REQUEST says the answer comes from (RFC 5780 section 6.1). */
static int change_source(const struct stund *s, const struct ph_stun_msg *req,
			 const struct ph_addr *local, struct ph_addr *from)
{
	*from = *local;
	if (!(req->present & PH_STUN_HAS_CHANGE_REQUEST))
		return 0;
	if (req->change_flags & PH_STUN_CHANGE_IP) {
		if (!ph_addr_isset(&s->conf.alt_ip) ||
		    ph_addr_af(&s->conf.alt_ip) != ph_addr_af(local))
			return EADDRNOTAVAIL;
		*from = s->conf.alt_ip;
		ph_addr_set_port(from, ph_addr_port(local));
	}
	if (req->change_flags & PH_STUN_CHANGE_PORT)
		ph_addr_set_port(from, ph_addr_port(local) == s->conf.port
					       ? s->conf.port + 1
					       : s->conf.port);
	return 0;
}

static int handle_request(struct stund *s, const struct ph_stun_msg *req,
			  const struct ph_addr *local,
			  const struct ph_addr *src, uint64_t now)
{
	struct ph_addr from, hop;
	int err;

	s->stats.requests++;
	if (req->method != PH_STUN_BINDING)
		return send_error(s, req, local, src, 400, "Only Binding is served");
	if (req->n_unknown) /* RFC 8489 section 6.3.1.1 */
		return send_error(s, req, local, src, 420, "Unknown Attribute");
	if (change_source(s, req, local, &from))
		return send_error(s, req, local, src, 400,
				  "Change-IP not available");
	err = send_answer(s, req, &from, local, src);
	if (err)
		return err;
	s->stats.answers++;
	seen_note(s, src, now);

	/* The hop test's second answer: only from our own hop-test ports,
	 * only to the request's source (PROTOCOL.md section 1). */
	if ((req->present & PH_STUN_HAS_REPLY_FROM) &&
	    is_hop_port(s, req->reply_from_port)) {
		hop = *local;
		ph_addr_set_port(&hop, req->reply_from_port);
		if (!send_answer(s, req, &hop, local, src))
			s->stats.hop_answers++;
	}
	return 0;
}

int stund_recv(struct stund *s, const struct ph_addr *local,
	       const struct ph_addr *src, const uint8_t *buf, size_t len,
	       uint64_t now_ms)
{
	struct ph_stun_msg msg;
	int err;

	if (len == 0) { /* a null packet: the hop test, or a keepalive */
		s->stats.nulls++;
		return 0;
	}
	if (!ph_stun_is(buf, len))
		return EPROTO;
	err = ph_stun_decode(&msg, buf, len);
	if (err) {
		s->stats.bad++;
		if (log_enabled(LOG_DEBUG)) {
			char a[PH_ADDR_STRLEN];
			ph_addr_print(src, a, sizeof a);
			log_debug("stun: malformed message from %s dropped", a);
		}
		return EBADMSG;
	}
	if (msg.cls != PH_STUN_REQUEST)
		return 0; /* indications and stray responses: nothing to do */
	return handle_request(s, &msg, local, src, now_ms);
}
