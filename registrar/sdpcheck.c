/* RFC 4566 section 9, line by line: see sdpcheck.h for why. Separators
 * may be runs of spaces and a line may end in spaces (phones write both;
 * sofia-sip reads them), everything else is as the grammar says. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "sdpcheck.h"

struct cur {
	const char *p, *end;
};

typedef bool (*cls_t)(unsigned char);

static bool digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 4566: token-char */
static bool tok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c) ||
	       (c && strchr("!#$%&'*+-.^_`{|}~", c));
}

/* visible characters and UTF-8: a field with no space in it */
static bool vis(unsigned char c)
{
	return c > 0x20 && c != 0x7f;
}

/* RFC 4566: unicast-address; a "/" would make it multicast, which sofia's
 * printer refuses in o= */
static bool unicast(unsigned char c)
{
	return vis(c) && c != '/';
}

/* One or more characters of a class. */
static bool word(struct cur *c, cls_t f)
{
	const char *s = c->p;

	while (c->p < c->end && f((unsigned char)*c->p))
		c->p++;
	return c->p > s;
}

static bool lit(struct cur *c, char ch)
{
	if (c->p >= c->end || *c->p != ch)
		return false;
	c->p++;
	return true;
}

/* One or more spaces, not at the end of the line. */
static bool sp(struct cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return c->p > s && c->p < c->end;
}

/* Nothing but spaces to the end of the line (nothing consumed). */
static bool end(const struct cur *c)
{
	const char *p = c->p;

	while (p < c->end && *p == ' ')
		p++;
	return p == c->end;
}

/* RFC 4566: typed-time = 1*DIGIT [fixed-len-time-unit] */
static bool typed(struct cur *c)
{
	if (!word(c, digit))
		return false;
	if (c->p < c->end && strchr("dhms", *c->p))
		c->p++;
	return true;
}

/* m=<media> <port>[/<number>] <proto> <fmt> ...; the port at most 65535 */
static bool media(struct cur *c)
{
	const char *port;

	if (!word(c, tok) || !sp(c))
		return false;
	port = c->p;
	if (!word(c, digit) || c->p - port > 5 ||
	    (c->p - port == 5 && memcmp(port, "65535", 5) > 0))
		return false;
	if (lit(c, '/') && !word(c, digit))
		return false;
	if (!sp(c) || !word(c, tok))
		return false;
	while (lit(c, '/'))
		if (!word(c, tok))
			return false;
	if (!sp(c) || !word(c, tok))
		return false;
	while (!end(c))
		if (!sp(c) || !word(c, tok))
			return false;
	return true;
}

/* o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address> */
static bool origin(struct cur *c)
{
	return word(c, vis) && sp(c) && word(c, digit) && sp(c) &&
	       word(c, digit) && sp(c) && word(c, tok) && sp(c) &&
	       word(c, tok) && sp(c) && word(c, unicast) && end(c);
}

/* z=<adjustment time> <offset> ... */
static bool zone(struct cur *c)
{
	do {
		if (!word(c, digit) || !sp(c))
			return false;
		lit(c, '-');
		if (!typed(c))
			return false;
	} while (!end(c) && sp(c));
	return end(c);
}

/* r=<repeat interval> <active duration> <offsets from start-time> */
static bool repeat(struct cur *c)
{
	unsigned n = 0;

	do {
		if (!typed(c))
			return false;
		n++;
	} while (!end(c) && sp(c));
	return end(c) && n >= 3;
}

/* The value of one line of type t, between "t=" and the end of line. */
static bool line_ok(char t, struct cur *c)
{
	switch (t) {
	case 's': case 'i': case 'u': case 'e': case 'p': case 'k':
		return true; /* text */
	case 'o':
		return origin(c);
	case 'c': /* <nettype> <addrtype> <connection-address> */
		return word(c, tok) && sp(c) && word(c, tok) && sp(c) &&
		       word(c, vis) && end(c);
	case 'b': /* <bwtype>:<bandwidth> */
		return word(c, tok) && lit(c, ':') && word(c, digit) && end(c);
	case 't': /* <start-time> <stop-time> */
		return word(c, digit) && sp(c) && word(c, digit) && end(c);
	case 'r':
		return repeat(c);
	case 'z':
		return zone(c);
	case 'a': /* <attribute>[:<value>] */
		return word(c, tok) && (lit(c, ':') || end(c));
	case 'm':
		return media(c);
	default:
		return false;
	}
}

static const char *line_fault(char t)
{
	switch (t) {
	case 'o': return "malformed o= line";
	case 'c': return "malformed c= line";
	case 'b': return "malformed b= line";
	case 't': return "malformed t= line";
	case 'r': return "malformed r= line";
	case 'z': return "malformed z= line";
	case 'a': return "malformed a= line";
	case 'm': return "malformed m= line";
	default: return "unknown SDP line type";
	}
}

/* Every byte of a line's value: text (RFC 4566 byte-string) or TAB. */
static bool bytes_ok(const char *p, const char *e)
{
	for (; p < e; p++)
		if (*p == '\0' || *p == '\r' || *p == '\n')
			return false;
	return true;
}

int sdpcheck(const char *body, size_t len, const char **why)
{
	const char *p = body, *e = body + len;
	unsigned n = 0;

	if (len > SDPCHECK_MAX) {
		*why = "SDP too large";
		return EBADMSG;
	}
	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e, *next = nl ? nl + 1 : e;
		struct cur c;

		if (le > p && le[-1] == '\r')
			le--;
		if (le == p) { /* only line ends may follow an empty line */
			while (p < e && (*p == '\r' || *p == '\n'))
				p++;
			if (p < e) {
				*why = "empty line inside SDP";
				return EBADMSG;
			}
			break;
		}
		if (le - p < 2 || p[1] != '=' || p[0] < 'a' || p[0] > 'z') {
			*why = "SDP line not of the form <type>=<value>";
			return EBADMSG;
		}
		if (!bytes_ok(p + 2, le)) {
			*why = "control character in SDP";
			return EBADMSG;
		}
		c = (struct cur){p + 2, le};
		if (n++ == 0 ? (le - p != 3 || p[0] != 'v' || p[2] != '0')
			     : (p[0] == 'v' || !line_ok(p[0], &c))) {
			*why = n == 1 ? "SDP does not begin with v=0"
				      : p[0] == 'v' ? "v= line repeated"
						    : line_fault(p[0]);
			return EBADMSG;
		}
		p = next;
	}
	if (!n) {
		*why = "empty SDP";
		return EBADMSG;
	}
	return 0;
}
