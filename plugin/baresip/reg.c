/* The module's own REGISTER, with Firewall-Window: pinholed learns this
 * phone's firewall from it, and baresip 1.0.0 has no hook for REGISTER
 * headers. So accounts with medianat=pinhole say regint=0, and once the
 * probe has measured the firewall the module registers each of them with
 * its own client (regc.c), on baresip's SIP stack. Without a measurement (no
 * answer from pinholed) nothing is registered: the probe says so.
 * pinholed (PROTOCOL.md section 10) or a PBX behind it challenges the
 * REGISTER (RFC 3261 section 22): regc.c answers with the account's
 * auth_user and auth_pass, SHA-256 or MD5 (libre 1.1.0's sipreg knows
 * MD5 only, and fails on pinholed's challenges, SHA-256 first). */
#include <errno.h>
#include <string.h>

#include "pinhole.h"

struct reg {
	struct probe *probe;
	struct probe_wait *pw;
	uint32_t regint;
	struct list ual;             /* struct reg_ua */
};

/* One account's registration. */
struct reg_ua {
	struct le le;
	struct regc *regc;
	const struct reg *reg;
	const struct ua *ua;
	const char *aor;             /* the ua's own */
	const struct account *acc;
};

static void reg_ua_destructor(void *arg)
{
	struct reg_ua *r = arg;

	list_unlink(&r->le);
	mem_deref(r->regc);
}

static void resp_h(int err, const struct sip_msg *msg, void *arg)
{
	const struct reg_ua *r = arg;

	if (err == EACCES && !account_auth_pass(r->acc))
		warning("pinhole: %s: challenged, but the account has no "
			"auth_pass\n", r->aor);
	else if (err)
		warning("pinhole: REGISTER %s: %m\n", r->aor, err);
	else if (msg && msg->scode >= 300)
		warning("pinhole: REGISTER %s: %u %r\n", r->aor, msg->scode,
			&msg->reason);
	else if (msg && msg->scode >= 200)
		info("pinhole: %s registered with Firewall-Window %s%s%s\n",
		     r->aor, probe_fwwin(r->reg->probe),
		     regc_alg(r->regc) ? ", digest " : "",
		     regc_alg(r->regc) ? regc_alg(r->regc) : "");
}

/* The registrar: the scheme, host, port and transport of the account's
 * own URI ("<sip:alice@pinholed:5061;transport=tls>" registers over TLS,
 * as baresip itself would), through the account's outbound proxy if it
 * names one. */
static int ua_register(struct reg *reg, struct ua *ua,
		       const struct account *acc, const struct uri *luri)
{
	struct reg_ua *r;
	char reg_uri[256], port[8] = "", hdrs[PH_FWWIN_STRLEN + 24], user[128];
	const char *au = account_auth_user(acc);
	struct pl tp = PL("");
	int err;

	if (luri->port)
		re_snprintf(port, sizeof port, ":%u", luri->port);
	msg_param_decode(&luri->params, "transport", &tp);
	re_snprintf(reg_uri, sizeof reg_uri, "%r:%r%s%s%r", &luri->scheme,
		    &luri->host, port, pl_isset(&tp) ? ";transport=" : "", &tp);
	r = mem_zalloc(sizeof *r, reg_ua_destructor);
	if (!r)
		return ENOMEM;
	r->reg = reg;
	r->ua = ua;
	r->aor = ua_aor(ua);
	r->acc = ua_account(ua);
	re_snprintf(hdrs, sizeof hdrs, "Firewall-Window: %s\r\n",
		    probe_fwwin(reg->probe));
	/* auth_user defaults to the AoR's user, as in baresip's account_auth */
	if (!au && !pl_strcpy(&luri->user, user, sizeof user))
		au = user;
	err = regc_alloc(&r->regc, reg_uri, r->aor, ua_cuser(ua),
			 account_outbound(acc, 0), reg->regint, au,
			 account_auth_pass(acc), hdrs, resp_h, r);
	if (err)
		goto out;
	list_append(&reg->ual, &r->le, r);
 out:
	if (err)
		mem_deref(r);
	return err;
}

static void register_all(void *arg)
{
	struct reg *reg = arg;

	reg->pw = mem_deref(reg->pw);
	if (!probe_fw(reg->probe))
		return;
	for (struct le *le = list_head(uag_list()); le; le = le->next) {
		struct ua *ua = le->data;
		struct account *acc = ua_account(ua);
		const char *mn = acc ? account_medianat(acc) : NULL;
		struct uri *luri = acc ? account_luri(acc) : NULL;
		int err;

		if (!mn || strcmp(mn, "pinhole") || !luri)
			continue;
		if ((err = ua_register(reg, ua, acc, luri)))
			warning("pinhole: cannot register %s: %m\n", ua_aor(ua),
				err);
	}
}

struct regc *reg_regc(const struct reg *reg, const struct ua *ua)
{
	for (struct le *le = reg ? reg->ual.head : NULL; le; le = le->next) {
		const struct reg_ua *r = le->data;

		if (r->ua == ua)
			return r->regc;
	}
	return NULL;
}

static void destructor(void *arg)
{
	struct reg *reg = arg;

	mem_deref(reg->pw);
	list_flush(&reg->ual);
}

int reg_alloc(struct reg **rp, struct probe *probe, uint32_t regint)
{
	struct reg *reg;
	int err;

	if (!rp || !probe)
		return EINVAL;
	reg = mem_zalloc(sizeof *reg, destructor);
	if (!reg)
		return ENOMEM;
	reg->probe = probe;
	reg->regint = regint;
	list_init(&reg->ual);
	/* the accounts are loaded by the time the probe ends */
	err = probe_wait(&reg->pw, probe, register_all, reg);
	if (err == EALREADY) {
		err = 0;
		register_all(reg);
	}
	if (err)
		mem_deref(reg);
	else
		*rp = reg;
	return err;
}
