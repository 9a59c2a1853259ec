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

/* The known parameters (PROTOCOL.md section 2), each with the phrases a
 * 400 response gives when it is repeated, empty or wrong. */
enum fw_param { P_LOCAL, P_MAPPING, P_FILTERING, P_HOPS, P_LIFETIME,
		P_RECEIVED, P_COUNT };

#define FW_PHRASES(n, bad) \
	{n, "duplicate Firewall-Window " n, "Firewall-Window " n " has no value", \
	 "Firewall-Window " n bad}

static const struct {
	const char *name, *dup, *empty, *bad;
} fw_params[P_COUNT] = {
	[P_LOCAL] = FW_PHRASES("local", " is not an IP address"),
	[P_MAPPING] = FW_PHRASES("mapping", " unknown"),
	[P_FILTERING] = FW_PHRASES("filtering", " unknown"),
	[P_HOPS] = FW_PHRASES("hops", " out of range"),
	[P_LIFETIME] = FW_PHRASES("lifetime", " out of range"),
	[P_RECEIVED] = FW_PHRASES("received", " is not an IP address"),
};

/* Store one known parameter's value: 0, or EINVAL when it is wrong. */
static int fw_value(struct ph_fwwin *w, enum fw_param which, struct span v)
{
	int i;

	switch (which) {
	case P_LOCAL:
		return span_ip(v, &w->local);
	case P_RECEIVED:
		return span_ip(v, &w->received);
	case P_MAPPING:
		if ((i = enum_value(v, mapping_names, 5)) < 0)
			return EINVAL;
		w->mapping = (enum ph_mapping)i;
		return 0;
	case P_FILTERING:
		if ((i = enum_value(v, filtering_names, 5)) < 0)
			return EINVAL;
		w->filtering = (enum ph_filtering)i;
		return 0;
	case P_HOPS: /* 1*2DIGIT */
		return span_uint(v, 2, 1, PH_FW_MAX_HOPS, &w->hops);
	case P_LIFETIME: /* 1*5DIGIT */
		return span_uint(v, 5, 1, PH_FW_MAX_LIFETIME, &w->lifetime);
	default:
		return EINVAL;
	}
}

static int fw_param(struct ph_fwwin *w, struct span name, struct span val,
		    bool has_val, unsigned *seen, const char **why)
{
	int i;

	for (i = 0; i < P_COUNT && !span_eq(name, fw_params[i].name); i++)
		;
	if (i == P_COUNT) { /* a generic-param: checked, then ignored */
		if (!span_is_token(name) || (has_val && !span_is_value(val))) {
			*why = "Firewall-Window parameter malformed";
			return EBADMSG;
		}
		return 0;
	}
	if (*seen & 1u << i)
		*why = fw_params[i].dup;
	else if (!has_val)
		*why = fw_params[i].empty;
	else if (fw_value(w, (enum fw_param)i, val))
		*why = fw_params[i].bad;
	else {
		*seen |= 1u << i;
		return 0;
	}
	return EBADMSG;
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
	if (!piece.n && !rest.p) {
		*why = "Firewall-Window is empty";
		return EBADMSG;
	}
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

	/* write only what ph_fwwin_decode() takes back */
	if ((unsigned)w->mapping > PH_MAP_APDM ||
	    (unsigned)w->filtering > PH_FILT_APDF ||
	    w->hops > PH_FW_MAX_HOPS || w->lifetime > PH_FW_MAX_LIFETIME)
		return EINVAL;
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
