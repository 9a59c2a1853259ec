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

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"verbose", no_argument, NULL, 'v'},
		{"local", required_argument, NULL, 'l'},
		{"fallback-hops", required_argument, NULL, 'f'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct ph_probe_conf conf = {
		.stun = {200, 4, 4}, /* a person is waiting: ~1.8 s per request */
		.fallback_hops = 2,
	};
	struct ph_addr bind_to = {0};
	const char *local = NULL;
	unsigned timeout_s = 10;
	bool verbose = false;
	struct ph_probe *p;
	struct ph_fwwin w;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char out[PH_FWWIN_STRLEN], why[1024];
	int c, fd, err;

	while ((c = getopt_long(argc, argv, "vl:f:t:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'v': verbose = true; break;
		case 'l': local = optarg; break;
		case 'f': conf.fallback_hops = (unsigned)atoi(optarg); break;
		case 't': timeout_s = (unsigned)atoi(optarg); break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (argc - optind != 1 || ph_addr_parse(&conf.server, argv[optind], strlen(argv[optind]), 3478) ||
	    (local && ph_addr_parse(&bind_to, local, strlen(local), 0)) ||
	    conf.fallback_hops < 1 || conf.fallback_hops > PH_FW_MAX_HOPS ||
	    !timeout_s) {
		fputs(usage, stderr);
		return 2;
	}
	if (!local) {
		ph_addr_set(&bind_to, ph_addr_af(&conf.server) == AF_INET6 ? "::"
									  : "0.0.0.0", 0);
	}
	if ((err = ph_sock_open(&fd, &bind_to)) ||
	    getsockname(fd, (struct sockaddr *)&ss, &sl) ||
	    (err = ph_sock_route_src(&conf.server, &conf.local))) {
		fprintf(stderr, "pinhole-probe: socket: %s\n", strerror(err ? err : errno));
		return 2;
	}
	{	/* our address: the routed source IP, and the port we hold */
		struct ph_addr bound;
		ph_addr_from_sa(&bound, (struct sockaddr *)&ss, sl);
		ph_addr_set_port(&conf.local, ph_addr_port(&bound));
	}
	if ((err = ph_probe_alloc(&p, &conf, ph_sock_send, &fd))) {
		fprintf(stderr, "pinhole-probe: %s\n", strerror(err));
		return 2;
	}
	err = ph_sock_probe(fd, p, timeout_s * 1000);
	if (!err)
		err = ph_probe_result(p, &w);
	if (verbose && !ph_probe_explain(p, why, sizeof why))
		fputs(why, stderr);
	if (!err)
		err = ph_fwwin_encode(&w, out, sizeof out);
	ph_probe_free(p);
	close(fd);
	if (err) {
		fprintf(stderr, "pinhole-probe: %s did not answer (%s)\n",
			argv[optind], strerror(err));
		return 1;
	}
	puts(out);
	return 0;
}
