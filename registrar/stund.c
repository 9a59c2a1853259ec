/* STUN binding service core. Every answer goes only to the source address
 * of the request that asked for it: the service is never a reflector. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pinhole/stun.h>

#include "log.h"
#include "stund.h"
#include "stunmem.h"

struct stund {
	struct stund_conf conf;
	stund_send_h *sendh;
	void *arg;
	struct stund_stats stats;
	struct stunmem *memory;
	struct stunmem *refused;   /* IPs (port 0): stund_refused() */
};

int stund_alloc(struct stund **sp, const struct stund_conf *conf,
		stund_send_h *sendh, void *arg)
{
	struct stund *s;
	int err;

	if (!conf->memory || !sendh)
		return EINVAL;
	s = calloc(1, sizeof *s);
	if (!s)
		return ENOMEM;
	err = stunmem_alloc(&s->memory, conf->memory, conf->memory_per_prefix);
	/* one entry per router, not per window: a quarter is plenty */
	if (!err)
		err = stunmem_alloc(&s->refused, (conf->memory + 3) / 4,
				    (conf->memory_per_prefix + 3) / 4);
	if (err) {
		stunmem_free(s->memory);
		free(s);
		return err;
	}
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
	stunmem_free(s->memory);
	stunmem_free(s->refused);
	free(s);
}

const struct stund_stats *stund_stats(const struct stund *s)
{
	return &s->stats;
}

bool stund_seen(const struct stund *s, const struct ph_addr *src,
		uint64_t now_ms, uint64_t max_age_ms)
{
	uint64_t at;

	return stunmem_get(s->memory, src, &at) && now_ms - at <= max_age_ms;
}

void stund_refused(struct stund *s, const struct ph_addr *local,
		   const struct ph_addr *dst, uint64_t now_ms)
{
	struct ph_addr ip = *dst;
	char a[PH_ADDR_STRLEN];

	if (ph_addr_port(local) != s->conf.port + 1)
		return;
	ph_addr_set_port(&ip, 0);
	s->stats.refused++;
	if (!stund_answers_unsolicited(s, &ip, now_ms)) {
		ph_addr_print(dst, a, sizeof a);
		log_debug("stun: the router at %s answered our unsolicited "
			  "answer itself (ICMP port unreachable): an early "
			  "packet from outside would take its windows", a);
	}
	stunmem_note(s->refused, &ip, now_ms);
}

bool stund_answers_unsolicited(const struct stund *s, const struct ph_addr *ip,
			       uint64_t now_ms)
{
	struct ph_addr key = *ip;
	uint64_t at;

	ph_addr_set_port(&key, 0);
	return stunmem_get(s->refused, &key, &at) &&
	       now_ms - at <= s->conf.refused_ms;
}

void stund_refused_keep(struct stund *s, const struct ph_addr *ip,
			uint64_t now_ms)
{
	struct ph_addr key = *ip;

	ph_addr_set_port(&key, 0);
	if (stund_answers_unsolicited(s, &key, now_ms))
		stunmem_note(s->refused, &key, now_ms);
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

/* PROTOCOL.md section 1: no answer is larger than the request that asked
 * for it (bytes out <= bytes in), so a spoofed source gets no
 * amplification. Attributes go in while the request's size pays for them:
 * XOR-MAPPED-ADDRESS (the answer itself), FINGERPRINT when the request
 * had one (it demultiplexes on the SIP port, RFC 8489 section 7.3), then
 * RESPONSE-ORIGIN and OTHER-ADDRESS; SOFTWARE never. *budget is what is
 * left of the request's size after this answer. */
static int send_answer(struct stund *s, const struct ph_stun_msg *req,
		       size_t *budget, const struct ph_addr *from,
		       const struct ph_addr *local, const struct ph_addr *src)
{
	uint8_t buf[PH_STUN_MAX_LEN];
	struct ph_stun_enc e;
	struct ph_addr other;
	bool fp = req->present & PH_STUN_HAS_FINGERPRINT;
	size_t len = PH_STUN_HDR_LEN + ph_stun_addr_attr_len(src) +
		     (fp ? PH_STUN_FP_LEN : 0);
	int err;

	if (len > *budget)
		return EMSGSIZE;
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_SUCCESS,
			 req->tid);
	ph_stun_enc_addr(&e, PH_STUN_ATTR_XOR_MAPPED_ADDRESS, src);
	if (len + ph_stun_addr_attr_len(from) <= *budget) {
		ph_stun_enc_addr(&e, PH_STUN_ATTR_RESPONSE_ORIGIN, from);
		len += ph_stun_addr_attr_len(from);
	}
	if (ph_addr_port(local) == s->conf.port ||
	    ph_addr_port(local) == s->conf.port + 1) {
		other_address(s, local, &other);
		if (len + ph_stun_addr_attr_len(&other) <= *budget)
			ph_stun_enc_addr(&e, PH_STUN_ATTR_OTHER_ADDRESS, &other);
	}
	err = ph_stun_enc_finish(&e, fp, &len);
	if (!err)
		err = s->sendh(from, src, buf, len, s->arg);
	if (!err)
		*budget -= len;
	return err;
}

/* An error answer within the request's size, too: the reason phrase is
 * cut to what fits (it is only for humans, RFC 8489 section 14.8). */
static int send_error(struct stund *s, const struct ph_stun_msg *req,
		      size_t budget, const struct ph_addr *local,
		      const struct ph_addr *src, uint16_t code,
		      const char *reason)
{
	uint8_t buf[PH_STUN_MAX_LEN];
	char cut[PH_STUN_MAX_LEN];
	struct ph_stun_enc e;
	bool fp = req->present & PH_STUN_HAS_FINGERPRINT;
	unsigned n_unknown = code == 420 ? req->n_unknown : 0;
	size_t len = PH_STUN_HDR_LEN + 8 + (fp ? PH_STUN_FP_LEN : 0) +
		     (n_unknown ? 4 + ((2u * n_unknown + 3) & ~3u) : 0);
	size_t room;
	int err;

	s->stats.errors++;
	if (len > budget) {
		s->stats.too_small++;
		return 0; /* handled: refused */
	}
	room = (budget - len) & ~(size_t)3;
	snprintf(cut, room + 1 < sizeof cut ? room + 1 : sizeof cut, "%s",
		 reason);
	ph_stun_enc_init(&e, buf, sizeof buf, req->method, PH_STUN_ERROR,
			 req->tid);
	ph_stun_enc_error(&e, code, cut);
	if (n_unknown)
		ph_stun_enc_unknown(&e, req->unknown, n_unknown);
	err = ph_stun_enc_finish(&e, fp, &len);
	if (!err)
		err = s->sendh(local, src, buf, len, s->arg);
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

/* The size a request pays for its answers with. A request too small for
 * any answer (RFC 5626 keepalives, linphone's bare 20-byte requests) is
 * still worth the smallest answer when its source IP holds a binding: a
 * registered phone, not a stranger's spoofed address (PROTOCOL.md
 * section 1). */
static size_t budget_of(const struct stund *s, const struct ph_addr *src,
			size_t len)
{
	size_t least = PH_STUN_HDR_LEN + ph_stun_addr_attr_len(src) +
		       PH_STUN_FP_LEN;

	if (len < least && s->conf.known_h && s->conf.known_h(src, s->conf.arg))
		return least;
	return len;
}

static int handle_request(struct stund *s, const struct ph_stun_msg *req,
			  size_t len, const struct ph_addr *local,
			  const struct ph_addr *src, uint64_t now)
{
	size_t budget = budget_of(s, src, len);
	struct ph_addr from, hop;
	int err;

	s->stats.requests++;
	if (req->method != PH_STUN_BINDING)
		return send_error(s, req, budget, local, src, 400,
				  "Only Binding is served");
	if (req->n_unknown) /* RFC 8489 section 6.3.1.1 */
		return send_error(s, req, budget, local, src, 420,
				  "Unknown Attribute");
	if (change_source(s, req, local, &from))
		return send_error(s, req, budget, local, src, 400,
				  "Change-IP not available");
	err = send_answer(s, req, &budget, &from, local, src);
	if (err == EMSGSIZE) {
		s->stats.too_small++;
		return 0; /* handled: refused */
	}
	if (err)
		return err;
	s->stats.answers++;
	stunmem_note(s->memory, src, now);

	/* The hop test's second answer: only from our own hop-test ports,
	 * only to the request's source, only when what is left of the
	 * request's size pays for it (PROTOCOL.md section 1). */
	if ((req->present & PH_STUN_HAS_REPLY_FROM) &&
	    is_hop_port(s, req->reply_from_port)) {
		hop = *local;
		ph_addr_set_port(&hop, req->reply_from_port);
		err = send_answer(s, req, &budget, &hop, local, src);
		if (!err)
			s->stats.hop_answers++;
		else if (err == EMSGSIZE)
			s->stats.too_small++;
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
	return handle_request(s, &msg, len, local, src, now_ms);
}
