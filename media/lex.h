/* Small lexing helpers shared by the header and SDP attribute codecs.
 * Internal to libpinhole. A span is a (pointer, length) pair that need not
 * be NUL-terminated. */
#ifndef PH_LEX_H
#define PH_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"

struct span {
	const char *p;
	size_t n;
};

struct span span_trim(struct span s);
bool span_eq(struct span s, const char *lit);      /* case-insensitive */
bool span_is_token(struct span s);                 /* RFC 3261 token */
bool span_is_value(struct span s);                 /* token or quoted-string */
/* Next piece up to sep (outside double quotes); false at the end. */
bool span_next(struct span *rest, char sep, struct span *piece);
/* 1..maxdigits decimal digits, value in [min, max]. */
int span_uint(struct span s, unsigned maxdigits, unsigned min, unsigned max,
	      unsigned *out);
/* "IP:PORT" or "[IPv6]:PORT"; port 1..65535. */
int span_hostport(struct span s, struct ph_addr *out);
/* A bare or bracketed numeric IP; port 0. */
int span_ip(struct span s, struct ph_addr *out);
/* Text fits and has no control characters or NUL. */
bool span_clean(struct span s);

#endif
