/* The proxy's first refusals: see reqcheck.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_header.h>

#include "pinhole/fwwin.h"
#include "register.h"
#include "reqcheck.h"

int reqcheck_offer(const sip_t *sip, struct sdpfw *fw, bool *has, char *buf,
		   size_t size)
{
	sip_method_t m = sip->sip_request->rq_method;
	const char *v = NULL, *why;
	struct ph_fwwin w;

	*has = false;
	if (sip->sip_payload && (m == sip_method_invite || m == sip_method_update)) {
		if (sdpfw_read(sip->sip_payload->pl_data, sip->sip_payload->pl_len,
			       fw, &why)) {
			snprintf(buf, size, "Bad Request: %s", why);
			return 400;
		}
		*has = true;
	}
	if (m != sip_method_invite)
		return 0;
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next) {
		if (!u->un_name || strcasecmp(u->un_name, "Firewall-Window"))
			continue;
		if (v) {
			snprintf(buf, size, "Duplicate Firewall-Window header");
			return 400;
		}
		v = u->un_value ? u->un_value : "";
	}
	if (v && ph_fwwin_decode(&w, v, strlen(v), &why)) {
		snprintf(buf, size, "Bad Firewall-Window: %s", why);
		return 400;
	}
	return 0;
}

int reqcheck_user(const struct pconf *conf, struct loc_store *store,
		  const url_t *ru, char *aor, size_t size,
		  const struct loc_contact **c, unsigned *n,
		  const char **phrase)
{
	if (reg_aor(ru, aor, size) || !ru->url_user) {
		*phrase = "Not Found: no user in the Request-URI";
		return 404;
	}
	/* not a user of ours: pinholed forwards to no other domain */
	if (!reg_domain_served(conf, ru->url_host)) {
		*phrase = "Not Found: domain not served";
		return 404;
	}
	loc_get(store, aor, c, n);
	if (!*n) {
		*phrase = "Temporarily Unavailable: not registered";
		return 480;
	}
	return 0;
}
