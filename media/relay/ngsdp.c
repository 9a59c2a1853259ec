/* ng SDP reading and rewriting (ngsdp.h). Lines end in CRLF (RFC 4566
 * section 5); a bare LF is read too, and the copy always uses CRLF. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ngsdp.h"

struct line {
	const char *p;
	size_t len;          /* without the line end */
};

/* The line at *pos (< end), moving *pos past its end. */
static void next_line(const char **pos, const char *end, struct line *l)
{
	const char *nl = memchr(*pos, '\n', (size_t)(end - *pos));
	const char *e = nl ? nl : end;

	l->p = *pos;
	l->len = (size_t)(e - *pos);
	if (l->len && l->p[l->len - 1] == '\r')
		l->len--;
	*pos = nl ? nl + 1 : end;
}

static bool starts(const struct line *l, const char *prefix)
{
	size_t n = strlen(prefix);

	return l->len >= n && !memcmp(l->p, prefix, n);
}

/* "c=IN IP4 ADDR" or "c=IN IP6 ADDR" (a multicast "/ttl" refused). */
static int read_c(const struct line *l, struct ph_addr *a)
{
	if (!starts(l, "c=IN IP4 ") && !starts(l, "c=IN IP6 "))
		return EBADMSG;
	return ph_addr_set_n(a, l->p + 9, l->len - 9, 0) ? EBADMSG : 0;
}

/* "m=TYPE PORT[/N] PROTO ...": the port. */
static int read_m_port(const struct line *l, unsigned *port)
{
	const char *s = memchr(l->p, ' ', l->len), *end = l->p + l->len;
	unsigned v = 0, digits = 0;

	if (!s)
		return EBADMSG;
	for (s++; s < end && *s >= '0' && *s <= '9' && digits < 6; s++, digits++)
		v = v * 10 + (unsigned)(*s - '0');
	if (!digits || v > 65535 || s == end || (*s != ' ' && *s != '/'))
		return EBADMSG;
	*port = v;
	return 0;
}

int ngsdp_read(const char *sdp, size_t len, struct ph_addr *media,
	       unsigned max, unsigned *n)
{
	const char *pos = sdp, *end = sdp + len;
	struct ph_addr sess = {0};
	bool have_sess = false, have_c = false;
	unsigned k = 0, port = 0;

	while (pos < end) {
		struct line l;

		next_line(&pos, end, &l);
		if (starts(&l, "m=")) {
			if (k && k <= max && !have_c && !have_sess)
				return EBADMSG;
			if (k >= max || read_m_port(&l, &port))
				return k >= max ? E2BIG : EBADMSG;
			media[k] = sess;
			ph_addr_set_port(&media[k++], (uint16_t)port);
			have_c = false;
		} else if (starts(&l, "c=")) {
			struct ph_addr a;
			if (read_c(&l, &a))
				return EBADMSG;
			if (!k) {
				sess = a;
				have_sess = true;
			} else {
				media[k - 1] = a;
				ph_addr_set_port(&media[k - 1], (uint16_t)port);
				have_c = true;
			}
		}
	}
	if (!k || (!have_c && !have_sess))
		return EBADMSG;
	*n = k;
	return 0;
}

static bool dropped(const struct line *l)
{
	static const char *const drop[] = {
		"a=candidate:", "a=ice-", "a=remote-candidates",
		"a=end-of-candidates", "a=rtcp:",
	};

	for (size_t i = 0; i < sizeof drop / sizeof *drop; i++)
		if (starts(l, drop[i]))
			return true;
	return false;
}

static int put(char *out, size_t size, size_t *o, const char *s, size_t n)
{
	if (n > size - *o)
		return ENOSPC;
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

/* One line of the copy, rewritten as ngsdp_write() says. */
static int rewrite(const struct line *l, const char *ipv, const char *ip,
		   unsigned m, const uint16_t *ports, unsigned n, bool origin,
		   char *out, size_t size, size_t *o)
{
	char buf[128];
	int w;

	if (starts(l, "c=")) {
		w = snprintf(buf, sizeof buf, "c=IN %s %s\r\n", ipv, ip);
		return put(out, size, o, buf, (size_t)w);
	}
	if (starts(l, "m=") && m <= n && ports[m - 1]) {
		const char *sp = memchr(l->p, ' ', l->len), *rest;
		unsigned old;
		if (!sp || read_m_port(l, &old))
			return EBADMSG;
		for (rest = sp + 1; *rest >= '0' && *rest <= '9'; rest++)
			; /* read_m_port() saw a ' ' or '/' after the digits */
		if (old) {
			w = snprintf(buf, sizeof buf, "%u", ports[m - 1]);
			if (put(out, size, o, l->p, (size_t)(sp + 1 - l->p)) ||
			    put(out, size, o, buf, (size_t)w) ||
			    put(out, size, o, rest, (size_t)(l->p + l->len - rest)))
				return ENOSPC;
			return put(out, size, o, "\r\n", 2);
		}
	}
	if (origin && starts(l, "o=")) {
		/* o=USER SESS VERSION IN IP4 ADDR: the last field */
		const char *sp = l->p + l->len;
		while (sp > l->p && sp[-1] != ' ')
			sp--;
		if (sp - l->p > 10 && !memcmp(sp - 8, " IN IP", 6)) {
			w = snprintf(buf, sizeof buf, " IN %s %s\r\n", ipv, ip);
			if (put(out, size, o, l->p, (size_t)(sp - 8 - l->p)))
				return ENOSPC;
			return put(out, size, o, buf, (size_t)w);
		}
	}
	if (put(out, size, o, l->p, l->len))
		return ENOSPC;
	return put(out, size, o, "\r\n", 2);
}

int ngsdp_write(const char *sdp, size_t len, const struct ph_addr *ip,
		const uint16_t *ports, unsigned n, bool origin, char *out,
		size_t size, size_t *outlen)
{
	const char *pos = sdp, *end = sdp + len;
	const char *ipv = ph_addr_af(ip) == AF_INET6 ? "IP6" : "IP4";
	char ips[PH_ADDR_STRLEN];
	unsigned m = 0;
	size_t o = 0;
	int err;

	if (ph_addr_ip_print(ip, ips, sizeof ips))
		return EINVAL;
	while (pos < end) {
		struct line l;

		next_line(&pos, end, &l);
		if (!l.len || dropped(&l))
			continue;
		if (starts(&l, "m="))
			m++;
		if ((err = rewrite(&l, ipv, ips, m, ports, n, origin, out, size, &o)))
			return err;
	}
	*outlen = o;
	return 0;
}

bool ngsdp_unspecified(const struct ph_addr *a)
{
	struct ph_addr z;

	ph_addr_set(&z, ph_addr_af(a) == AF_INET6 ? "::" : "0.0.0.0", 0);
	return ph_addr_ip_eq(a, &z);
}
