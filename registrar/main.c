/* pinholed: the pinhole registrar and communication manager. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "conf.h"
#include "log.h"
#include "sipd.h"
#include "tcplimit.h"
#include "tlsdir.h"

static const char usage[] =
"Usage: pinholed [OPTION]...\n"
"pinholed is the registrar of pinhole: endpoints register their firewall\n"
"windows with it, and it tells each call who opens and who transmits, so\n"
"that RTP flows directly between firewalled endpoints.\n"
"\n"
"It serves SIP REGISTER (RFC 3261 section 10) and OPTIONS over UDP, TCP and\n"
"TLS (transports; TLS on tls_port), keeps each binding's Firewall-Window\n"
"and flow (RFC 3581), answers CRLF keepalives on TCP and TLS (RFC 5626),\n"
"and runs a STUN binding service (RFC 8489, RFC 5780)\n"
"with pinhole's hop test on stun_port .. stun_port + 9 and on the SIP UDP\n"
"port. It proxies calls to registered users (RFC 3261 section 16), tells\n"
"each side its part in the media (Firewall-Punch), and relays the media of\n"
"calls with no direct path and of phones without pinhole on relay_ports\n"
"(relay = internal, on its own threads; relay = ng:IP:PORT, ...: relays on\n"
"other hosts, pinhole-relayd or rtpengine, over rtpengine's ng protocol;\n"
"off: such calls get 503).\n"
"With upstream = sip:IP[:PORT] it stands in front of that PBX instead:\n"
"REGISTER goes to the PBX with a Path (RFC 3327) and is stored on its 2xx,\n"
"phones' calls go to the PBX and its calls come back to the phones.\n"
"\n"
"With users = FILE it authenticates phones by digest (RFC 3261 section 22,\n"
"SHA-256 and MD5, RFC 8760): REGISTER is challenged with 401, calls with\n"
"407; sources that keep failing are banned (auth_ban_* keys). Add users\n"
"with pinholed-passwd [-r REALM] FILE USER. Without users it is open to\n"
"anyone, and says so at start.\n"
"\n"
"Options:\n"
"  -c, --config FILE   read FILE (key = value lines; see pinholed.conf).\n"
"                      Without -c the built-in defaults are used, which\n"
"                      are the values the example pinholed.conf shows.\n"
"  -o, --set KEY=VALUE set one configuration key; applied after FILE, in\n"
"                      order; may be given many times.\n"
"  -f, --foreground    stay in the foreground (default: become a daemon,\n"
"                      logging to syslog).\n"
"  -v, --verbose       log at debug level (overrides log_level).\n"
"  -t, --check         check the configuration, print it valid or not, exit.\n"
"  -h, --help          show this help and exit.\n"
"  -V, --version       show the version and exit.\n"
"\n"
"Signals: SIGTERM and SIGINT stop pinholed cleanly: new calls get 503,\n"
"calls being set up get up to 1.5 s to end, calls in progress get their\n"
"reports (with store = file, relayed ones keep their relay ports in the\n"
"store: the next start resumes their media), every binding answered is\n"
"on disk (a second signal stops it at once); SIGUSR1 logs counters;\n"
"SIGHUP reads the users file again (bindings and calls go on).\n"
"\n"
"Exit status: 0 after a clean stop, 1 on a configuration error, 2 when a\n"
"socket cannot be opened or another start-up step fails.\n"
"\n"
"Example:\n"
"  pinholed -f -c /etc/pinhole/pinholed.conf -o log_level=debug\n";

struct opts {
	struct pconf conf;
	bool foreground, check;
};

static void die_conf(const char *what, const char *why)
{
	fprintf(stderr, "pinholed: %s: %s\n", what, why);
	exit(1);
}

/* path made absolute: a daemon runs in /, where sipd reads the TLS files
 * again and SIGHUP the users file */
static void make_absolute(char *path, size_t size)
{
	char abs[PATH_MAX];

	if (*path && *path != '/' && realpath(path, abs) && strlen(abs) < size)
		strcpy(path, abs);
}

/* The TLS files read, before pinholed becomes a daemon: a bad one is a
 * configuration error on the terminal, not a line in syslog. sipd reads
 * them again at start (tlsdir.h). */
static void check_tls_files(struct pconf *c)
{
	char dir[TLSDIR_LEN];

	if (!c->tls)
		return;
	make_absolute(c->tls_certificate, sizeof c->tls_certificate);
	make_absolute(c->tls_key, sizeof c->tls_key);
	make_absolute(c->tls_ca, sizeof c->tls_ca);
	if (tlsdir_make(c, dir, sizeof dir))
		die_conf("configuration", "the TLS files (above) are not usable");
	tlsdir_remove(dir);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"set", required_argument, NULL, 'o'},
		{"foreground", no_argument, NULL, 'f'},
		{"verbose", no_argument, NULL, 'v'},
		{"check", no_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *file = NULL, *why;
	bool verbose = false;
	char err[512];
	int c;

	/* Two passes: the file first, then -o in order, whatever the order
	 * on the command line. */
	while ((c = getopt_long(argc, argv, "c:o:fvthV", lopts, NULL)) != -1) {
		switch (c) {
		case 'c': file = optarg; break;
		case 'o': break;
		case 'f': o->foreground = true; break;
		case 'v': verbose = true; break;
		case 't': o->check = true; break;
		case 'h': fputs(usage, stdout); exit(0);
		case 'V': printf("pinholed %s\n", PACKAGE_VERSION); exit(0);
		default:
			fputs("Try 'pinholed --help' for more information.\n", stderr);
			exit(1);
		}
	}
	if (optind < argc)
		die_conf(argv[optind], "unexpected argument");
	conf_defaults(&o->conf);
	if (file && conf_load(&o->conf, file, err, sizeof err))
		die_conf("configuration", err);
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:o:fvthV", lopts, NULL)) != -1)
		if (c == 'o' && conf_set_arg(&o->conf, optarg, &why))
			die_conf(optarg, why);
	if (conf_check(&o->conf, &why))
		die_conf("configuration", why);
	make_absolute(o->conf.users, sizeof o->conf.users);
	check_tls_files(&o->conf);
	if (verbose)
		o->conf.log_level = LOG_DEBUG;
}

static int daemonize(void)
{
	int fd;

	switch (fork()) {
	case -1: return errno;
	case 0: break;
	default: _exit(0);
	}
	if (setsid() < 0)
		return errno;
	if (chdir("/") < 0)
		return errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static int write_pid_file(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return errno;
	fprintf(f, "%ld\n", (long)getpid());
	return fclose(f) ? errno : 0;
}

struct sigctx {
	su_root_t *root;
	struct sipd *d;
};

static int on_signal(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct signalfd_siginfo si;
	struct sigctx *ctx = (struct sigctx *)arg;

	while (read(w->fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGUSR1) {
			sipd_log_stats(ctx->d);
			continue;
		}
		if (si.ssi_signo == SIGHUP) {
			sipd_reload_users(ctx->d);
			continue;
		}
		log_notice("signal %u: stopping", si.ssi_signo);
		sipd_stop(ctx->d);
	}
	return 0;
}

static int run(const struct pconf *conf)
{
	su_root_t *root;
	struct sipd *d = NULL;
	su_wait_t wait[1];
	struct sigctx ctx;
	sigset_t set;
	int sfd, err;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);

	root = su_root_create(NULL);
	if (!root || sfd < 0)
		return ENOMEM;
	tcplimit_setup(conf->max_tcp_per_source);
	err = sipd_alloc(&d, root, conf);
	ctx.root = root;
	ctx.d = d;
	if (!err && (su_wait_create(wait, sfd, SU_WAIT_IN) < 0 ||
		     su_root_register(root, wait, on_signal,
				      (su_wakeup_arg_t *)&ctx, 0) < 0))
		err = ENOMEM;
	if (!err) {
		char tls[32] = "";

		if (conf->tls)
			snprintf(tls, sizeof tls, ", TLS port %u", conf->tls_port);
		log_notice("pinholed %s ready: SIP port %u%s, STUN ports %u-%u",
			   PACKAGE_VERSION, conf->sip_port, tls, conf->stun_port,
			   conf->stun_port + 9);
		su_root_run(root);
		sipd_log_stats(d);
	}
	sipd_free(d);
	su_root_destroy(root);
	close(sfd);
	return err;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int err;

	parse_args(argc, argv, &o);
	if (o.check) {
		puts("pinholed: configuration is valid");
		return 0;
	}
	if (!o.foreground) {
		o.conf.log_syslog = true; /* stderr is gone */
		if ((err = daemonize())) {
			fprintf(stderr, "pinholed: cannot become a daemon: %s\n",
				strerror(err));
			return 2;
		}
	}
	log_setup(o.conf.log_syslog, o.conf.log_level);
	if (*o.conf.pid_file && (err = write_pid_file(o.conf.pid_file))) {
		log_err("cannot write %s: %s", o.conf.pid_file, strerror(err));
		return 2;
	}
	su_init();
	err = run(&o.conf);
	su_deinit();
	if (*o.conf.pid_file)
		unlink(o.conf.pid_file);
	if (err) {
		log_err("cannot start: %s", strerror(err));
		return 2;
	}
	return 0;
}
