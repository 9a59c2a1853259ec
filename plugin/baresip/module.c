/* pinhole: a media-NAT module for baresip 1.0.0 (medianat=pinhole).
 *
 * Three parts: mnat.c plays each call's streams through libpinhole
 * (windows into the SDP, a=fw-punch's part, media held until the path is
 * ready); probe.c measures this host's firewall once at start; reg.c
 * registers the accounts with medianat=pinhole itself, with
 * Firewall-Window (baresip 1.0.0 has no REGISTER header hook), so those
 * accounts should say regint=0. This file reads the config and holds the
 * parts for the module's lifetime.
 *
 * Config keys (baresip's config file): pinhole_server IP[:PORT] (pinholed's
 * STUN service; default: the account's stunserver), pinhole_hops N
 * (override the hop test), pinhole_register yes|no (default yes),
 * pinhole_regint SECONDS (default 600). Without a server, or when it does
 * not answer, calls go as a plain phone's (pinholed relays them), and the
 * log says so. */
#include <string.h>

#include "pinhole.h"

static struct pinhole_conf cfg;
static struct probe *probe;    /* only with a server and registration */
static struct reg *reg;

static void conf_read(char *srv, size_t size)
{
	struct conf *conf = conf_cur();
	uint32_t hops = 0;

	cfg.do_register = true;
	cfg.regint = 600;
	if (conf) {
		conf_get_str(conf, "pinhole_server", srv, size);
		conf_get_u32(conf, "pinhole_hops", &hops);
		conf_get_bool(conf, "pinhole_register", &cfg.do_register);
		conf_get_u32(conf, "pinhole_regint", &cfg.regint);
	}
	if (hops > 64) {
		warning("pinhole: pinhole_hops %u out of range 1..64: ignored\n", hops);
		hops = 0;
	}
	cfg.hops = hops;
	if (*srv) {
		if (ph_addr_parse(&cfg.server, srv, strlen(srv), 3478))
			warning("pinhole: pinhole_server '%s' is not IP[:PORT]: "
				"using each account's stunserver\n", srv);
		else
			cfg.have_server = true;
	}
}

static int module_init(void)
{
	char srv[128] = "";
	int err;

	memset(&cfg, 0, sizeof cfg);
	conf_read(srv, sizeof srv);
	/* the firewall is measured for the registration: once the accounts
	 * are loaded (200 ms) */
	if (cfg.have_server && cfg.do_register) {
		err = probe_alloc(&probe, &cfg.server, cfg.hops, 200);
		if (!err)
			err = reg_alloc(&reg, probe, cfg.regint);
		if (err) {
			warning("pinhole: cannot start the firewall probe: %m\n", err);
			reg = mem_deref(reg);
			probe = mem_deref(probe);
		}
	}
	err = mnat_pinhole_register(&cfg, probe, reg);
	if (err) {
		warning("pinhole: cannot register the media-NAT: %m\n", err);
		reg = mem_deref(reg);
		probe = mem_deref(probe);
		return err;
	}
	info("pinhole: media-NAT module, server %s\n", cfg.have_server ? srv : "(none)");
	return 0;
}

static int module_close(void)
{
	mnat_pinhole_unregister();
	reg = mem_deref(reg);
	probe = mem_deref(probe);
	return 0;
}

__attribute__((visibility("default")))
const struct mod_export exports = {
	"pinhole",
	"mnat",
	module_init,
	module_close,
};
