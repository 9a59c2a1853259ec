/* STUN client transaction over an unreliable transport, RFC 8489
 * section 6.2.1: retransmit with doubling RTO until Rc requests were sent,
 * then wait Rm * RTO for the answer. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "pinhole/media.h"

/* "Rc SHOULD be configurable and SHOULD have a default of 7. ... Rm
 * SHOULD be configurable and SHOULD have a default of 16." RTO: 500 ms. */
PH_API const struct ph_stunc_conf ph_stunc_rfc8489 = {500, 7, 16};

PH_API int ph_stunc_start(struct ph_stunc *t, const struct ph_stunc_conf *c,
			  const struct ph_addr *dst, uint32_t change,
			  uint16_t reply_from, ph_send_h *sendh, void *arg,
			  uint64_t now)
{
	struct ph_stun_enc e;
	int err;

	if (!c->rto_ms || !c->rc || !ph_addr_isset(dst))
		return EINVAL;
	memset(t, 0, sizeof *t);
	err = ph_stun_tid_new(t->tid);
	if (err)
		return err;
	ph_stun_enc_init(&e, t->req, sizeof t->req, PH_STUN_BINDING,
			 PH_STUN_REQUEST, t->tid);
	if (change)
		ph_stun_enc_u32(&e, PH_STUN_ATTR_CHANGE_REQUEST, change);
	if (reply_from)
		ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, reply_from);
	/* PROTOCOL.md section 1: pinholed answers with no more bytes than
	 * the request; this one pays for the full answer, for two when it
	 * asks for the hop test's second answer. */
	ph_stun_enc_padding(&e, PH_STUN_FULL_ANSWER_LEN(dst) *
					(reply_from ? 2 : 1));
	err = ph_stun_enc_finish(&e, true, &t->len);
	if (err)
		return err;
	t->conf = *c;
	t->dst = *dst;
	t->state = PH_STUNC_PENDING;
	t->rto_ms = c->rto_ms;
	t->sent = 1;
	t->next_ms = now + t->rto_ms;
	sendh(dst, t->req, t->len, 0, arg); /* a lost first copy is retried */
	return 0;
}

PH_API int ph_stunc_recv(struct ph_stunc *t, const struct ph_addr *src,
			 const struct ph_stun_msg *msg)
{
	if (t->state != PH_STUNC_PENDING ||
	    (msg->cls != PH_STUN_SUCCESS && msg->cls != PH_STUN_ERROR) ||
	    memcmp(msg->tid, t->tid, sizeof t->tid))
		return ENOENT;
	t->resp = *msg;
	t->resp_from = *src;
	t->state = PH_STUNC_DONE;
	return 0;
}

PH_API void ph_stunc_tick(struct ph_stunc *t, ph_send_h *sendh, void *arg,
			  uint64_t now)
{
	if (t->state != PH_STUNC_PENDING || now < t->next_ms)
		return;
	if (t->sent >= t->conf.rc) {
		t->state = PH_STUNC_TIMEOUT;
		return;
	}
	sendh(&t->dst, t->req, t->len, 0, arg);
	t->sent++;
	t->rto_ms *= 2;
	/* after the last request, wait Rm times the initial RTO */
	t->next_ms = now + (t->sent == t->conf.rc
				    ? (uint64_t)t->conf.rm * t->conf.rto_ms
				    : t->rto_ms);
}

PH_API uint64_t ph_stunc_deadline(const struct ph_stunc *t)
{
	return t->state == PH_STUNC_PENDING ? t->next_ms : PH_NEVER;
}

PH_API const struct ph_addr *ph_stunc_window(const struct ph_stunc *t)
{
	if (t->state != PH_STUNC_DONE || t->resp.cls != PH_STUN_SUCCESS)
		return NULL;
	if (t->resp.present & PH_STUN_HAS_XOR_MAPPED)
		return &t->resp.xor_mapped;
	return t->resp.present & PH_STUN_HAS_MAPPED ? &t->resp.mapped : NULL;
}
