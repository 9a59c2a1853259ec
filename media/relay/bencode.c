/* bencode reader and writer (bencode.h). The reader never trusts a
 * length: every step is checked against the end of the buffer, so the
 * accessors stay safe on any buffer benc_parse() accepted. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bencode.h"

/* BEP 3: "Strings are length-prefixed base ten followed by a colon";
 * lengths and integers have no leading zeros and there is no "-0".
 * Lengths above 9 digits are refused: an ng datagram is far smaller. */
static const char *skip_digits(const char *s, const char *end, bool neg_ok,
			       bool *neg)
{
	const char *d;

	*neg = false;
	if (neg_ok && s < end && *s == '-') {
		*neg = true;
		s++;
	}
	d = s;
	while (s < end && *s >= '0' && *s <= '9' && s - d < 20)
		s++;
	if (s == d || (*d == '0' && s - d > 1) || (*neg && *d == '0'))
		return NULL;
	return s;
}

/* The end of the value at s, or NULL when it is not one. */
static const char *skip(const char *s, const char *end, unsigned depth)
{
	const char *e;
	bool neg;

	if (s >= end || depth > BENC_DEPTH)
		return NULL;
	switch (*s) {
	case 'i':
		e = skip_digits(s + 1, end, true, &neg);
		return e && e < end && *e == 'e' ? e + 1 : NULL;
	case 'l':
	case 'd': {
		bool dict = *s == 'd';
		s++;
		while (s < end && *s != 'e') {
			/* a dict's keys are strings */
			if (dict && (*s < '0' || *s > '9'))
				return NULL;
			if (!(s = skip(s, end, depth + 1)))
				return NULL;
			if (dict && !(s = skip(s, end, depth + 1)))
				return NULL;
		}
		return s < end ? s + 1 : NULL;
	}
	default: {
		size_t n = 0;
		e = skip_digits(s, end, false, &neg);
		if (!e || e - s > 9 || e >= end || *e != ':')
			return NULL;
		for (; s < e; s++)
			n = n * 10 + (size_t)(*s - '0');
		return n <= (size_t)(end - e - 1) ? e + 1 + n : NULL;
	}
	}
}

int benc_parse(struct benc *v, const char *buf, size_t len)
{
	const char *e = buf && len ? skip(buf, buf + len, 0) : NULL;

	if (!e || e != buf + len)
		return EBADMSG;
	v->p = buf;
	v->len = len;
	return 0;
}

bool benc_is_dict(const struct benc *v)
{
	return v->len && v->p[0] == 'd';
}

bool benc_is_list(const struct benc *v)
{
	return v->len && v->p[0] == 'l';
}

int benc_str(const struct benc *v, const char **s, size_t *len)
{
	const char *c = v->len ? memchr(v->p, ':', v->len) : NULL;

	if (!c || v->p[0] < '0' || v->p[0] > '9')
		return EINVAL;
	*s = c + 1;
	*len = v->len - (size_t)(c + 1 - v->p);
	return 0;
}

bool benc_str_eq(const struct benc *v, const char *s)
{
	const char *p;
	size_t n;

	return !benc_str(v, &p, &n) && n == strlen(s) && !memcmp(p, s, n);
}

int benc_int(const struct benc *v, int64_t *i)
{
	int64_t x = 0;
	size_t k = 1;
	bool neg;

	if (v->len < 3 || v->p[0] != 'i')
		return EINVAL;
	neg = v->p[1] == '-';
	for (k += neg; k < v->len - 1; k++) {
		int d = v->p[k] - '0';
		if (x > (INT64_MAX - d) / 10)
			return ERANGE;
		x = x * 10 + d;
	}
	*i = neg ? -x : x;
	return 0;
}

int benc_next(const struct benc *c, struct benc *it)
{
	const char *end = c->p + c->len - 1; /* the closing 'e' */
	const char *s = it->p ? it->p + it->len : c->p + 1, *e;

	if (!benc_is_dict(c) && !benc_is_list(c))
		return EINVAL;
	if (s >= end || !(e = skip(s, end, 1)))
		return ENOENT;
	it->p = s;
	it->len = (size_t)(e - s);
	return 0;
}

int benc_get(const struct benc *d, const char *key, struct benc *out)
{
	struct benc k = {0}, v;

	if (!benc_is_dict(d))
		return EINVAL;
	while (!benc_next(d, &k)) {
		v = k;
		if (benc_next(d, &v))
			return ENOENT;
		if (benc_str_eq(&k, key)) {
			*out = v;
			return 0;
		}
		k = v;
	}
	return ENOENT;
}

int benc_get_str(const struct benc *d, const char *key, const char **s,
		 size_t *len)
{
	struct benc v;
	int err = benc_get(d, key, &v);

	return err ? err : benc_str(&v, s, len);
}

bool benc_has(const struct benc *l, const char *s)
{
	struct benc it = {0};

	if (!benc_is_list(l))
		return benc_str_eq(l, s);
	while (!benc_next(l, &it))
		if (benc_str_eq(&it, s))
			return true;
	return false;
}

/* ---- the writer -------------------------------------------------------- */

void bbuf_init(struct bbuf *w, char *buf, size_t size)
{
	w->b = buf;
	w->size = size;
	w->len = 0;
	w->err = 0;
}

void benc_raw(struct bbuf *w, const char *s, size_t len)
{
	if (w->err || len > w->size - w->len) {
		w->err = ENOSPC;
		return;
	}
	memcpy(w->b + w->len, s, len);
	w->len += len;
}

void benc_strn(struct bbuf *w, const char *s, size_t len)
{
	char n[24];

	benc_raw(w, n, (size_t)snprintf(n, sizeof n, "%zu:", len));
	benc_raw(w, s, len);
}

void benc_cstr(struct bbuf *w, const char *s)
{
	benc_strn(w, s, strlen(s));
}

void benc_num(struct bbuf *w, int64_t i)
{
	char n[24];

	benc_raw(w, n, (size_t)snprintf(n, sizeof n, "i%" PRId64 "e", i));
}

void benc_kv(struct bbuf *w, const char *key, const char *val)
{
	benc_cstr(w, key);
	benc_cstr(w, val);
}

void benc_ki(struct bbuf *w, const char *key, int64_t val)
{
	benc_cstr(w, key);
	benc_num(w, val);
}
