/* RFC 5626 (outbound) for the module's REGISTER client (regc.c): its
 * Contact names this device (+sip.instance) and its flow (reg-id=1);
 * when the registrar's 2xx says Require: outbound, the flow is kept
 * alive (libre's sip_keepalive: CRLF and its pong over TCP and TLS, STUN
 * over UDP) at the registrar's Flow-Timer, and when it fails (no pong
 * within 10 s, the connection closed: pinholed restarted, say) the client
 * registers again at once over a new flow (section 4.5), instead of when
 * its registration would run out, all the while unreachable.
 *
 * Section 4.5 waits, after a new flow cannot be made, at least 30 s
 * (base-time, halved at random) before the next attempt, and doubles.
 * The first retries here are sooner: 0.5-1 s, then doubling up to the
 * client's usual 30 s; a registrar being restarted answers again within
 * a second or two, and the random half keeps the phones behind it from
 * coming back in step. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pinhole.h"

#define REGFLOW_FIRST_MS 1000

struct regflow {
	struct sip_keepalive *ka;
	char instance[64];       /* ;+sip.instance's value */
	unsigned fails;          /* REGISTERs failed since the flow did */
	regflow_h *h;
	void *arg;
};

static void destructor(void *arg)
{
	struct regflow *f = arg;

	mem_deref(f->ka);
}

/* RFC 5626 section 4.1: an instance that stays the same across restarts
 * of the phone: a name-based UUID (RFC 4122 section 4.3, MD5) of the AoR
 * and this host's name. */
static void instance_of(const char *aor, char *buf, size_t size)
{
	char host[256] = "";
	uint8_t b[16];
	struct mbuf *mb = mbuf_alloc(512);

	if (gethostname(host, sizeof host))
		host[0] = '\0';
	host[sizeof host - 1] = '\0';
	if (mb && !mbuf_printf(mb, "%s\n%s", aor, host))
		md5(mb->buf, mb->end, b);
	else
		md5((const uint8_t *)aor, strlen(aor), b);
	mem_deref(mb);
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x30);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	re_snprintf(buf, size, "\"<urn:uuid:%w-%w-%w-%w-%w>\"", b, (size_t)4,
		    b + 4, (size_t)2, b + 6, (size_t)2, b + 8, (size_t)2,
		    b + 10, (size_t)6);
}

int regflow_alloc(struct regflow **fp, const char *aor, regflow_h *h,
		  void *arg)
{
	struct regflow *f;

	if (!fp || !aor || !h)
		return EINVAL;
	f = mem_zalloc(sizeof *f, destructor);
	if (!f)
		return ENOMEM;
	instance_of(aor, f->instance, sizeof f->instance);
	f->h = h;
	f->arg = arg;
	*fp = f;
	return 0;
}

int regflow_contact(struct re_printf *pf, const struct regflow *f)
{
	return f ? re_hprintf(pf, ";reg-id=1;+sip.instance=%s", f->instance)
		 : 0;
}

/* The flow failed: libre has let go of the keepalive (f->ka is NULL). */
static void keepalive_h(int err, void *arg)
{
	struct regflow *f = arg;

	info("pinhole: the flow to the registrar failed (%m): registering "
	     "again over a new one\n", err);
	f->fails = 1;
	f->h(f->arg);
}

void regflow_registered(struct regflow *f, const struct sip_msg *msg)
{
	const struct sip_hdr *timer;
	int err;

	if (!f || !msg)
		return;
	f->fails = 0;
	if (f->ka || !sip_msg_hdr_has_value(msg, SIP_HDR_REQUIRE, "outbound"))
		return;
	/* Flow-Timer: keepalives at 80-100 % of it; without one libre's own
	 * interval (RFC 5626 section 4.4: 95-120 s over TCP, 24-29 s UDP) */
	timer = sip_msg_hdr(msg, SIP_HDR_FLOW_TIMER);
	err = sip_keepalive_start(&f->ka, uag_sip(), msg,
				  timer ? pl_u32(&timer->val) : 0, keepalive_h,
				  f);
	if (err)
		warning("pinhole: no keepalive on the flow to the registrar: "
			"%m\n", err);
}

bool regflow_failing(const struct regflow *f)
{
	return f && f->fails;
}

uint32_t regflow_retry_ms(struct regflow *f, uint32_t normal_ms)
{
	uint32_t ms;

	if (!f || !f->fails)
		return normal_ms;
	ms = REGFLOW_FIRST_MS << (f->fails < 6 ? f->fails - 1 : 5);
	if (ms > normal_ms)
		ms = normal_ms;
	f->fails++;
	return ms / 2 + rand_u32() % (ms / 2 + 1);
}
