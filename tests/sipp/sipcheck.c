/* sipcheck: every SIP message pinholed sent, read independently.
 *
 *   sipcheck [-e] DUMP...
 *
 * DUMP is the file tests/sipp/sendcap.c appends every send of pinholed to
 * (LD_PRELOAD, SENDCAP_FILE). A record is the line "sent N bytes to
 * PROTO/[ADDR]:PORT at HH:MM:SS.UUUUUU:", the N bytes sent, then "\v\n",
 * the form of sofia-sip's own TPORT_DUMP, which is not read any more: the
 * sofia-sip of Debian 12 (1.12.11) dumps only the first iovec of a send, so
 * most bodies. A UDP record is one datagram, so one message. The records
 * sent to one TCP peer are one byte stream, cut here into messages by their
 * Content-Length; a stream that ends inside a message is a failure.
 *
 * Each message is read line by line here (start line, headers ending in
 * CRLF, one empty line, a body of exactly Content-Length bytes, an SDP body
 * that is SDP, no header line inside a body), then parsed by libosip2 and by
 * sofia-sip, which must both accept it and read it alike (sipcheck_cmp.c).
 * Keep-alives (CRLF only), binary records (STUN), sofia-sip's start-up
 * probe (a "TEST" datagram to its own socket) and, with relay = ng:...,
 * pinholed's control datagrams to its relays ("COOKIE BENCODED-DICT",
 * doc/RELAY-NG.md) are skipped.
 *
 * Prints one line per failure and a summary. Exit 0 when all is well, 1 on
 * any failure or when no SIP message was sent at all (unless -e), 2 when a
 * dump cannot be read or is not in the format above. */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bencode.h"
#include "sipcheck.h"

#define MAX_FAIL_LINES 40
#define MAX_DUMP (256L << 20)	/* a test's dump is far smaller */
#define PROBE "TEST"	/* sofia-sip's tport: does recv() honour MSG_TRUNC? */
#define MAX_STREAMS 1024
#define MAX_HDR_LINES 400

struct rec {
	unsigned no;		/* 1 for the dump's first record */
	char peer[96];		/* "udp/[127.0.0.1]:5060" */
	char stamp[160];	/* the record's line, for failure lines */
	const char *data;
	size_t len;
};

/* the bytes sent to one stream peer that are not yet a whole message */
struct stream {
	char peer[96];
	char *buf;
	size_t len;
	int lost;		/* framing lost: the rest is not checked */
};

static struct stream streams[MAX_STREAMS];
static unsigned n_streams, n_fail, n_msgs, n_bodies, n_keepalive, n_binary, n_probe;
static unsigned n_ng;
/* -f (fuzzing): a proxy forwards what a fuzzed phone wrote (a broken
 * Contact in a 200, a header line in a MESSAGE's body, bare LFs, a
 * doubled start line, a UDP message without Content-Length), and its
 * 400s copy a malformed request's From, To, Call-ID and CSeq (RFC 3261
 * 8.2.6.2), so there a failure is only what pinholed's own serialising
 * decides: Content-Length against the body, and present on a stream.
 * The rest is counted, not failed. */
static int fuzzing;
static unsigned n_echoes;
static const char *dump_name;

void sc_fail(const struct sc_msg *m, const char *fmt, ...)
{
	va_list ap;

	if (fuzzing && !strstr(fmt, "bytes follow the empty line") &&
	    !strstr(fmt, "no Content-Length on a stream")) {
		n_echoes++;
		return;
	}
	if (++n_fail > MAX_FAIL_LINES)
		return;
	printf("sipcheck: FAIL: %s: ", m->where);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static int name_is(const char *l, size_t n, const char *full, const char *compact)
{
	return (n == strlen(full) && !strncasecmp(l, full, n)) ||
	       (compact && n == 1 && tolower((unsigned char)*l) == *compact);
}

/* the headers a message has once at most (RFC 3261 7.3.1); bit i of *seen
 * is singles[i] */
static const char *const singles[][2] = {
	{"Call-ID", "i"}, {"CSeq", NULL}, {"From", "f"}, {"To", "t"},
	{"Max-Forwards", NULL},
};

static void once_only(struct sc_msg *m, const char *l, size_t n,
		      unsigned line, unsigned *seen)
{
	for (unsigned i = 0; i < sizeof singles / sizeof singles[0]; i++) {
		if (!name_is(l, n, singles[i][0], singles[i][1]))
			continue;
		if (*seen & 1u << i)
			sc_fail(m, "line %u: a second %s header", line, singles[i][0]);
		*seen |= 1u << i;
	}
}

/* Content-Length and Content-Type values, and one of each at most */
static int header_line(struct sc_msg *m, const char *l, size_t ll,
		       unsigned line, unsigned *n_cl, unsigned *n_ct)
{
	size_t n = sc_header_name_len(l, ll), i;
	const char *v = (const char *)memchr(l, ':', ll) + 1;
	size_t vl = ll - (size_t)(v - l);
	char num[24];

	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	if (name_is(l, n, "content-length", "l")) {
		snprintf(num, sizeof num, "%.*s", (int)vl, v);
		num[strspn(num, "0123456789")] = '\0';
		if (++*n_cl > 1 || !num[0] || strlen(num) > 9) {
			sc_fail(m, "line %u: a second or bad Content-Length: \"%.*s\"",
				line, (int)vl, v);
			return -1;
		}
		m->clen = atol(num);
	} else if (name_is(l, n, "content-type", "c")) {
		/* type/subtype, lowercase: what the body checks go by */
		for (i = 0; i < vl && i + 1 < sizeof m->ctype &&
			    !strchr("; \t", v[i]); i++)
			m->ctype[i] = (char)tolower((unsigned char)v[i]);
		m->ctype[i] = '\0';
		if (++*n_ct > 1)
			sc_fail(m, "line %u: a second Content-Type", line);
	}
	return 0;
}

static int start_line(struct sc_msg *m, const char *l, size_t ll)
{
	size_t n = 0;
	const char *sp;

	if (ll > 12 && !memcmp(l, "SIP/2.0 ", 8) && isdigit((unsigned char)l[8]) &&
	    isdigit((unsigned char)l[9]) && isdigit((unsigned char)l[10]) && l[11] == ' ')
		return 0;
	while (n < ll && sc_is_token_char((unsigned char)l[n]))
		n++;
	sp = n < ll ? memchr(l + n + 1, ' ', ll - n - 1) : NULL;
	if (n && n < ll && l[n] == ' ' && sp && sp > l + n + 1 &&
	    ll - (size_t)(sp - l) == 8 && !memcmp(sp, " SIP/2.0", 8))
		return 0;
	sc_fail(m, "not a SIP start line: \"%.60s\"", l);
	return -1;
}

/* The start line and headers of m->p (avail bytes) up to the empty line:
 * sets hdr_len, clen, ctype. 1 read, 0 not all there yet (a stream), -1
 * failed (said). */
static int read_headers(struct sc_msg *m, size_t avail, int stream)
{
	size_t pos = 0;
	unsigned line, n_cl = 0, n_ct = 0, seen = 0;

	for (line = 1; line <= MAX_HDR_LINES; line++) {
		const char *l = m->p + pos, *nl = memchr(l, '\n', avail - pos);
		size_t ll;

		if (!nl) {
			if (stream)
				return 0;
			sc_fail(m, "no empty line ends the headers");
			return -1;
		}
		ll = (size_t)(nl - l);
		if (!ll || l[ll - 1] != '\r') {
			sc_fail(m, "line %u ends in a bare LF", line);
			return -1;
		}
		pos += ll + 1;
		ll--;
		if (!ll) {
			m->hdr_len = pos;
			if (line > 1)
				return 1;
			sc_fail(m, "an empty start line");
			return -1;
		}
		if (line == 1) {
			if (start_line(m, l, ll))
				return -1;
		} else if (*l == ' ' || *l == '\t') {
			if (line == 2) {
				sc_fail(m, "line 2 continues the start line");
				return -1;
			}
		} else if (!sc_header_name_len(l, ll)) {
			sc_fail(m, "line %u is not a header: \"%.*s\"", line,
				(int)(ll < 60 ? ll : 60), l);
			return -1;
		} else if (header_line(m, l, ll, line, &n_cl, &n_ct)) {
			return -1;
		} else {
			once_only(m, l, sc_header_name_len(l, ll), line, &seen);
		}
	}
	sc_fail(m, "more than %u header lines", MAX_HDR_LINES);
	return -1;
}

/* Frames one message at m->p: its length, 0 when a stream has not all of
 * it yet, -1 when the stream's framing is lost. Datagrams are checked even
 * when their Content-Length is wrong: that is a failure, not a frame. */
static long frame(struct sc_msg *m, size_t avail, int stream)
{
	int r = read_headers(m, avail, stream);

	if (r <= 0)
		return r;
	if (m->clen < 0) {
		/* over UDP RFC 3261 18.3 lets it be left out; on a stream the
		 * message cannot be framed without it */
		sc_fail(m, stream ? "no Content-Length on a stream" : "no Content-Length");
		if (stream)
			return -1;
		m->len = avail;
	} else if (stream) {
		if ((size_t)m->clen > avail - m->hdr_len)
			return 0;
		m->len = m->hdr_len + (size_t)m->clen;
	} else {
		m->len = avail;
		if ((size_t)m->clen != avail - m->hdr_len)
			sc_fail(m, "Content-Length: %ld but %zu bytes follow the empty line",
				m->clen, avail - m->hdr_len);
	}
	return (long)m->len;
}

/* the label of failure lines: dump, record, its line, the start line */
static void name_msg(char *where, size_t size, const struct rec *r,
		     const char *p, size_t avail)
{
	size_t sl = strcspn(p, "\r\n");

	if (sl > avail)
		sl = avail;
	snprintf(where, size, "%s record %u (%s) \"%.*s\"", dump_name, r->no,
		 r->stamp, (int)(sl < 70 ? sl : 70), p);
}

static long check_one(const struct rec *r, const char *p, size_t avail, int stream)
{
	char where[400];
	struct sc_msg m = {.p = p, .clen = -1, .where = where};
	long n;

	name_msg(where, sizeof where, r, p, avail);
	n = frame(&m, avail, stream);
	if (n > 0) {
		n_msgs++;
		n_bodies += m.len > m.hdr_len;
		sc_check_body(&m);
		sc_compare(&m);
	}
	return n;
}

static size_t crlf_len(const char *p, size_t len)
{
	size_t n = 0;

	while (n < len && (p[n] == '\r' || p[n] == '\n'))
		n++;
	return n;
}

/* Appends the record to its peer's stream and checks every whole message
 * the stream now holds; keep-alive CRLFs between messages are skipped. */
static void feed_stream(struct stream *s, const struct rec *r)
{
	size_t off = 0;
	char *nb;

	if (s->lost)
		return;
	nb = realloc(s->buf, s->len + r->len + 1);
	if (!nb) {
		perror("sipcheck");
		exit(2);
	}
	s->buf = nb;
	memcpy(s->buf + s->len, r->data, r->len);
	s->len += r->len;
	s->buf[s->len] = '\0';
	for (unsigned i = 0; i < 100000 && off < s->len; i++) {
		size_t k = crlf_len(s->buf + off, s->len - off);
		long n;

		if (k) {
			n_keepalive++;
			off += k;
			continue;
		}
		n = check_one(r, s->buf + off, s->len - off, 1);
		if (n < 0)
			s->lost = 1;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	memmove(s->buf, s->buf + off, s->len - off);
	s->len -= off;
}

static struct stream *stream_of(const char *peer)
{
	unsigned i;

	for (i = 0; i < n_streams; i++)
		if (!strcmp(streams[i].peer, peer))
			return &streams[i];
	/* full (a fuzzer opens thousands of connections): a peer with no
	 * part of a message pending is taken over, its stream was framed */
	for (i = 0; i < n_streams && n_streams == MAX_STREAMS; i++)
		if (!streams[i].len) {
			free(streams[i].buf);
			memset(&streams[i], 0, sizeof streams[i]);
			snprintf(streams[i].peer, sizeof streams[i].peer, "%s", peer);
			return &streams[i];
		}
	if (n_streams == MAX_STREAMS) {
		fprintf(stderr, "sipcheck: more than %u stream peers with a "
			"message pending\n", MAX_STREAMS);
		exit(2);
	}
	snprintf(streams[n_streams].peer, sizeof streams[n_streams].peer, "%s", peer);
	return &streams[n_streams++];
}

/* An ng request to a relay: a cookie, a space, one bencoded dictionary. */
static int is_ng(const struct rec *r)
{
	const char *sp = memchr(r->data, ' ', r->len < 64 ? r->len : 64);
	struct benc d;

	return sp && sp > r->data &&
	       !benc_parse(&d, sp + 1, r->len - (size_t)(sp + 1 - r->data)) &&
	       benc_is_dict(&d);
}

static void check_rec(const struct rec *r)
{
	unsigned char c = r->len ? (unsigned char)r->data[0] : 0;

	if (strncmp(r->peer, "udp/", 4)) {
		feed_stream(stream_of(r->peer), r);
		return;
	}
	if (crlf_len(r->data, r->len) == r->len)
		n_keepalive++;
	else if (r->len == strlen(PROBE) && !memcmp(r->data, PROBE, r->len))
		n_probe++;
	else if (c < 0x20 || c >= 0x7f)
		n_binary++;	/* STUN and the like: not SIP */
	else if (is_ng(r))
		n_ng++;
	else
		check_one(r, r->data, r->len, 0);
}

/* The record at *pos of the dump: 1, 0 at the end, -1 when the dump is not
 * in sendcap's format (said): a line, exactly the N bytes it counts, "\v\n". */
static int next_rec(const char *buf, size_t len, size_t *pos, struct rec *r)
{
	const char *l = buf + *pos, *nl;
	unsigned long n;
	size_t ll, at;
	int end = 0;

	if (*pos >= len)
		return 0;
	nl = memchr(l, '\n', len - *pos);
	ll = nl ? (size_t)(nl - l) : 0;
	if (ll > 1 && ll < sizeof r->stamp && l[ll - 1] == ':') {
		snprintf(r->stamp, sizeof r->stamp, "%.*s", (int)ll - 1, l);
		at = *pos + ll + 1;
		if (sscanf(r->stamp, "sent %lu bytes to %95s at %*s%n", &n, r->peer, &end) == 2 &&
		    end && n <= len - at && len - at - n >= 2 && !memcmp(buf + at + n, "\v\n", 2)) {
			r->data = buf + at;
			r->len = n;
			r->no++;
			*pos = at + n + 2;
			return 1;
		}
	}
	fprintf(stderr, "sipcheck: %s: not a sendcap record at byte %zu\n",
		dump_name, *pos);
	return -1;
}

static int check_dump(const char *name)
{
	FILE *f = fopen(name, "rb");
	char *buf = f ? malloc(MAX_DUMP) : NULL;
	size_t len = 0, pos = 0;
	struct rec r = {0};
	int rc;

	if (!buf || (len = fread(buf, 1, MAX_DUMP, f)) == MAX_DUMP || ferror(f)) {
		fprintf(stderr, "sipcheck: cannot read %s (or larger than %ld bytes)\n",
			name, MAX_DUMP);
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[len] = '\0';	/* failure lines print from the records with %s */
	dump_name = name;
	while ((rc = next_rec(buf, len, &pos, &r)) > 0)
		check_rec(&r);
	for (unsigned i = 0; i < n_streams; i++) {
		struct stream *s = &streams[i];
		struct sc_msg m = {.where = name};

		size_t k = crlf_len(s->buf, s->len), sl;

		sl = k < s->len ? strcspn(s->buf + k, "\r\n") : 0;
		if (!s->lost && k < s->len)
			sc_fail(&m, "the stream to %s ends inside a message: \"%.*s\"",
				s->peer, (int)(sl < 60 ? sl : 60), s->buf + k);
		free(s->buf);
	}
	n_streams = 0;	/* each dump is one pinholed's run */
	memset(streams, 0, sizeof streams);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	int opt, allow_empty = 0;

	while ((opt = getopt(argc, argv, "ef")) != -1) {
		if (opt == 'e')
			allow_empty = 1;
		else if (opt == 'f')
			fuzzing = 1;
		else
			goto usage;
	}
	if (optind == argc)
		goto usage;
	for (; optind < argc; optind++)
		if (check_dump(argv[optind]) < 0)
			return 2;
	if (n_fail > MAX_FAIL_LINES)
		printf("sipcheck: ... and %u more failures\n", n_fail - MAX_FAIL_LINES);
	printf("sipcheck: %u messages sent by pinholed checked (%u with a body), "
	       "%u keep-alives, %u binary records and %u probes skipped; %u failures\n",
	       n_msgs, n_bodies, n_keepalive, n_binary, n_probe, n_fail);
	if (n_ng)
		printf("sipcheck: %u ng control datagrams to relays skipped\n", n_ng);
	if (fuzzing)
		printf("sipcheck: -f: %u oddities of what fuzzed phones wrote, "
		       "forwarded or echoed as they came (not failures)\n", n_echoes);
	if (!n_msgs && !allow_empty) {
		printf("sipcheck: FAIL: no SIP message sent in the dump\n");
		return 1;
	}
	return n_fail ? 1 : 0;
usage:
	fprintf(stderr, "usage: sipcheck [-e] [-f] DUMP...\n");
	return 2;
}
