/* libFuzzer target: SIP through the whole of pinholed's message handling,
 * in one process: sofia-sip's parser and transactions, the registrar, the
 * forking proxy, the route decision and the SDP rewrite, and the answers
 * coming back from a callee.
 *
 * The network is cut at the transport edge by a network namespace of the
 * target's own with only loopback in it (made at start; without one it
 * refuses to run): pinholed binds its real sockets there, and wherever a
 * fuzzed Contact or Via points, nothing leaves the process's namespace.
 *
 * An input is a request (or response) that a caller sends to pinholed
 * over UDP, optionally followed by a line "=====" and the answer a callee
 * gives to every request pinholed forwards to it: a status line ("200 OK")
 * and headers and body, to which the callee adds the request's Via, From,
 * To (tagged), Call-ID, CSeq and Record-Route. Before each input the callee
 * registers as bob (with a Firewall-Window) and the caller as alice. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <sofia-sip/su_wait.h>

#include "conf.h"
#include "log.h"
#include "sipd.h"

#define SIP_PORT 5060
#define ROUNDS 8
#define SEP "\n=====\n"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static su_root_t *root;
static struct sipd *sipd;
static struct pconf conf;
static int caller, callee;
static unsigned long runs;

/* A network namespace with loopback only, or exit. */
static void own_netns(void)
{
	struct ifreq ifr = {0};
	int s;

	if (unshare(CLONE_NEWNET) && unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
		perror("fuzz_sip: no network namespace of its own (needs root "
		       "or user namespaces); refusing to run");
		exit(77);
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr))) {
		perror("fuzz_sip: cannot bring up lo");
		exit(1);
	}
	close(s);
}

static int udp_socket(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a)) {
		perror("fuzz_sip: socket");
		exit(1);
	}
	return s;
}

static unsigned short port_of(int s)
{
	struct sockaddr_in a;
	socklen_t n = sizeof a;

	getsockname(s, (struct sockaddr *)&a, &n);
	return ntohs(a.sin_port);
}

static void to_pinholed(int s, const void *buf, size_t len)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SIP_PORT)};

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sendto(s, buf, len, 0, (struct sockaddr *)&a, sizeof a);
}

static void reg(int s, const char *user, const char *extra)
{
	char m[768];
	int n = snprintf(m, sizeof m,
		"REGISTER sip:127.0.0.1 SIP/2.0\r\n"
		"Via: SIP/2.0/UDP 127.0.0.1:%u;rport;branch=z9hG4bKreg%lu\r\n"
		"Max-Forwards: 70\r\nFrom: <sip:%s@example.com>;tag=r\r\n"
		"To: <sip:%s@example.com>\r\nCall-ID: reg-%s\r\n"
		"CSeq: %lu REGISTER\r\nContact: <sip:%s@127.0.0.1:%u>\r\n%s"
		"Expires: 3600\r\nContent-Length: 0\r\n\r\n",
		port_of(s), runs, user, user, user, runs + 1, user, port_of(s),
		extra);

	to_pinholed(s, m, (size_t)n);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *why;

	own_netns();
	conf_defaults(&conf);
	if (conf_set(&conf, "listen", "127.0.0.1", &why) ||
	    conf_set(&conf, "max_bindings", "1000", &why) ||
	    conf_set(&conf, "store", "memory", &why) ||
	    conf_set(&conf, "relay_ports", "40000-40999", &why)) {
		fprintf(stderr, "fuzz_sip: config: %s\n", why);
		exit(1);
	}
	conf.sip_port = SIP_PORT;
	log_setup(false, getenv("FUZZ_SIP_LOG") ? LOG_DEBUG : LOG_CRIT);
	su_init();
	root = su_root_create(NULL);
	if (!root || sipd_alloc(&sipd, root, &conf)) {
		fprintf(stderr, "fuzz_sip: pinholed does not start\n");
		exit(1);
	}
	caller = udp_socket();
	callee = udp_socket();
	return 0;
}

/* The header lines of req (up to its empty line) that an answer copies. */
static size_t copy_headers(const char *req, size_t len, char *out, size_t size)
{
	static const char *const keep[] = {"via:", "v:", "from:", "f:", "to:",
					   "t:", "call-id:", "i:", "cseq:",
					   "record-route:"};
	const char *p = memchr(req, '\n', len), *e = req + len;
	size_t n = 0;

	while (p && ++p < e && *p != '\r' && *p != '\n') {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t l = (size_t)((nl ? nl + 1 : e) - p);
		bool to = !strncasecmp(p, "to:", 3) || !strncasecmp(p, "t:", 2);

		for (size_t k = 0; k < sizeof keep / sizeof *keep; k++)
			if (!strncasecmp(p, keep[k], strlen(keep[k])) &&
			    n + l + 8 < size) {
				memcpy(out + n, p, l);
				n += l;
				if (to && !memmem(p, l, "tag=", 4) && n >= 2 &&
				    out[n - 2] == '\r') {
					memcpy(out + n - 2, ";tag=fz\r\n", 9);
					n += 7;
				}
				break;
			}
		p = nl;
	}
	return n;
}

/* The callee answers each request pinholed sent it (an ACK gets none). */
static void callee_answers(const uint8_t *ans, size_t alen)
{
	static char req[65536], out[65536 + 512];
	struct sockaddr_storage src;
	socklen_t sl = sizeof src;
	const uint8_t *eol = ans ? memchr(ans, '\n', alen) : NULL;
	ssize_t n;

	while ((n = recvfrom(callee, req, sizeof req, 0,
			     (struct sockaddr *)&src, &sl)) > 0) {
		size_t first = eol ? (size_t)(eol - ans) + 1 : 0, k;

		if (!ans || !strncmp(req, "ACK ", 4) || !strncmp(req, "SIP/", 4))
			continue;
		k = (size_t)snprintf(out, sizeof out, "SIP/2.0 %.*s",
				     (int)first, (const char *)ans);
		k += copy_headers(req, (size_t)n, out + k, sizeof out - k);
		if (alen - first <= sizeof out - k)
			memcpy(out + k, ans + first, alen - first), k += alen - first;
		sendto(callee, out, k, 0, (struct sockaddr *)&src, sl);
		sl = sizeof src;
	}
}

static void drain(int s)
{
	char buf[65536];

	while (recv(s, buf, sizeof buf, 0) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *sep = memmem(data, size, SEP, strlen(SEP));
	size_t req_len = sep ? (size_t)(sep - data) : size;
	const uint8_t *ans = sep ? sep + strlen(SEP) : NULL;
	size_t alen = sep ? size - req_len - strlen(SEP) : 0;

	runs++;
	reg(callee, "bob", "Firewall-Window: 127.0.0.1;mapping=eim;filtering=apdf;hops=2\r\n");
	reg(caller, "alice", "");
	su_root_step(root, 0);
	if (req_len)
		to_pinholed(caller, data, req_len);
	for (unsigned i = 0; i < ROUNDS; i++) {
		su_root_step(root, 0);
		callee_answers(ans, alen);
		drain(caller);
	}
	return 0;
}
