/* pinhole-probe: measure this host's Firewall-Window against a pinholed. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinhole.h>

static const char usage[] =
"Usage: pinhole-probe [OPTION]... SERVER[:PORT]\n"
"Measure how this host's firewall or NAT behaves, against a pinholed STUN\n"
"service (default port 3478), and print one line: this host's\n"
"Firewall-Window header value (PROTOCOL.md section 2), e.g.\n"
"  198.51.100.2;local=10.0.1.2;mapping=eim;filtering=apdf;hops=2;lifetime=30\n"
"\n"
"It finds, from one UDP socket: the window (the public address of that\n"
"socket, RFC 8489); the mapping (none, eim, adm, apdm) and filtering\n"
"(none, eif, adf, apdf) after RFC 5780, using pinholed's alternate port\n"
"(PORT + 1) and, if pinholed has one, its alternate address; and the hop\n"
"count, the smallest TTL whose null packet opens this host's own firewall\n"
"(pinholed's hop test on PORT + 2 .. PORT + 9). With one server address,\n"
"filtering can be told apart only down to adf.\n"
"\n"
"Options:\n"
"  -v, --verbose          also tell, on stderr, how each part was found\n"
"  -l, --local IP[:PORT]  bind the probing socket there (default: any, any)\n"
"  -f, --fallback-hops N  hops to report when no hop test answers (default 2)\n"
"  -t, --timeout SECONDS  give up after this long (default 10)\n"
"  -h, --help             show this help and exit\n"
"\n"
"SERVER is a numeric IPv4 address, or an IPv6 address in brackets.\n"
"Exit status: 0 when measured, 1 when the server did not answer,\n"
"2 on bad arguments or a socket error.\n";

struct args {
	struct ph_probe_conf conf;
	struct ph_addr bind_to;
	unsigned timeout_s;
	bool verbose;
	const char *server;
};

/* 0, or the exit status for bad arguments or --help. */
static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option lopts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"local", required_argument, NULL, 'l'},
		{"fallback-hops", required_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *local = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "vl:f:t:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'v': a->verbose = true; break;
		case 'l': local = optarg; break;
		case 'f': a->conf.fallback_hops = (unsigned)atoi(optarg); break;
		case 't': a->timeout_s = (unsigned)atoi(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	a->server = argc - optind == 1 ? argv[optind] : NULL;
	if (!a->server ||
	    ph_addr_parse(&a->conf.server, a->server, strlen(a->server), 3478) ||
	    (local && ph_addr_parse(&a->bind_to, local, strlen(local), 0)) ||
	    a->conf.fallback_hops < 1 || a->conf.fallback_hops > PH_FW_MAX_HOPS ||
	    !a->timeout_s) {
		fputs(usage, stderr);
		return 2;
	}
	if (!local)
		ph_addr_set(&a->bind_to, ph_addr_af(&a->conf.server) == AF_INET6
						 ? "::" : "0.0.0.0", 0);
	return -1;
}

/* The probing socket; conf->local is the routed source IP with the port
 * it holds. */
static int open_socket(struct args *a, int *fdp)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	struct ph_addr bound;
	int err;

	if ((err = ph_sock_open(fdp, &a->bind_to)))
		return err;
	if (getsockname(*fdp, (struct sockaddr *)&ss, &sl) ||
	    ph_addr_from_sa(&bound, (struct sockaddr *)&ss, sl))
		err = errno ? errno : EINVAL;
	else
		err = ph_sock_route_src(&a->conf.server, &a->conf.local);
	if (err) {
		close(*fdp);
		return err;
	}
	ph_addr_set_port(&a->conf.local, ph_addr_port(&bound));
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {
		.conf = {
			.stun = {200, 4, 4}, /* a person is waiting: ~1.8 s per request */
			.fallback_hops = 2,
		},
		.timeout_s = 10,
	};
	struct ph_probe *p;
	struct ph_fwwin w;
	char out[PH_FWWIN_STRLEN], why[1024];
	int fd, err, st = parse_args(argc, argv, &a);

	if (st >= 0)
		return st;
	if ((err = open_socket(&a, &fd))) {
		fprintf(stderr, "pinhole-probe: socket: %s\n", strerror(err));
		return 2;
	}
	if ((err = ph_probe_alloc(&p, &a.conf, ph_sock_send, &fd))) {
		fprintf(stderr, "pinhole-probe: %s\n", strerror(err));
		return 2;
	}
	err = ph_sock_probe(fd, p, a.timeout_s * 1000);
	if (!err)
		err = ph_probe_result(p, &w);
	if (a.verbose && !ph_probe_explain(p, why, sizeof why))
		fputs(why, stderr);
	if (!err)
		err = ph_fwwin_encode(&w, out, sizeof out);
	ph_probe_free(p);
	close(fd);
	if (err) {
		fprintf(stderr, "pinhole-probe: %s did not answer (%s)\n",
			a.server, strerror(err));
		return 1;
	}
	puts(out);
	return 0;
}
