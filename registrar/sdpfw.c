/* pinhole's attributes in SDP, through sofia-sip's SDP parser and printer. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include "sdpcheck.h"
#include "sdpfw.h"

/* Rewrite as little as we can: direction attributes stay as written. */
#define SDP_KEEP sdp_f_mode_manual

static const sdp_connection_t *connection(const sdp_session_t *s,
					  const sdp_media_t *m)
{
	return m->m_connections ? m->m_connections : s->sdp_connection;
}

/* The value of the only attribute of that name; EBADMSG if repeated. */
static int only_attr(const sdp_attribute_t *list, const char *name,
		     const char **valuep)
{
	const sdp_attribute_t *a = sdp_attribute_find(list, name);

	*valuep = a ? (a->a_value ? a->a_value : "") : NULL;
	if (a && sdp_attribute_find(a->a_next, name))
		return EBADMSG;
	return 0;
}

static int read_addr(const sdp_media_t *m, const char *name,
		     const struct ph_addr *media, struct ph_addr *out,
		     const char **why)
{
	const char *v;
	const char *inner;

	if (only_attr(m->m_attributes, name, &v)) {
		*why = !strcmp(name, "fw-window") ? "duplicate a=fw-window"
						  : "duplicate a=fw-local";
		return EBADMSG;
	}
	if (!v)
		return 0;
	if (ph_sdp_addr_decode(out, v, strlen(v), &inner)) {
		*why = !strcmp(name, "fw-window") ? "malformed a=fw-window"
						  : "malformed a=fw-local";
		return EBADMSG;
	}
	if (ph_addr_af(out) != ph_addr_af(media)) {
		*why = "a=fw-window or a=fw-local of another address family than c=";
		return EBADMSG;
	}
	return 0;
}

static int read_media(const sdp_session_t *s, const sdp_media_t *m,
		      struct sdpfw_media *out, const char **why)
{
	const sdp_connection_t *c = connection(s, m);

	memset(out, 0, sizeof *out);
	if (!c || !c->c_address ||
	    ph_addr_set(&out->media, c->c_address, (uint16_t)m->m_port) ||
	    m->m_port > 65535) {
		*why = "c= is not a numeric address";
		return EBADMSG;
	}
	if (read_addr(m, "fw-window", &out->media, &out->window, why) ||
	    read_addr(m, "fw-local", &out->media, &out->local, why))
		return EBADMSG;
	out->ice = sdp_attribute_find(m->m_attributes, "candidate") ||
		   sdp_attribute_find(m->m_attributes, "ice-ufrag") ||
		   sdp_attribute_find(s->sdp_attributes, "ice-ufrag");
	return 0;
}

int sdpfw_read(const char *body, size_t len, struct sdpfw *out,
	       const char **why)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sdp_parser_t *p;
	sdp_session_t *s;
	struct sdpfw r = {0};
	int err = 0;

	if (sdpcheck(body, len, why))
		return EBADMSG;
	p = sdp_parse(home, body, (issize_t)len, 0);
	s = sdp_session(p);
	if (!s) {
		*why = "SDP does not parse";
		err = EBADMSG;
	}
	for (sdp_media_t *m = s ? s->sdp_media : NULL; m && !err; m = m->m_next) {
		if (r.n == SDPFW_MAX_MEDIA) {
			*why = "too many m-lines";
			err = EBADMSG;
			break;
		}
		err = read_media(s, m, &r.m[r.n++], why);
	}
	sdp_parser_free(p);
	su_home_deinit(home);
	if (!err)
		*out = r;
	return err;
}

static bool unspecified(const char *ip)
{
	return !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::");
}

/* The c= this m-line uses names the relay's IP, unless it is a hold
 * address. A session-level c= is rewritten in place: every m-line of the
 * SDP goes through the relay, all at one IP. */
static int relay_connection(su_home_t *home, sdp_session_t *s, sdp_media_t *m,
			    const struct ph_addr *relay)
{
	sdp_connection_t *c = (sdp_connection_t *)connection(s, m);
	char *ip = su_alloc(home, PH_ADDR_STRLEN);

	if (!ip || ph_addr_ip_print(relay, ip, PH_ADDR_STRLEN))
		return ENOMEM;
	if (!c || (c->c_address && unspecified(c->c_address)))
		return 0;
	c->c_addrtype = ph_addr_af(relay) == AF_INET6 ? sdp_addr_ip6 : sdp_addr_ip4;
	c->c_address = ip;
	c->c_mcast = 0;
	c->c_ttl = 0;
	c->c_groups = 0;
	return 0;
}

static void remove_all(sdp_attribute_t **list, const char *name)
{
	while (sdp_attribute_remove(list, name))
		;
}

static int relay_media(su_home_t *home, sdp_session_t *s, sdp_media_t *m,
		       const struct ph_addr *relay)
{
	static const char *const around[] = {
		"rtcp", "candidate", "remote-candidates", "ice-ufrag", "ice-pwd",
		"ice-lite", "ice-options", "fw-window", "fw-local",
	};

	for (size_t i = 0; i < sizeof around / sizeof *around; i++)
		remove_all(&m->m_attributes, around[i]);
	if (!m->m_port) /* a rejected stream stays rejected */
		return 0;
	m->m_port = ph_addr_port(relay);
	m->m_number_of_ports = 0;
	return relay_connection(home, s, m, relay);
}

int sdpfw_write(const char *body, size_t len, const struct ph_punch *punch,
		const struct ph_addr *relay, unsigned n, char **outp)
{
	su_home_t home[1] = {SU_HOME_INIT(home)};
	sdp_parser_t *p;
	sdp_session_t *s;
	sdp_printer_t *pr = NULL;
	const char *why;
	unsigned i = 0;
	int err;

	if (sdpcheck(body, len, &why))
		return EBADMSG;
	p = sdp_parse(home, body, (issize_t)len, SDP_KEEP);
	s = sdp_session(p);
	err = s ? 0 : EBADMSG;

	for (sdp_media_t *m = s ? s->sdp_media : NULL; m && i < n && !err;
	     m = m->m_next, i++) {
		sdp_attribute_t *a;
		char *value;

		if (relay && (err = relay_media(home, s, m, &relay[i])))
			break;
		if (!punch)
			continue;
		a = su_zalloc(home, sizeof *a);
		value = su_alloc(home, PH_PUNCH_STRLEN);
		if (!a || !value ||
		    ph_punch_sdp_encode(&punch[i], value, PH_PUNCH_STRLEN)) {
			err = a && value ? EINVAL : ENOMEM;
			break;
		}
		remove_all(&m->m_attributes, "fw-punch");
		a->a_size = sizeof *a;
		a->a_name = "fw-punch";
		a->a_value = value;
		sdp_attribute_append(&m->m_attributes, a);
	}
	if (!err) {
		pr = sdp_print(home, s, NULL, 0, SDP_KEEP);
		if (!sdp_message(pr) || !(*outp = strdup(sdp_message(pr))))
			err = ENOMEM;
	}
	sdp_printer_free(pr);
	sdp_parser_free(p);
	su_home_deinit(home);
	return err;
}
