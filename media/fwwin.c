/* The Firewall-Window header value (PROTOCOL.md section 2). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lex.h"
#include "pinhole/fwwin.h"

static const char *const mapping_names[] = {
	[PH_MAP_UNKNOWN] = "unknown", [PH_MAP_NONE] = "none",
	[PH_MAP_EIM] = "eim", [PH_MAP_ADM] = "adm", [PH_MAP_APDM] = "apdm",
};

static const char *const filtering_names[] = {
	[PH_FILT_UNKNOWN] = "unknown", [PH_FILT_NONE] = "none",
	[PH_FILT_EIF] = "eif", [PH_FILT_ADF] = "adf", [PH_FILT_APDF] = "apdf",
};

PH_API const char *ph_mapping_name(enum ph_mapping m)
{
	return (unsigned)m <= PH_MAP_APDM ? mapping_names[m] : "unknown";
}

PH_API const char *ph_filtering_name(enum ph_filtering f)
{
	return (unsigned)f <= PH_FILT_APDF ? filtering_names[f] : "unknown";
}

/* Index of the name in the table (1..n-1; 0, "unknown", never matches). */
static int enum_value(struct span v, const char *const *names, int n)
{
	for (int i = 1; i < n; i++)
		if (span_eq(v, names[i]))
			return i;
	return -1;
}

enum { SEEN_LOCAL = 1, SEEN_MAP = 2, SEEN_FILT = 4, SEEN_HOPS = 8,
       SEEN_LIFE = 16, SEEN_RECV = 32 };

static int fw_param(struct ph_fwwin *w, struct span name, struct span val,
		    bool has_val, unsigned *seen, const char **why)
{
	int v;

#define ONCE(bit, what)                                                 \
	do {                                                            \
		if (*seen & (bit)) {                                    \
			*why = "duplicate Firewall-Window " what;       \
			return EBADMSG;                                 \
		}                                                       \
		*seen |= (bit);                                         \
		if (!has_val) {                                         \
			*why = "Firewall-Window " what " has no value"; \
			return EBADMSG;                                 \
		}                                                       \
	} while (0)

	if (span_eq(name, "local")) {
		ONCE(SEEN_LOCAL, "local");
		if (span_ip(val, &w->local))
			return *why = "Firewall-Window local is not an IP address", EBADMSG;
	} else if (span_eq(name, "received")) {
		ONCE(SEEN_RECV, "received");
		if (span_ip(val, &w->received))
			return *why = "Firewall-Window received is not an IP address", EBADMSG;
	} else if (span_eq(name, "mapping")) {
		ONCE(SEEN_MAP, "mapping");
		if ((v = enum_value(val, mapping_names, 5)) < 0)
			return *why = "Firewall-Window mapping unknown", EBADMSG;
		w->mapping = (enum ph_mapping)v;
	} else if (span_eq(name, "filtering")) {
		ONCE(SEEN_FILT, "filtering");
		if ((v = enum_value(val, filtering_names, 5)) < 0)
			return *why = "Firewall-Window filtering unknown", EBADMSG;
		w->filtering = (enum ph_filtering)v;
	} else if (span_eq(name, "hops")) {
		ONCE(SEEN_HOPS, "hops");
		if (span_uint(val, 2, 1, PH_FW_MAX_HOPS, &w->hops))
			return *why = "Firewall-Window hops out of range", EBADMSG;
	} else if (span_eq(name, "lifetime")) {
		ONCE(SEEN_LIFE, "lifetime");
		if (span_uint(val, 5, 1, PH_FW_MAX_LIFETIME, &w->lifetime))
			return *why = "Firewall-Window lifetime out of range", EBADMSG;
	} else if (!span_is_token(name) || (has_val && !span_is_value(val))) {
		*why = "Firewall-Window parameter malformed";
		return EBADMSG;
	}
	return 0;
#undef ONCE
}

PH_API int ph_fwwin_decode(struct ph_fwwin *out, const char *buf, size_t len,
			   const char **why)
{
	struct span rest = {buf, len}, piece;
	struct ph_fwwin w;
	unsigned seen = 0;
	const char *dummy;

	if (!why)
		why = &dummy;
	memset(&w, 0, sizeof w);
	if (!buf || !span_clean(rest)) {
		*why = "Firewall-Window has control characters";
		return EBADMSG;
	}
	span_next(&rest, ';', &piece);
	piece = span_trim(piece);
	/* fw-host is a SIP host: an IPv6 address comes in brackets (RFC 3261
	 * section 25.1 IPv6reference); local= and received= may be bare, as
	 * Via's received= is. */
	if ((memchr(piece.p, ':', piece.n) && piece.p[0] != '[') ||
	    span_ip(piece, &w.host)) {
		*why = "Firewall-Window host is not an IP address";
		return EBADMSG;
	}
	while (span_next(&rest, ';', &piece)) {
		struct span name, val = {NULL, 0};
		bool has_val;
		int err;

		has_val = memchr(piece.p, '=', piece.n) != NULL;
		span_next(&piece, '=', &name);
		if (has_val)
			val = span_trim(piece);
		name = span_trim(name);
		err = fw_param(&w, name, val, has_val, &seen, why);
		if (err)
			return err;
	}
	*out = w;
	return 0;
}

/* IPv6 hosts in brackets, as the SIP host grammar wants them. */
static int put_host(char **p, size_t *left, const char *pre,
		    const struct ph_addr *a)
{
	char ip[INET6_ADDRSTRLEN];
	bool v6 = ph_addr_af(a) == AF_INET6;
	int n;

	if (ph_addr_ip_print(a, ip, sizeof ip))
		return EINVAL;
	n = snprintf(*p, *left, "%s%s%s%s", pre, v6 ? "[" : "", ip, v6 ? "]" : "");
	if (n < 0 || (size_t)n >= *left)
		return ENOSPC;
	*p += n;
	*left -= (size_t)n;
	return 0;
}

static int put_str(char **p, size_t *left, const char *pre, const char *s)
{
	int n = snprintf(*p, *left, "%s%s", pre, s);

	if (n < 0 || (size_t)n >= *left)
		return ENOSPC;
	*p += n;
	*left -= (size_t)n;
	return 0;
}

PH_API int ph_fwwin_encode(const struct ph_fwwin *w, char *buf, size_t size)
{
	char *p = buf, num[16];
	size_t left = size;
	int err;

	if (!size)
		return ENOSPC;
	err = put_host(&p, &left, "", &w->host);
	if (!err && ph_addr_isset(&w->local))
		err = put_host(&p, &left, ";local=", &w->local);
	if (!err && w->mapping != PH_MAP_UNKNOWN)
		err = put_str(&p, &left, ";mapping=", ph_mapping_name(w->mapping));
	if (!err && w->filtering != PH_FILT_UNKNOWN)
		err = put_str(&p, &left, ";filtering=",
			      ph_filtering_name(w->filtering));
	if (!err && w->hops) {
		snprintf(num, sizeof num, "%u", w->hops);
		err = put_str(&p, &left, ";hops=", num);
	}
	if (!err && w->lifetime) {
		snprintf(num, sizeof num, "%u", w->lifetime);
		err = put_str(&p, &left, ";lifetime=", num);
	}
	if (!err && ph_addr_isset(&w->received))
		err = put_host(&p, &left, ";received=", &w->received);
	if (err)
		buf[0] = '\0';
	return err;
}
