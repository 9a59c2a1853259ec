/* What the pinhole module's parts share: module.c (the export and the
 * config), mnat.c (the media-NAT adapter), probe.c (the firewall
 * measurement) and reg.c (the module's own REGISTER). Internal: nothing
 * here leaves the module. */
#ifndef PINHOLE_BARESIP_PINHOLE_H
#define PINHOLE_BARESIP_PINHOLE_H

#include <pinhole.h>

#include "baresip.h"

/* The module's config keys (baresip's config file). */
struct pinhole_conf {
	struct ph_addr server;   /* pinhole_server: pinholed's STUN service */
	bool have_server;        /* else each account's stunserver */
	unsigned hops;           /* pinhole_hops; 0: the hop test's */
	bool do_register;        /* pinhole_register */
	uint32_t regint;         /* pinhole_regint, seconds */
};

/* ---- probe.c: this host's firewall, measured once from a socket like
 * the RTP ones, for Firewall-Window on REGISTER and INVITE ---- */

struct probe;
struct probe_wait;
typedef void (probe_h)(void *arg);

/* Starts measuring after delay_ms (so that baresip has loaded the
 * accounts); busy from now until the measurement ends or fails. hops, when
 * not 0, replaces the hop test's answer. */
int probe_alloc(struct probe **pp, const struct ph_addr *server,
		unsigned hops, uint32_t delay_ms);
bool probe_busy(const struct probe *p);
/* The firewall as measured: NULL without a probe, while busy, or when the
 * measurement failed. */
const struct ph_fwwin *probe_fw(const struct probe *p);
/* ... and as a Firewall-Window header value ("" when probe_fw is NULL). */
const char *probe_fwwin(const struct probe *p);
/* h(arg) once the probe is no longer busy, whatever the result; EALREADY
 * (and nothing to wait for) when it is not busy now. mem_deref(*wp) stops
 * waiting. */
int probe_wait(struct probe_wait **wp, struct probe *p, probe_h *h,
	       void *arg);

/* ---- reg.c: REGISTER with Firewall-Window for every account with
 * medianat=pinhole, once the probe has measured the firewall ---- */

struct reg;

int reg_alloc(struct reg **rp, struct probe *probe, uint32_t regint);
/* ua's registration client; NULL when the module does not register it */
struct regc *reg_regc(const struct reg *reg, const struct ua *ua);

/* ---- regc.c: a REGISTER client that answers SHA-256 and MD5 digest
 * challenges itself (libre 1.1.0's sipreg does MD5 only) ---- */

struct regc;
struct regc_wait;
typedef void (regc_resp_h)(int err, const struct sip_msg *msg, void *arg);
typedef void (regc_wait_h)(void *arg);

int regc_alloc(struct regc **rcp, const char *uri, const char *aor,
	       const char *cuser, const char *route, uint32_t expires,
	       const char *user, const char *pass, const char *hdrs,
	       regc_resp_h *resph, void *arg);
/* The registration's nonce answers the phone's own requests too (its
 * INVITE's Proxy-Authorization): regc_nonce_wait calls back once a fresh
 * one is held, regc_cred writes the credentials, counting nc. */
int regc_nonce_wait(struct regc_wait **wp, struct regc *rc, regc_wait_h *h,
		    void *arg);
int regc_cred(struct regc *rc, const char *method, const char *uri,
	      char *buf, size_t size);
const char *regc_alg(const struct regc *rc);

/* ---- regflow.c: RFC 5626 outbound for regc: the Contact's reg-id and
 * +sip.instance, keepalives once the registrar says Require: outbound,
 * and h(arg) when the flow fails, to register again at once ---- */

struct regflow;
typedef void (regflow_h)(void *arg);

int regflow_alloc(struct regflow **fp, const char *aor, regflow_h *h,
		  void *arg);
/* ";reg-id=1;+sip.instance=..." for the Contact (%H); nothing for NULL. */
int regflow_contact(struct re_printf *pf, const struct regflow *f);
/* A 2xx to the REGISTER: keepalives start if it says Require: outbound. */
void regflow_registered(struct regflow *f, const struct sip_msg *msg);
/* The flow failed and no REGISTER has succeeded since. */
bool regflow_failing(const struct regflow *f);
/* How long to wait after a failed REGISTER: soon (and growing) after the
 * flow failed, else normal_ms. */
uint32_t regflow_retry_ms(struct regflow *f, uint32_t normal_ms);

/* ---- mnat.c: the struct mnat adapter ---- */

/* cfg, probe (which may be NULL: no Firewall-Window) and reg (NULL: the
 * module registers nobody) must outlive the registration. */
int mnat_pinhole_register(const struct pinhole_conf *cfg,
			  struct probe *probe, struct reg *reg);
void mnat_pinhole_unregister(void);

#endif
