/* bencode (BEP 3: strings "4:spam", integers "i3e", lists "l...e",
 * dictionaries "d...e"), the encoding of rtpengine's ng control protocol.
 *
 * The reader is pure: benc_parse() checks that a buffer holds exactly one
 * well-formed value (depth at most BENC_DEPTH), and the accessors walk
 * that buffer without copying or allocating. The writer fills a fixed
 * buffer and remembers an overflow instead of writing past it. */
#ifndef PINHOLE_BENCODE_H
#define PINHOLE_BENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENC_DEPTH 32

/* One whole value inside a checked buffer. */
struct benc {
	const char *p;
	size_t len;
};

/* buf holds exactly one value: 0 and *v, else EBADMSG. */
int benc_parse(struct benc *v, const char *buf, size_t len);

bool benc_is_dict(const struct benc *v);
bool benc_is_list(const struct benc *v);
/* A string's bytes (EINVAL: not a string). */
int benc_str(const struct benc *v, const char **s, size_t *len);
bool benc_str_eq(const struct benc *v, const char *s);
/* An integer (EINVAL: not one, ERANGE: beyond int64_t). */
int benc_int(const struct benc *v, int64_t *i);
/* The items of a list, or the keys and values of a dict in turn: *it
 * zeroed to start; ENOENT after the last. */
int benc_next(const struct benc *container, struct benc *it);
/* The value of key in dict d (ENOENT: none, EINVAL: d is no dict). */
int benc_get(const struct benc *d, const char *key, struct benc *out);
/* The string value of key, or ENOENT/EINVAL. */
int benc_get_str(const struct benc *d, const char *key, const char **s,
		 size_t *len);
/* A list (or a string: one item) holding the string s. */
bool benc_has(const struct benc *list, const char *s);

struct bbuf {
	char *b;
	size_t size, len;
	int err;              /* ENOSPC once something did not fit */
};

void bbuf_init(struct bbuf *w, char *buf, size_t size);
/* Bytes as they are: "d", "l", "e", or a whole encoded value. */
void benc_raw(struct bbuf *w, const char *s, size_t len);
void benc_strn(struct bbuf *w, const char *s, size_t len);
void benc_cstr(struct bbuf *w, const char *s);
void benc_num(struct bbuf *w, int64_t i);
/* key and value of a dict entry */
void benc_kv(struct bbuf *w, const char *key, const char *val);
void benc_ki(struct bbuf *w, const char *key, int64_t val);

#endif
