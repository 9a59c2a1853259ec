/* netcheck: small network checks against pinholed for the tests.
 *
 *   netcheck stun [-b] [-c FLAGS] [-l LPORT] [-r PORT] [-w MS] HOST PORT
 *     sends one STUN Binding request (CHANGE-REQUEST flags, PINHOLE-REPLY-FROM
 *     port) from UDP port LPORT (default: any) and prints, for every answer within
 *     the wait: "local L from A mapped M class C [error E]". Exit 0 if any.
 *     Padded as libpinhole's requests are to pay for their answers
 *     (PROTOCOL.md section 1); -b: bare, FINGERPRINT only.
 *   netcheck tcpphone [-w MS] HOST PORT USER
 *     registers USER over one TCP connection, then waits on that very
 *     connection for an INVITE, answers it 486 Busy Here and prints its
 *     request line: the proof that requests to a binding use its flow.
 *   netcheck crlf [-w MS] HOST PORT
 *     opens TCP, sends a CRLFCRLF keepalive (RFC 5626 4.4.1) and exits 0
 *     only when the CRLF pong comes back. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <pinhole/stun.h>

static int wait_ms = 1000;
static uint16_t local_port;
static int bare;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int stun(const struct ph_addr *srv, uint32_t change, uint16_t reply_from)
{
	uint8_t buf[PH_STUN_MAX_LEN], tid[PH_STUN_TID_LEN];
	struct ph_stun_enc e;
	struct ph_addr local;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char a[PH_ADDR_STRLEN], m[PH_ADDR_STRLEN], l[PH_ADDR_STRLEN];
	long long end;
	size_t len;
	int fd, answers = 0;

	/* bound first: an unbound socket would lose its port on disconnect */
	fd = socket(ph_addr_af(srv), SOCK_DGRAM, 0);
	local = *srv;
	ph_addr_set_port(&local, local_port);
	if (fd < 0 || bind(fd, &local.u.sa, ph_addr_len(&local)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return perror("socket"), 2;
	ph_addr_from_sa(&local, (struct sockaddr *)&ss, sl);
	ph_addr_print(&local, l, sizeof l);
	ph_stun_tid_new(tid);
	ph_stun_enc_init(&e, buf, sizeof buf, PH_STUN_BINDING, PH_STUN_REQUEST, tid);
	if (change)
		ph_stun_enc_u32(&e, PH_STUN_ATTR_CHANGE_REQUEST, change);
	if (reply_from)
		ph_stun_enc_port(&e, PH_STUN_ATTR_PINHOLE_REPLY_FROM, reply_from);
	if (!bare)
		ph_stun_enc_padding(&e, PH_STUN_FULL_ANSWER_LEN(srv) *
						(reply_from ? 2 : 1));
	if (ph_stun_enc_finish(&e, true, &len) ||
	    sendto(fd, buf, len, 0, &srv->u.sa, ph_addr_len(srv)) < 0)
		return perror("send"), 2;
	end = now_ms() + wait_ms;
	for (long long left; (left = end - now_ms()) > 0;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct ph_stun_msg msg;
		struct ph_addr from;
		ssize_t n;

		if (poll(&p, 1, (int)left) <= 0)
			break;
		sl = sizeof ss;
		n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
		if (n < 0 || ph_addr_from_sa(&from, (struct sockaddr *)&ss, sl) ||
		    ph_stun_decode(&msg, buf, (size_t)n) ||
		    memcmp(msg.tid, tid, sizeof tid))
			continue;
		ph_addr_print(&from, a, sizeof a);
		if (ph_addr_print(&msg.xor_mapped, m, sizeof m))
			strcpy(m, "-");
		printf("local %s from %s mapped %s class %u", l, a, m, msg.cls);
		if (msg.present & PH_STUN_HAS_ERROR_CODE)
			printf(" error %u", msg.error_code);
		printf("\n");
		answers++;
	}
	close(fd);
	return answers ? 0 : 1;
}

static int crlf(const struct ph_addr *srv)
{
	char buf[8];
	struct pollfd p;
	ssize_t n;
	int fd = socket(ph_addr_af(srv), SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, &srv->u.sa, ph_addr_len(srv)) < 0)
		return perror("connect"), 2;
	if (write(fd, "\r\n\r\n", 4) != 4)
		return perror("write"), 2;
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, wait_ms) <= 0)
		return fprintf(stderr, "no pong within %d ms\n", wait_ms), 1;
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n == 2 && !memcmp(buf, "\r\n", 2)) {
		printf("pong\n");
		return 0;
	}
	fprintf(stderr, "expected CRLF, got %zd bytes\n", n);
	return 1;
}

/* Read until the buffer holds a whole SIP message head (CRLFCRLF). */
static int read_head(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, wait_ms) <= 0 || (r = read(fd, buf + n, size - n - 1)) <= 0)
			return -1;
		n += (size_t)r;
		buf[n] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			return 0;
	}
	return -1;
}

/* The first header row whose line starts with name ("\nVia:"), copied
 * whole with its CRLF. */
static void copy_header(const char *msg, const char *name, char *out, size_t size)
{
	const char *h = strstr(msg, name);

	h = h ? h + 1 : "";
	snprintf(out, size, "%.*s\r\n", (int)strcspn(h, "\r\n"), h);
}

static int tcpphone(const struct ph_addr *srv, const char *user)
{
	char buf[4096], out[4096], via[512], from[256], to[256], cid[256], cseq[64];
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct ph_addr me;
	char host[PH_ADDR_STRLEN], self[PH_ADDR_STRLEN];
	int fd = socket(ph_addr_af(srv), SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, &srv->u.sa, ph_addr_len(srv)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return perror("connect"), 2;
	ph_addr_from_sa(&me, (struct sockaddr *)&ss, sl);
	ph_addr_print(srv, host, sizeof host);
	ph_addr_print(&me, self, sizeof self);
	snprintf(out, sizeof out,
		 "REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP %s;branch=z9hG4bKtcpphone1\r\n"
		 "Max-Forwards: 70\r\nFrom: <sip:%s@example.com>;tag=t1\r\n"
		 "To: <sip:%s@example.com>\r\nCall-ID: tcpphone-%s\r\nCSeq: 1 REGISTER\r\n"
		 "Contact: <sip:%s@%s;transport=tcp>\r\nExpires: 600\r\n"
		 "Content-Length: 0\r\n\r\n", host, self, user, user, self, user, self);
	if (write(fd, out, strlen(out)) != (ssize_t)strlen(out) ||
	    read_head(fd, buf, sizeof buf) || strncmp(buf, "SIP/2.0 200", 11))
		return fprintf(stderr, "REGISTER over TCP not accepted\n"), 1;
	printf("registered\n");
	fflush(stdout);
	if (read_head(fd, buf, sizeof buf) || strncmp(buf, "INVITE ", 7))
		return fprintf(stderr, "no INVITE on the registered connection\n"), 1;
	printf("%.*s\n", (int)strcspn(buf, "\r\n"), buf);
	via[0] = '\0'; /* every Via row, in order (RFC 3261 8.2.6.2) */
	for (const char *h = buf; (h = strstr(h, "\nVia:")); h++) {
		size_t n = strlen(via);
		copy_header(h, "\nVia:", via + n, sizeof via - n);
	}
	copy_header(buf, "\nFrom:", from, sizeof from);
	copy_header(buf, "\nTo:", to, sizeof to);
	copy_header(buf, "\nCall-ID:", cid, sizeof cid);
	copy_header(buf, "\nCSeq:", cseq, sizeof cseq);
	snprintf(out, sizeof out, "SIP/2.0 486 Busy Here\r\n%s%s%.*s;tag=busy\r\n%s%s"
		 "Content-Length: 0\r\n\r\n", via, from,
		 (int)strcspn(to, "\r"), to, cid, cseq);
	if (write(fd, out, strlen(out)) < 0)
		return perror("write"), 1;
	usleep(200000); /* let the ACK come before we close */
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t change = 0;
	uint16_t reply_from = 0;
	struct ph_addr srv;
	const char *mode;
	int c;

	if (argc < 2)
		goto usage;
	mode = argv[1];
	optind = 2;
	while ((c = getopt(argc, argv, "bc:l:r:w:")) != -1) {
		switch (c) {
		case 'b': bare = 1; break;
		case 'c': change = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'l': local_port = (uint16_t)atoi(optarg); break;
		case 'r': reply_from = (uint16_t)atoi(optarg); break;
		case 'w': wait_ms = atoi(optarg); break;
		default: goto usage;
		}
	}
	if (!strcmp(mode, "tcpphone") && argc - optind == 3 &&
	    !ph_addr_set(&srv, argv[optind], (uint16_t)atoi(argv[optind + 1])))
		return tcpphone(&srv, argv[optind + 2]);
	if (argc - optind != 2 ||
	    ph_addr_set(&srv, argv[optind], (uint16_t)atoi(argv[optind + 1])))
		goto usage;
	if (!strcmp(mode, "stun"))
		return stun(&srv, change, reply_from);
	if (!strcmp(mode, "crlf"))
		return crlf(&srv);
usage:
	fprintf(stderr, "usage: netcheck stun [-b] [-c FLAGS] [-l LPORT] [-r PORT] [-w MS] HOST PORT\n"
			"       netcheck tcpphone [-w MS] HOST PORT USER\n"
			"       netcheck crlf [-w MS] HOST PORT\n");
	return 2;
}
