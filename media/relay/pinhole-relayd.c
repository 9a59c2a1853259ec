/* pinhole-relayd: pinhole's media relay on a host of its own, controlled
 * over rtpengine's ng protocol (doc/RELAY-NG.md): pinholed with
 * relay = ng:HOST:PORT, or any ng client (Kamailio's rtpengine module),
 * sets up calls with offer/answer, reads them with query and ends them
 * with delete. The relay engine forwards on its own threads; this loop
 * only answers control datagrams and forgets idle calls. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pinhole/media.h"
#include "bencode.h"
#include "ngd.h"
#include "ngsdp.h"
#include "relay.h"

#define DGRAM_MAX 65536

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char usage[] =
"Usage: pinhole-relayd [OPTIONS]\n"
"pinhole's media relay on a host of its own, controlled over rtpengine's\n"
"ng protocol (bencoded dictionaries over UDP): pinholed's relay = ng:HOST:PORT,\n"
"or an ng client such as Kamailio's rtpengine module, sets up calls with\n"
"offer and answer, reads their counters with query and ends them with\n"
"delete (ping, offer, answer, query, delete; doc/RELAY-NG.md).\n"
"\n"
"Per m= line of a call it holds one port pair for each side (RTP on the even\n"
"port, RTCP on the odd one, or both on the even one with rtcp-mux), and\n"
"answers with the SDP moved there (every c= line, each m= port; ICE and\n"
"a=rtcp removed). A side's first packet from an IP it is expected at latches\n"
"it (RFC 7362); packets from any other address are dropped and counted.\n"
"A side is expected at the IPs of the request's pinhole-expect list (pinholed\n"
"sends it), else at its SDP's c= IP and the IP of received-from.\n"
"\n"
"  -l, --listen IP:PORT     the ng control socket (UDP), default 127.0.0.1:2223.\n"
"                           Commands are not authenticated: whoever reaches\n"
"                           this socket controls the relay; keep it on a\n"
"                           private network, firewall it, and give -c.\n"
"  -c, --controller IP      take commands only from this IP (pinholed's, a\n"
"                           Kamailio's); may be given up to 16 times. Datagrams\n"
"                           from anywhere else get no reply. Default: any.\n"
"  -a, --address IP         the address the media ports bind, default: the\n"
"                           listen IP (0.0.0.0 or :: binds them all; then give -A)\n"
"  -A, --advertise IP       the address written into the SDP, default: -a's\n"
"                           (the public one of a relay behind a 1:1 NAT)\n"
"  -p, --ports FIRST-LAST   the media port pool, default 22000-31999; one call\n"
"                           stream takes two pairs\n"
"  -t, --threads N          forwarding threads, 1..16, default 1\n"
"  -i, --idle SECONDS       a stream with no packet for this long is freed,\n"
"                           default 60 (a query with pinhole-touch counts as one)\n"
"  -v, --verbose            log every command: source, command, call-id, result\n"
"  -h, --help               this text\n"
"\n"
"Logs go to standard error; SIGTERM or SIGINT stops it. Exit status: 0 after a\n"
"signal, 1 when it cannot start, 2 on bad options.\n";

struct opts {
	struct ph_addr listen, adv;
	struct ph_addr ctl[NGD_ALLOW];
	unsigned n_ctl;
	struct ph_relay_conf rc;
	bool verbose;
};

static void logf_(const char *fmt, const char *a, const char *b)
{
	char ts[32];
	time_t t = time(NULL);

	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", gmtime(&t));
	fprintf(stderr, "%s pinhole-relayd: ", ts);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
}

static int parse(int argc, char **argv, struct opts *o, const char **why)
{
	static const struct option lo[] = {
		{"listen", 1, NULL, 'l'}, {"controller", 1, NULL, 'c'},
		{"address", 1, NULL, 'a'},
		{"advertise", 1, NULL, 'A'}, {"ports", 1, NULL, 'p'},
		{"threads", 1, NULL, 't'}, {"idle", 1, NULL, 'i'},
		{"verbose", 0, NULL, 'v'}, {"help", 0, NULL, 'h'}, {0},
	};
	const char *listen_s = "127.0.0.1:2223", *addr_s = NULL, *adv_s = NULL;
	unsigned lo_p, hi_p;
	int opt, n;

	o->rc = (struct ph_relay_conf){.port_min = PH_RELAY_PORT_MIN,
				       .port_max = PH_RELAY_PORT_MAX,
				       .idle_s = 60, .threads = 1};
	while ((opt = getopt_long(argc, argv, "l:c:a:A:p:t:i:vh", lo, NULL)) != -1)
		switch (opt) {
		case 'l': listen_s = optarg; break;
		case 'c':
			*why = "--controller: expected an IP, at most 16 times";
			if (o->n_ctl == NGD_ALLOW ||
			    ph_addr_set(&o->ctl[o->n_ctl++], optarg, 0))
				return EINVAL;
			break;
		case 'a': addr_s = optarg; break;
		case 'A': adv_s = optarg; break;
		case 'p':
			n = 0;
			*why = "--ports: expected FIRST-LAST, 1024..65535, at least 4 ports";
			if (sscanf(optarg, "%5u-%5u%n", &lo_p, &hi_p, &n) != 2 ||
			    optarg[n] || lo_p < 1024 || hi_p > 65535 || hi_p < lo_p + 3)
				return EINVAL;
			o->rc.port_min = (uint16_t)lo_p;
			o->rc.port_max = (uint16_t)hi_p;
			break;
		case 't': o->rc.threads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'i': o->rc.idle_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'v': o->verbose = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: *why = "unknown option"; return EINVAL;
		}
	*why = optind != argc ? "no arguments are taken, only options"
	       : ph_addr_parse(&o->listen, listen_s, strlen(listen_s), 2223) ||
			 !ph_addr_port(&o->listen) ? "--listen: expected IP:PORT"
	       : addr_s && ph_addr_set(&o->rc.addr, addr_s, 0) ? "--address: expected an IP"
	       : adv_s && ph_addr_set(&o->adv, adv_s, 0) ? "--advertise: expected an IP"
	       : o->rc.threads < 1 || o->rc.threads > 16 ? "--threads: expected 1..16"
	       : o->rc.idle_s < 1 ? "--idle: expected seconds, at least 1" : NULL;
	if (*why)
		return EINVAL;
	if (!addr_s) {
		o->rc.addr = o->listen;
		ph_addr_set_port(&o->rc.addr, 0);
	}
	if (!adv_s)
		o->adv = o->rc.addr;
	/* the SDP must name an address the phones can send to */
	*why = "a wildcard --address needs --advertise";
	return ngsdp_unspecified(&o->adv) ? EINVAL : 0;
}

static int allow(struct ngd *d, const struct opts *o)
{
	int err = 0;

	for (unsigned i = 0; i < o->n_ctl && !err; i++)
		err = ngd_allow(d, &o->ctl[i]);
	return err;
}

/* key's string value in the dict after a datagram's cookie, or "-". */
static void field(const char *dg, size_t len, const char *key, char *buf,
		  size_t size)
{
	const char *sp = memchr(dg, ' ', len), *v;
	struct benc d;
	size_t n;

	snprintf(buf, size, "-");
	if (sp && !benc_parse(&d, sp + 1, len - (size_t)(sp + 1 - dg)) &&
	    !benc_get_str(&d, key, &v, &n))
		snprintf(buf, size, "%.*s", (int)(n < 100 ? n : 100), v);
	for (char *c = buf; *c; c++)
		if (*c < 32 || *c > 126)
			*c = '.';
}

/* -v: "SRC: COMMAND CALL-ID: RESULT (REASON)" */
static void log_request(const struct ph_addr *src, const char *in, size_t n,
			const char *out, size_t olen)
{
	char from[PH_ADDR_STRLEN], cmd[104], id[104], res[104], why[104];
	char line[600];

	ph_addr_print(src, from, sizeof from);
	field(in, n, "command", cmd, sizeof cmd);
	field(in, n, "call-id", id, sizeof id);
	field(out, olen, "result", res, sizeof res);
	field(out, olen, "error-reason", why, sizeof why);
	snprintf(line, sizeof line, "%s: %s %s: %s%s%s%s", from, cmd, id,
		 olen ? res : "no reply (no cookie, or not a controller)",
		 strcmp(why, "-") ? " (" : "", strcmp(why, "-") ? why : "",
		 strcmp(why, "-") ? ")" : "");
	logf_("%s%s", line, "");
}

static void serve(struct ngd *d, int fd, bool verbose)
{
	static char in[DGRAM_MAX], out[DGRAM_MAX];
	uint64_t next_sweep = ph_now_ms() + 1000;

	while (!stop) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct ph_addr src;
		size_t olen;
		ssize_t n;

		if (ph_now_ms() >= next_sweep) {
			ngd_sweep(d);
			next_sweep = ph_now_ms() + 1000;
		}
		if (poll(&p, 1, 1000) != 1)
			continue;
		n = ph_sock_recv(fd, &src, in, sizeof in);
		if (n <= 0)
			continue;
		ngd_request(d, &src, in, (size_t)n, out, sizeof out, &olen);
		if (verbose)
			log_request(&src, in, (size_t)n, out, olen);
		if (olen)
			ph_sock_send(&src, out, olen, 0, &fd);
	}
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	struct ph_relay *r = NULL;
	struct ngd *d = NULL;
	char l[PH_ADDR_STRLEN], a[PH_ADDR_STRLEN];
	int fd = -1, err;
	unsigned lo, hi;
	const char *why = "";

	if (parse(argc, argv, &o, &why)) {
		fprintf(stderr, "pinhole-relayd: %s\nTry 'pinhole-relayd --help'.\n", why);
		return 2;
	}
	ph_addr_print(&o.listen, l, sizeof l);
	ph_addr_ip_print(&o.adv, a, sizeof a);
	if ((err = ph_relay_start(&r, &o.rc)) ||
	    (err = ngd_alloc(&d, r, &o.adv)) ||
	    (err = allow(d, &o)) ||
	    (err = ph_sock_open(&fd, &o.listen))) {
		logf_("cannot start: %s%s", strerror(err),
		      err == EADDRINUSE ? " (the ng port, or a media port, is taken)" : "");
		ngd_free(d);
		ph_relay_stop(r);
		return 1;
	}
	if (ph_relay_ephemeral_overlap(o.rc.port_min, o.rc.port_max, NULL,
				       &lo, &hi)) {
		char ports[48];

		snprintf(ports, sizeof ports, "%u-%u overlap %u-%u",
			 o.rc.port_min, o.rc.port_max, lo, hi);
		logf_("warning: ports %s, the kernel's ephemeral ports (%s): the "
		      "relay and outgoing connections take ports from each "
		      "other; pick a range outside it", ports, PH_EPHEMERAL_PATH);
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	fprintf(stderr, "pinhole-relayd: ng on %s (commands from %s), media on "
		"%s ports %u-%u, %u thread(s), idle %u s: ready\n", l,
		o.n_ctl ? "the -c IPs only" : "anywhere", a, o.rc.port_min,
		o.rc.port_max, o.rc.threads, o.rc.idle_s);
	serve(d, fd, o.verbose);
	close(fd);
	ngd_free(d);
	ph_relay_stop(r);
	fprintf(stderr, "pinhole-relayd: stopped\n");
	return 0;
}
