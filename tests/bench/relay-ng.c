/* relay-ng: libpinhole's relay (the code pinholed runs, on its own
 * threads) behind a minimal rtpengine "ng" control socket, for benchmarks
 * only: the anchor's driver (tests/bench/anchors/rtpengine-anchor.sh
 * with SUT_PID) then sets up calls and loads them exactly as it does
 * rtpengine's, and measures this process.
 *
 * ng: "COOKIE BENCODED-DICT" over UDP, answered "COOKIE BENCODED-DICT".
 * Commands: ping; offer (call-id, sdp): a stream, the offerer as leg 0,
 * answered with SDP naming leg 1's port (where the answerer sends);
 * answer (call-id, sdp): leg 1, answered with leg 0's port; delete
 * (call-id). Each SDP's c= address is trusted (rtpengine's trust-address)
 * and is where its side is expected from. Anything else: an error reply.
 * Loopback only; stops on SIGTERM or SIGINT. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include <pinhole/media.h>
#include "relay.h"

#define MAX_CALLS 65536
#define CALLID_MAX 128

struct call {
	char id[CALLID_MAX];
	uint64_t stream;
	struct ph_addr port[2];
	bool used;
};

static struct call calls[MAX_CALLS];
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* ---- bencode: just enough to read a flat dict's string values -------- */

/* Skips one value at *p (< end); false when malformed. */
static bool skip(const char **p, const char *end, int depth)
{
	const char *s = *p;

	if (s >= end || depth > 16)
		return false;
	if (*s == 'i') {
		const char *e = memchr(s, 'e', (size_t)(end - s));
		if (!e)
			return false;
		*p = e + 1;
		return true;
	}
	if (*s == 'l' || *s == 'd') {
		s++;
		while (s < end && *s != 'e')
			if (!skip(&s, end, depth + 1))
				return false;
		if (s >= end)
			return false;
		*p = s + 1;
		return true;
	}
	if (*s >= '0' && *s <= '9') {
		unsigned long n = 0;
		while (s < end && *s >= '0' && *s <= '9')
			n = n * 10 + (unsigned long)(*s++ - '0');
		if (s >= end || *s != ':' || n > (unsigned long)(end - s - 1))
			return false;
		*p = s + 1 + n;
		return true;
	}
	return false;
}

/* The string value of key in the dict at [p, end), or NULL. */
static const char *dict_str(const char *p, const char *end, const char *key,
			    size_t *len)
{
	if (p >= end || *p++ != 'd')
		return NULL;
	while (p < end && *p != 'e') {
		const char *k = p, *v;
		size_t klen;

		if (!skip(&p, end, 0))
			return NULL;
		klen = (size_t)(p - k);
		v = p;
		if (!skip(&p, end, 0))
			return NULL;
		/* k is "N:name": compare the name */
		const char *colon = memchr(k, ':', klen);
		if (colon && (size_t)(k + klen - colon - 1) == strlen(key) &&
		    !memcmp(colon + 1, key, strlen(key)) && *v >= '0' && *v <= '9') {
			const char *c = memchr(v, ':', (size_t)(p - v));
			*len = (size_t)(p - c - 1);
			return c + 1;
		}
	}
	return NULL;
}

/* ---- SDP: the c= address and the m=audio port ------------------------- */

static int sdp_media(const char *sdp, size_t len, struct ph_addr *a)
{
	char buf[2048], ip[64];
	unsigned port;
	const char *c, *m;

	if (len >= sizeof buf)
		return EINVAL;
	memcpy(buf, sdp, len);
	buf[len] = 0;
	c = strstr(buf, "c=IN IP4 ");
	m = strstr(buf, "m=audio ");
	if (!c || !m || sscanf(c + 9, "%63[0-9.]", ip) != 1 ||
	    sscanf(m + 8, "%u", &port) != 1 || port > 65535)
		return EINVAL;
	return ph_addr_set(a, ip, (uint16_t)port);
}

static void sdp_make(char *buf, size_t size, const struct ph_addr *at)
{
	char ip[PH_ADDR_STRLEN];

	ph_addr_ip_print(at, ip, sizeof ip);
	snprintf(buf, size,
		 "v=0\r\no=- 1 1 IN IP4 %s\r\ns=relay-ng\r\nc=IN IP4 %s\r\n"
		 "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
		 "a=sendrecv\r\n", ip, ip, ph_addr_port(at));
}

/* ---- calls -------------------------------------------------------------- */

static struct call *call_find(const char *id, size_t len, bool create)
{
	uint32_t h = 2166136261u;

	if (len >= CALLID_MAX)
		return NULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)id[i]) * 16777619u;
	for (unsigned k = 0; k < MAX_CALLS; k++) {
		struct call *c = &calls[(h + k) % MAX_CALLS];
		if (c->used && strlen(c->id) == len && !memcmp(c->id, id, len))
			return c;
		if (!c->used && !c->id[0]) { /* never used: the end of the probe */
			if (!create)
				return NULL;
			memcpy(c->id, id, len);
			c->id[len] = 0;
			return c;
		}
	}
	return NULL;
}

static int command(struct ph_relay *r, const char *msg, const char *end,
		   char *out, size_t size)
{
	size_t clen = 0, ilen = 0, slen = 0;
	const char *cmd = dict_str(msg, end, "command", &clen);
	const char *id = dict_str(msg, end, "call-id", &ilen);
	const char *sdp = dict_str(msg, end, "sdp", &slen);
	char body[1024];
	struct ph_addr media;
	struct call *c;
	int err;

	if (cmd && clen == 4 && !memcmp(cmd, "ping", 4))
		return snprintf(out, size, "d6:result4:ponge");
	if (!cmd || !id)
		return snprintf(out, size, "d6:result5:error12:error-reason11:bad requeste");
	bool offer = clen == 5 && !memcmp(cmd, "offer", 5);
	bool answer = clen == 6 && !memcmp(cmd, "answer", 6);
	if (clen == 6 && !memcmp(cmd, "delete", 6)) {
		if ((c = call_find(id, ilen, false))) {
			ph_relay_free(r, c->stream, NULL);
			c->used = false; /* id stays: the probe chain goes on */
		}
		return snprintf(out, size, "d6:result2:oke");
	}
	if ((!offer && !answer) || !sdp || sdp_media(sdp, slen, &media))
		return snprintf(out, size, "d6:result5:error12:error-reason11:unsupportede");
	c = call_find(id, ilen, offer);
	if (!c)
		return snprintf(out, size, "d6:result5:error12:error-reason12:unknown calle");
	if (offer && !c->used) {
		if ((err = ph_relay_alloc(r, &c->stream, c->port)))
			return snprintf(out, size, "d6:result5:error12:error-reason9:no ports e");
		c->used = true;
	}
	/* leg 0 offers, leg 1 answers; each is told the other leg's port */
	ph_relay_expect(r, c->stream, offer ? 0 : 1, &media, 1, &media, false);
	sdp_make(body, sizeof body, &c->port[offer ? 1 : 0]);
	return snprintf(out, size, "d6:result2:ok3:sdp%zu:%se", strlen(body), body);
}

static const char usage[] =
"Usage: relay-ng [-l IP:PORT] [-a IP] [-p FIRST-LAST] [-t THREADS]\n"
"libpinhole's relay behind a minimal rtpengine ng control socket (offer,\n"
"answer, delete, ping), for benchmarks against rtpengine with the same\n"
"driver. Defaults: -l 127.0.0.1:22223 -a 127.0.0.1 -p 30000-40000 -t 1.\n";

/* ng requests on fd until SIGTERM or SIGINT; each reply starts with the
 * request's cookie. */
static void serve(struct ph_relay *r, int fd)
{
	while (!stop) {
		char in[65536], out[4096 + CALLID_MAX];
		struct ph_addr src;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		const char *sp;
		ssize_t n;
		int k;

		if (poll(&p, 1, 200) != 1)
			continue;
		n = ph_sock_recv(fd, &src, in, sizeof in - 1);
		sp = n > 0 ? memchr(in, ' ', (size_t)n) : NULL;
		if (!sp)
			continue;
		k = (int)(sp - in) + 1;
		memcpy(out, in, (size_t)k);
		k += command(r, sp + 1, in + n, out + k, sizeof out - (size_t)k);
		if (k < (int)sizeof out)
			ph_sock_send(&src, out, (size_t)k, 0, &fd);
	}
}

int main(int argc, char **argv)
{
	struct ph_relay_conf rc = {.idle_s = 3600, .threads = 1,
				   .port_min = 30000, .port_max = 40000};
	struct ph_addr listen_at;
	struct ph_relay *r;
	const char *listen_s = "127.0.0.1:22223", *addr_s = "127.0.0.1";
	unsigned lo, hi;
	int opt, fd, err;

	while ((opt = getopt(argc, argv, "l:a:p:t:h")) != -1)
		switch (opt) {
		case 'l': listen_s = optarg; break;
		case 'a': addr_s = optarg; break;
		case 'p':
			if (sscanf(optarg, "%u-%u", &lo, &hi) != 2 || hi > 65535 || lo > hi)
				return fputs(usage, stderr), 2;
			rc.port_min = (uint16_t)lo;
			rc.port_max = (uint16_t)hi;
			break;
		case 't': rc.threads = (unsigned)atoi(optarg); break;
		default: return fputs(usage, opt == 'h' ? stdout : stderr), opt != 'h' ? 2 : 0;
		}
	if (ph_addr_parse(&listen_at, listen_s, strlen(listen_s), 22223) ||
	    ph_addr_set(&rc.addr, addr_s, 0))
		return fputs(usage, stderr), 2;
	if ((err = ph_relay_start(&r, &rc))) {
		fprintf(stderr, "relay-ng: relay: %s\n", strerror(err));
		return 1;
	}
	if ((err = ph_sock_open(&fd, &listen_at))) {
		fprintf(stderr, "relay-ng: %s: %s\n", listen_s, strerror(err));
		ph_relay_stop(r);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr, "relay-ng: ng on %s, relay on %s ports %u-%u, %u thread(s)\n",
		listen_s, addr_s, rc.port_min, rc.port_max, rc.threads);
	serve(r, fd);
	close(fd);
	ph_relay_stop(r);
	return 0;
}
