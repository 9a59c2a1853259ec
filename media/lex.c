/* Lexing helpers for the codecs: spans, tokens, numbers, addresses. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

#include "lex.h"

static bool is_ws(char c)
{
	return c == ' ' || c == '\t';
}

struct span span_trim(struct span s)
{
	while (s.n && is_ws(s.p[0]))
		s.p++, s.n--;
	while (s.n && is_ws(s.p[s.n - 1]))
		s.n--;
	return s;
}

bool span_eq(struct span s, const char *lit)
{
	return strlen(lit) == s.n && !strncasecmp(s.p, lit, s.n);
}

bool span_is_token(struct span s)
{
	/* RFC 3261 section 25.1: alphanum / "-" "." "!" "%" "*" "_" "+" "`" "'" "~" */
	static const char extra[] = "-.!%*_+`'~";

	if (!s.n)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		char c = s.p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || (c && strchr(extra, c))))
			return false;
	}
	return true;
}

bool span_is_value(struct span s)
{
	if (s.n >= 2 && s.p[0] == '"' && s.p[s.n - 1] == '"') {
		for (size_t i = 1; i + 1 < s.n; i++)
			if (s.p[i] == '"' && s.p[i - 1] != '\\')
				return false;
		return true;
	}
	/* host values (IPv6 references) are allowed in generic params */
	for (size_t i = 0; i < s.n; i++)
		if (s.p[i] == '[' || s.p[i] == ']' || s.p[i] == ':')
			return span_clean(s);
	return span_is_token(s);
}

bool span_clean(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if ((unsigned char)s.p[i] < 0x20 || s.p[i] == 0x7f)
			return false;
	return true;
}

bool span_next(struct span *rest, char sep, struct span *piece)
{
	bool quoted = false;
	size_t i;

	if (!rest->p)
		return false;
	for (i = 0; i < rest->n; i++) {
		if (rest->p[i] == '"')
			quoted = !quoted;
		else if (rest->p[i] == sep && !quoted)
			break;
	}
	piece->p = rest->p;
	piece->n = i;
	if (i < rest->n) {
		rest->p += i + 1;
		rest->n -= i + 1;
	} else {
		rest->p = NULL;
		rest->n = 0;
	}
	return true;
}

int span_uint(struct span s, unsigned maxdigits, unsigned min, unsigned max,
	      unsigned *out)
{
	unsigned v = 0;

	if (!s.n || s.n > maxdigits)
		return EINVAL;
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] < '0' || s.p[i] > '9')
			return EINVAL;
		v = v * 10 + (unsigned)(s.p[i] - '0'); /* maxdigits <= 9: no overflow */
	}
	if (v < min || v > max)
		return EINVAL;
	*out = v;
	return 0;
}

int span_ip(struct span s, struct ph_addr *out)
{
	return ph_addr_set_n(out, s.p, s.n, 0);
}

int span_hostport(struct span s, struct ph_addr *out)
{
	const char *colon = NULL;
	struct span ip, port;
	unsigned p;

	for (size_t i = s.n; i--;)
		if (s.p[i] == ':') {
			colon = s.p + i;
			break;
		}
	if (!colon)
		return EINVAL;
	ip = (struct span){s.p, (size_t)(colon - s.p)};
	port = (struct span){colon + 1, s.n - ip.n - 1};
	/* a bare IPv6 address would be ambiguous: it must be bracketed */
	if (memchr(ip.p, ':', ip.n) && (!ip.n || ip.p[0] != '['))
		return EINVAL;
	if (span_uint(port, 5, 1, 65535, &p) || span_ip(ip, out))
		return EINVAL;
	ph_addr_set_port(out, (uint16_t)p);
	return 0;
}
