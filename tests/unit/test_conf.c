/* Configuration: defaults, file syntax, overrides, hostile values. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

static char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;

	strcpy(path, "/tmp/ph-conf-XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

Test(conf, defaults_match_documented_values)
{
	struct pconf c;
	const char *why;

	conf_defaults(&c);
	cr_assert_eq(c.sip_port, 5060);
	cr_assert_eq(c.stun_port, 3478);
	cr_assert_eq(conf_hop_port(&c, 1), 3480);
	cr_assert_eq(conf_hop_port(&c, 8), 3487);
	cr_assert_eq(c.n_listen, 2);
	cr_assert(c.udp && c.tcp && !c.tls);
	cr_assert_eq(c.tls_port, 5061);
	cr_assert_eq(c.min_expires, 60);
	cr_assert_eq(c.max_expires, 7200);
	cr_assert_eq(c.default_expires, 3600);
	cr_assert_eq(conf_check(&c, &why), 0);
}

/* The shipped example must parse and change nothing. */
Test(conf, example_file_is_the_defaults)
{
	struct pconf def, c;
	char err[256];
	char path[512];

	snprintf(path, sizeof path, "%s/conf/pinholed.conf",
		 getenv("top_srcdir") ? getenv("top_srcdir") : SRCDIR);
	conf_defaults(&def);
	conf_defaults(&c);
	cr_assert_eq(conf_load(&c, path, err, sizeof err), 0, "%s", err);
	cr_assert_eq(memcmp(&c, &def, sizeof c), 0);
}

Test(conf, file_errors_name_file_line_and_key)
{
	struct pconf c;
	char err[256];
	char *p = write_tmp("sip_port = 5070\n\n# x\nstun_port = 99999\n");

	conf_defaults(&c);
	cr_assert_neq(conf_load(&c, p, err, sizeof err), 0);
	cr_assert(strstr(err, ":4: stun_port"), "%s", err);
	cr_assert_eq(c.sip_port, 5060, "nothing applied from a bad file");
	unlink(p);

	p = write_tmp("no_such_key = 1\n");
	cr_assert_neq(conf_load(&c, p, err, sizeof err), 0);
	cr_assert(strstr(err, "unknown key"), "%s", err);
	unlink(p);

	p = write_tmp("listen\n");
	cr_assert_neq(conf_load(&c, p, err, sizeof err), 0);
	cr_assert(strstr(err, "key = value"), "%s", err);
	unlink(p);
}

Test(conf, overrides_and_lists)
{
	struct pconf c;
	const char *why;

	conf_defaults(&c);
	cr_assert_eq(conf_set_arg(&c, "listen = 127.0.0.1, ::1", &why), 0);
	cr_assert_eq(c.n_listen, 2);
	cr_assert_eq(ph_addr_af(&c.listen[1]), AF_INET6);
	cr_assert_eq(conf_set_arg(&c, "transports=tcp", &why), 0);
	cr_assert(!c.udp && c.tcp);
	cr_assert_eq(conf_set_arg(&c, "domains=a.example, b.example", &why), 0);
	cr_assert_eq(c.n_domains, 2);
	cr_assert_str_eq(c.domains[1], "b.example");
}

Test(conf, relay_on_other_hosts)
{
	struct pconf c;
	const char *why;
	struct ph_addr want;

	conf_defaults(&c);
	cr_assert(c.relay);
	cr_assert_eq(c.n_relay_ng, 0);
	cr_assert_eq(conf_set_arg(&c, "relay = ng:198.18.0.1:2223 ,ng:[2001:db8::1]:22222",
				  &why), 0, "%s", why);
	cr_assert(!c.relay);
	cr_assert_eq(c.n_relay_ng, 2);
	ph_addr_set(&want, "2001:db8::1", 22222);
	cr_assert(ph_addr_eq(&c.relay_ng[1], &want));
	cr_assert_eq(conf_check(&c, &why), 0, "%s", why);
	cr_assert_eq(conf_set_arg(&c, "relay=internal", &why), 0);
	cr_assert(c.relay);
	cr_assert_eq(c.n_relay_ng, 0);
}

Test(conf, hostile_values_rejected_and_nothing_changed)
{
	static const char *bad[] = {
		"sip_port=0", "sip_port=65536", "sip_port=-1", "sip_port=5060x",
		"sip_port=99999999999999999999999", "sip_port=", "stun_port=65530",
		"min_expires=0", "listen=localhost", "listen=", "listen=1.2.3.4.5",
		"listen=1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,6.6.6.6,7.7.7.7,8.8.8.8,9.9.9.9",
		"transports=sctp", "transports=", "log=file", "log_level=loud",
		"domains=a b", "stun_alt_address=example.org",
		"relay=ng:", "relay=ng:1.2.3.4", "relay=ng:1.2.3.4:0",
		"relay=ng:relay.example:2223", "relay=1.2.3.4:2223",
		"relay=ng:1.2.3.4:2223,", "relay=internal, ng:1.2.3.4:2223",
		"relay=ng:1.1.1.1:1,ng:1.1.1.1:2,ng:1.1.1.1:3,ng:1.1.1.1:4,"
		"ng:1.1.1.1:5,ng:1.1.1.1:6,ng:1.1.1.1:7,ng:1.1.1.1:8,ng:1.1.1.1:9",
		"transports=tls1", "tls_port=0", "tls_port=65536",
	};
	struct pconf c, def;
	const char *why;

	conf_defaults(&def);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		c = def;
		cr_assert_neq(conf_set_arg(&c, bad[i], &why), 0, "%s", bad[i]);
		cr_assert_eq(memcmp(&c, &def, sizeof c), 0, "%s changed", bad[i]);
	}
}

Test(conf, cross_key_checks)
{
	struct pconf c;
	const char *why;

	conf_defaults(&c);
	conf_set_arg(&c, "min_expires=100", &why);
	conf_set_arg(&c, "max_expires=50", &why);
	cr_assert_neq(conf_check(&c, &why), 0);

	conf_defaults(&c);
	conf_set_arg(&c, "sip_port=3480", &why);
	cr_assert_neq(conf_check(&c, &why), 0);
	cr_assert(strstr(why, "collides"));

	/* the default listen (every address) would take the alternate
	 * address's STUN ports: said at start, not "address in use" */
	conf_defaults(&c);
	cr_assert_eq(conf_set_arg(&c, "stun_alt_address=192.0.2.2", &why), 0);
	cr_assert_neq(conf_check(&c, &why), 0);
	cr_assert(strstr(why, "listen = IP"), "%s", why);
	conf_set_arg(&c, "listen=192.0.2.2", &why);
	cr_assert_neq(conf_check(&c, &why), 0, "the alternate as the primary");
	conf_set_arg(&c, "listen=192.0.2.1, ::", &why);
	cr_assert_eq(conf_check(&c, &why), 0, "%s", why);
}

/* TLS needs a certificate and key, and a port of its own. */
Test(conf, tls_needs_its_files_and_port)
{
	struct pconf c;
	const char *why;

	conf_defaults(&c);
	cr_assert_eq(conf_set_arg(&c, "transports=udp, TLS", &why), 0);
	cr_assert(c.udp && !c.tcp && c.tls);
	cr_assert_neq(conf_check(&c, &why), 0);
	cr_assert(strstr(why, "tls_certificate and tls_key"), "%s", why);
	cr_assert_eq(conf_set_arg(&c, "tls_certificate=/etc/p/cert.pem", &why), 0);
	cr_assert_neq(conf_check(&c, &why), 0, "no key");
	cr_assert_eq(conf_set_arg(&c, "tls_key=/etc/p/key.pem", &why), 0);
	cr_assert_eq(conf_check(&c, &why), 0, "%s", why);
	/* a TLS port is a TCP port: not sip_port while TCP is served */
	conf_set_arg(&c, "tls_port=5060", &why);
	cr_assert_eq(conf_check(&c, &why), 0, "UDP alone on 5060: %s", why);
	conf_set_arg(&c, "transports=udp, tcp, tls", &why);
	cr_assert_neq(conf_check(&c, &why), 0);
	conf_set_arg(&c, "tls_port=3480", &why);
	cr_assert_neq(conf_check(&c, &why), 0, "a hop-test port");
	/* without tls in transports the files are not needed */
	conf_defaults(&c);
	cr_assert_eq(conf_set_arg(&c, "tls_port=3480", &why), 0);
	cr_assert_eq(conf_check(&c, &why), 0, "%s", why);
}

/* upstream: the PBX of edge mode, empty by default. */
Test(conf, upstream)
{
	struct pconf c;
	const char *why;
	char ip[64];

	conf_defaults(&c);
	cr_assert(!ph_addr_isset(&c.upstream));
	cr_assert_eq(conf_set(&c, "upstream", "sip:198.18.0.1", &why), 0);
	ph_addr_ip_print(&c.upstream, ip, sizeof ip);
	cr_assert_str_eq(ip, "198.18.0.1");
	cr_assert_eq(ph_addr_port(&c.upstream), 5060);
	cr_assert(!c.upstream_tcp);
	cr_assert_eq(conf_set(&c, "upstream", "sip:[2001:db8::1]:5070;transport=tcp",
			      &why), 0);
	cr_assert_eq(ph_addr_port(&c.upstream), 5070);
	cr_assert(c.upstream_tcp);
	cr_assert_eq(conf_set(&c, "upstream", "", &why), 0);
	cr_assert(!ph_addr_isset(&c.upstream));
	cr_assert_neq(conf_set(&c, "upstream", "pbx.example.com", &why), 0);
	cr_assert_neq(conf_set(&c, "upstream", "sip:pbx.example.com", &why), 0);
	cr_assert_neq(conf_set(&c, "upstream", "sip:198.18.0.1;transport=sctp", &why), 0);
	cr_assert(!ph_addr_isset(&c.upstream));
}
