/* pinhole-call: a small softphone for test calls through pinholed, on
 * sofia-sip's nua (signalling, no media engine) and libpinhole (window,
 * hop count, the part pinholed gives it). It plays G.711 frames of a tone
 * every 20 ms and reports, as one JSON object on the last line of stdout,
 * the route, its role, the windows, the time from the 2xx to the first
 * media packet, and the packets sent, received and lost. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#define NUA_MAGIC_T struct app
#define NUA_HMAGIC_T struct app
#define SU_ROOT_MAGIC_T struct app
#define SU_WAKEUP_ARG_T struct app
#define SU_TIMER_ARG_T struct app
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include <stdarg.h>

#include <pinhole.h>

#include "calltls.h"
#include "digest.h"
#include "tone.h"

static const char usage[] =
"Usage: pinhole-call --registrar HOST[:PORT] --user NAME (--answer | --call USER)\n"
"                    [--password SECRET] [--duration SECONDS] [--timeout SECONDS] [-v]\n"
"                    [--transport udp|tcp|tls [--ca FILE]]\n"
"A small softphone for test calls between firewalled endpoints through\n"
"pinholed. It measures its RTP socket's window and firewall against\n"
"pinholed's STUN service (port 3478 on the registrar's address), registers\n"
"NAME with that Firewall-Window, then places one call to USER or answers\n"
"one call, plays its part as pinholed tells it (open, transmit, local),\n"
"sends G.711 frames every 20 ms for --duration seconds (default 3), and\n"
"prints one JSON object as the last line of stdout:\n"
"  route         direct, local, relay or none (what pinholed decided)\n"
"  role          open, transmit, local, relay or none\n"
"  window, peer  this RTP socket's window and where media went\n"
"  first_media_ms  from the 2xx (sent or received) to the first packet in\n"
"  sent, received, lost   RTP packets; via_pinholed: media went through\n"
"                pinholed's relay (told to, or fell back to it)\n"
"\n"
"Options:\n"
"  -r, --registrar HOST[:PORT]  pinholed (numeric IP; port 5060, over TLS\n"
"                               5061)\n"
"  -u, --user NAME              the user to register\n"
"  -a, --answer                 wait for one call and answer it\n"
"  -c, --call USER              call USER at the registrar's domain\n"
"  -p, --password SECRET        answer digest challenges (401/407, of\n"
"                               pinholed or of a PBX behind it) as NAME\n"
"                               with SECRET, SHA-256 or MD5 (the first the\n"
"                               server lists); default: $PINHOLE_PASSWORD\n"
"  -D, --domain NAME            the domain of NAME and USER (default the\n"
"                               registrar's IP); requests still go to it\n"
"  -d, --duration SECONDS       media time (default 3)\n"
"  -t, --timeout SECONDS        give up after this long in all (default 20)\n"
"  -T, --transport T            signalling to pinholed over udp (default),\n"
"                               tcp or tls (registers and calls through it)\n"
"  -C, --ca FILE                over TLS: check pinholed's certificate\n"
"                               against these CA certificates (PEM) and its\n"
"                               name against HOST (its CN or a DNS\n"
"                               subjectAltName: sofia-sip 1.12.11 does not\n"
"                               read IP ones); without it, not checked\n"
"  -v, --verbose                log signalling and media events on stderr\n"
"  -h, --help                   show this help\n"
"Exit status: 0 only when media flowed both ways; 1 when it did not;\n"
"2 on bad arguments or when pinholed did not answer.\n";

struct app {
	su_root_t *root;
	nua_t *nua;
	nua_handle_t *reg, *call;
	struct ph_addr registrar, stun;
	const char *user, *callee, *password, *domain;
	const char *transport, *ca;   /* transport NULL: UDP */
	char reg_url[160], call_uri[256];  /* the Request-URIs */
	bool answer, verbose;
	unsigned auth_tries;
	bool registered;              /* a REGISTER got its 2xx */
	unsigned reg_fails;           /* ... and those after it that failed */
	uint64_t t_reregister;        /* when to register again; 0: not */
	unsigned duration_s, timeout_s;

	int fd;
	su_wait_t wait[1];
	su_timer_t *tick;
	struct ph_addr local, window;
	struct ph_fwwin fw;
	char fwhdr[PH_FWWIN_STRLEN + 24];

	struct ph_punch punch;
	struct ph_path path;
	bool in_call, hung_up;
	uint64_t t_2xx, t_media_end, t_end;
	struct tone tone;
	struct ph_addr early;         /* media that came before our part did */
	size_t early_len;
	int done;                     /* 1: shutting down, 2: shut down */
};

static void say(struct app *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(struct app *a, const char *fmt, ...)
{
	va_list ap;

	if (!a->verbose)
		return;
	va_start(ap, fmt);
	fputs("pinhole-call: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* ---- before signalling: the window and the firewall ------------------- */

static int probe(struct app *a)
{
	struct ph_probe_conf conf = {
		.server = a->stun, .local = a->local,
		.stun = {200, 4, 4}, .fallback_hops = 2,
	};
	struct ph_probe *p;
	int err = ph_probe_alloc(&p, &conf, ph_sock_send, &a->fd);

	if (err)
		return err;
	err = ph_sock_probe(a->fd, p, 10000);
	if (!err)
		err = ph_probe_result(p, &a->fw);
	if (!err)
		err = ph_probe_window(p, &a->window);
	ph_probe_free(p);
	if (err)
		return err;
	strcpy(a->fwhdr, "Firewall-Window: ");
	ph_fwwin_encode(&a->fw, a->fwhdr + strlen(a->fwhdr), PH_FWWIN_STRLEN);
	strcat(a->fwhdr, "\r\n");
	return 0;
}

/* PROTOCOL.md section 3: our window in c=, m= and a=fw-window. */
static void make_sdp(const struct app *a, char *buf, size_t size)
{
	char wip[INET6_ADDRSTRLEN], lip[INET6_ADDRSTRLEN];
	const char *ipv = ph_addr_af(&a->window) == AF_INET6 ? "IP6" : "IP4";

	ph_addr_ip_print(&a->window, wip, sizeof wip);
	ph_addr_ip_print(&a->local, lip, sizeof lip);
	snprintf(buf, size,
		 "v=0\r\no=pinhole %u 1 IN %s %s\r\ns=pinhole-call\r\n"
		 "c=IN %s %s\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
		 "a=rtpmap:0 PCMU/8000\r\na=fw-window:%s %u\r\na=fw-local:%s %u\r\n",
		 a->tone.ssrc, ipv, wip, ipv, wip, ph_addr_port(&a->window), wip,
		 ph_addr_port(&a->window), lip, ph_addr_port(&a->local));
}

/* Our part: a=fw-punch of the first m-line, else Firewall-Punch, else
 * (no instruction: a plain peer) its c= and m= port. */
static void read_part(struct app *a, const sip_t *sip)
{
	const char *p, *why;

	memset(&a->punch, 0, sizeof a->punch);
	if (sip->sip_payload &&
	    (p = strstr(sip->sip_payload->pl_data, "a=fw-punch:"))) {
		size_t n = strcspn(p + 11, "\r\n");
		if (!ph_punch_sdp_decode(&a->punch, p + 11, n, &why))
			return;
	}
	for (const sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
		if (u->un_name && !strcasecmp(u->un_name, "Firewall-Punch") &&
		    !ph_punch_hdr_decode(&a->punch, u->un_value,
					 strlen(u->un_value), &why))
			return;
	if (sip->sip_payload) {
		const char *sdp = sip->sip_payload->pl_data;
		const char *m = strstr(sdp, "m=audio ");
		const char *c = m ? strstr(m, "c=IN IP") : NULL, *next;
		char ip[64];
		unsigned port;

		/* the audio line's own c= wins over the session's (RFC 4566
		 * 5.7): an ICE agent may put its STUN-learned address there
		 * and its private one at session level */
		next = m ? strstr(m + 1, "\nm=") : NULL;
		if (!c || (next && c > next)) {
			c = strstr(sdp, "c=IN IP");
			if (c && m && c > m)
				c = NULL;
		}
		if (c && m && sscanf(c + 9, "%63s", ip) == 1 &&
		    sscanf(m + 8, "%u", &port) == 1 && port && port < 65536 &&
		    !ph_addr_set(&a->punch.peer, ip, (uint16_t)port))
			a->punch.role = PH_ROLE_TRANSMIT; /* plain: just send */
	}
}

/* ---- media: a tone (tone.c) on the path ------------------------------- */

static void send_frame(struct app *a, uint64_t now)
{
	uint8_t pkt[TONE_PKT];

	tone_frame(&a->tone, pkt);
	if (!ph_path_send(&a->path, pkt, sizeof pkt, now))
		tone_sent(&a->tone);
}

static int on_rtp(struct app *a, su_wait_t *w, struct app *arg)
{
	uint8_t buf[1500];
	struct ph_addr src;
	ssize_t n;

	while ((n = ph_sock_recv(a->fd, &src, buf, sizeof buf)) >= 0) {
		bool first = !a->path.stats.received;
		if (!a->in_call && n > 0) {
			/* a transmitting callee may be faster than its 2xx */
			a->early = src;
			a->early_len = (size_t)n;
		}
		if (!a->in_call || !ph_path_recv(&a->path, &src, (size_t)n, ph_now_ms()))
			continue;
		if (first && a->punch.role == PH_ROLE_OPEN)
			send_frame(a, ph_now_ms()); /* latched: answer at once */
		if (first) {
			char s[PH_ADDR_STRLEN];
			ph_addr_print(&src, s, sizeof s);
			say(a, "first media from %s after %llu ms", s,
			    (unsigned long long)(a->path.stats.first_rx_ms - a->t_2xx));
		}
		tone_count(&a->tone, buf, (size_t)n);
	}
	return 0;
}

/* ---- the call ------------------------------------------------------------ */

static const char *route_of(enum ph_role r)
{
	switch (r) {
	case PH_ROLE_OPEN: case PH_ROLE_TRANSMIT: return "direct";
	case PH_ROLE_LOCAL: return "local";
	case PH_ROLE_RELAY: return "relay";
	default: return "none";
	}
}

static void start_media(struct app *a, uint64_t now)
{
	char peer[PH_ADDR_STRLEN] = "-";

	if (!ph_addr_isset(&a->punch.peer)) {
		say(a, "no part and no peer address: no media");
		return;
	}
	ph_addr_print(&a->punch.peer, peer, sizeof peer);
	say(a, "part: %s toward %s (hops %u)", ph_role_name(a->punch.role), peer,
	    a->fw.hops);
	ph_path_start(&a->path, &a->punch, a->fw.hops, a->fw.lifetime,
		      ph_sock_send, &a->fd, now);
	a->in_call = true;
	a->t_media_end = now + a->duration_s * 1000ULL;
	if (ph_addr_isset(&a->early) &&
	    ph_path_recv(&a->path, &a->early, a->early_len, now))
		say(a, "media was already coming in: latched at once");
	if (a->punch.role != PH_ROLE_OPEN || a->path.state == PH_PATH_LATCHED)
		send_frame(a, now); /* no waiting for the next 20 ms tick */
}

/* How long after --timeout a shutdown may take. */
#define SHUTDOWN_MS 2000

static void finish(struct app *a)
{
	if (a->done)
		return;
	a->done = 1;
	nua_shutdown(a->nua);
}

static void send_register(struct app *a, int status, const char *cred);

static void on_tick(struct app *a, su_timer_t *t, struct app *arg)
{
	uint64_t now = ph_now_ms();

	su_timer_set(t, on_tick, a); /* again in 20 ms */
	if (a->t_reregister && now >= a->t_reregister && !a->done) {
		a->t_reregister = 0;
		send_register(a, 0, NULL);
	}
	if (now >= a->t_end + SHUTDOWN_MS) {
		/* nua's shutdown waits for every transaction, and one on a TLS
		 * connection that failed its handshake (a certificate --ca
		 * refused) ends only at Timer F, 32 s */
		say(a, "shutdown incomplete");
		su_root_break(a->root);
		return;
	}
	if (now >= a->t_end) {
		if (!a->done)
			say(a, "timeout");
		finish(a);
		return;
	}
	if (!a->in_call)
		return;
	/* the transmitter sends at once; the opener once it latched */
	if (now < a->t_media_end &&
	    (a->punch.role != PH_ROLE_OPEN || a->path.state != PH_PATH_WAITING))
		send_frame(a, now);
	ph_path_tick(&a->path, now);
	if (now >= a->t_media_end + 500 && !a->hung_up && a->call && !a->answer) {
		a->hung_up = true;
		nua_bye(a->call, TAG_END());
	}
}

static void on_invite(struct app *a, nua_handle_t *nh, const sip_t *sip)
{
	char sdp[1024];

	if (a->call || !a->answer) {
		nua_respond(nh, 486, "Busy Here", TAG_END());
		nua_handle_destroy(nh);
		return;
	}
	a->call = nh;
	read_part(a, sip);
	make_sdp(a, sdp, sizeof sdp);
	/* PROTOCOL.md section 4 step 3: open, then answer */
	a->t_2xx = ph_now_ms();
	start_media(a, a->t_2xx);
	nua_respond(nh, 200, "OK", SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		    SIPTAG_PAYLOAD_STR(sdp), SIPTAG_HEADER_STR(a->fwhdr), TAG_END());
}

/* The INVITE; again with credentials (RFC 3261 section 22.2: a new
 * request, on a new handle here) after a challenge. */
static void place_call(struct app *a, int status, const char *cred)
{
	char *to = a->call_uri, from[256], sdp[1024], host[PH_ADDR_STRLEN];

	ph_addr_print(&a->registrar, host, sizeof host);
	snprintf(to, sizeof a->call_uri, "sip:%s@%s", a->callee,
		 a->domain ? a->domain : host);
	/* From: the registered AoR (a PBX behind pinholed knows us by it) */
	ph_addr_ip_print(&a->registrar, host, sizeof host);
	snprintf(from, sizeof from, "sip:%s@%s", a->user,
		 a->domain ? a->domain : host);
	make_sdp(a, sdp, sizeof sdp);
	if (a->call)
		nua_handle_destroy(a->call);
	a->call = nua_handle(a->nua, a, SIPTAG_TO_STR(to), SIPTAG_FROM_STR(from),
			     TAG_END());
	nua_invite(a->call, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
		   SIPTAG_PAYLOAD_STR(sdp), SIPTAG_HEADER_STR(a->fwhdr),
		   TAG_IF(status == 401, SIPTAG_AUTHORIZATION_STR(cred)),
		   TAG_IF(status == 407, SIPTAG_PROXY_AUTHORIZATION_STR(cred)),
		   TAG_END());
	say(a, "calling %s", to);
}

/* The REGISTER with our Firewall-Window; again with credentials after a
 * challenge (on the same handle: same Call-ID, next CSeq, as RFC 3261
 * section 22.2 says). */
static void send_register(struct app *a, int status, const char *cred)
{
	char aor[256], host[PH_ADDR_STRLEN];

	if (!a->reg) {
		ph_addr_ip_print(&a->registrar, host, sizeof host);
		snprintf(aor, sizeof aor, "sip:%s@%s", a->user,
			 a->domain ? a->domain : host);
		a->reg = nua_handle(a->nua, a, SIPTAG_TO_STR(aor),
				    SIPTAG_FROM_STR(aor), TAG_END());
	}
	nua_register(a->reg, NUTAG_REGISTRAR((url_string_t *)a->reg_url),
		     NUTAG_M_USERNAME(a->user), SIPTAG_EXPIRES_STR("300"),
		     SIPTAG_HEADER_STR(a->fwhdr),
		     TAG_IF(status == 401, SIPTAG_AUTHORIZATION_STR(cred)),
		     TAG_IF(status == 407, SIPTAG_PROXY_AUTHORIZATION_STR(cred)),
		     TAG_END());
}

/* A refresh failed, once registered: nua registers again at once when
 * the connection of its registration closes (pinholed restarting), which
 * fails while pinholed is still down. Again after 1 s, doubling to 16 s,
 * until --timeout: a phone is not to give up on its registrar. */
static void register_again(struct app *a)
{
	unsigned ms = 1000u << (a->reg_fails < 4 ? a->reg_fails : 4);

	a->reg_fails++;
	a->t_reregister = ph_now_ms() + ms;
	say(a, "REGISTER: again in %u ms", ms);
}

/* The first challenge we can answer (RFC 8760 section 2.4: the server
 * lists them in its order of preference, SHA-256 first): Digest, an
 * algorithm of ours, and qop=auth or no qop. Its values unquoted, in home. */
static int pick_challenge(su_home_t *home, const msg_auth_t *au,
			  struct digest_chall *ch)
{
	for (; au; au = au->au_next) {
		const char *alg = msg_params_find(au->au_params, "algorithm=");
		const char *qop = msg_params_find(au->au_params, "qop=");
		const char *realm = msg_params_find(au->au_params, "realm=");
		const char *nonce = msg_params_find(au->au_params, "nonce=");
		const char *opaque = msg_params_find(au->au_params, "opaque=");

		if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") ||
		    !realm || !nonce || digest_alg_parse(alg, &ch->alg))
			continue;
		/* RFC 7616 3.3: qop, a quoted list; only "auth" is answered */
		ch->qop_auth = qop != NULL;
		if (qop && !digest_qop_auth(qop, strlen(qop)))
			continue;
		ch->realm = msg_unquote_dup(home, realm);
		ch->nonce = msg_unquote_dup(home, nonce);
		ch->opaque = opaque ? msg_unquote_dup(home, opaque) : NULL;
		return ch->realm && ch->nonce ? 0 : ENOMEM;
	}
	return ENOENT;
}

/* A 401/407 (RFC 3261 section 22), answered once per request; a second
 * challenge after that means the credentials were refused. MD5 by
 * sofia-sip's own client (nua_authenticate: EALREADY); SHA-256, which it
 * does not know (and on which it gives up, so that it is not waiting for
 * credentials), by our own digest: the credentials into cred, and 0 for
 * a request sent again with them. */
static int authenticate(struct app *a, nua_handle_t *nh, int status,
			const sip_t *sip, const char *method, const char *uri,
			char *cred, size_t size)
{
	struct digest_chall ch;
	struct digest_cred c = {.user = a->user, .pass = a->password,
				.method = method, .uri = uri, .nc = 1};
	uint8_t r[PH_STUN_TID_LEN];
	char cnonce[2 * PH_STUN_TID_LEN + 1];
	su_home_t home[1] = {SU_HOME_INIT(home)};
	int err;

	if ((status != 401 && status != 407) || !sip || !a->password ||
	    a->auth_tries >= 2)
		return EPERM;
	err = pick_challenge(home, status == 401 ? sip->sip_www_authenticate :
			     sip->sip_proxy_authenticate, &ch);
	if (err) {
		say(a, "%d: no challenge that we can answer", status);
		goto out;
	}
	a->auth_tries++;
	say(a, "%d: answering the challenge of realm \"%s\" with %s", status,
	    ch.realm, ch.alg == DIGEST_SHA256 ? "SHA-256" : "MD5");
	if (ch.alg == DIGEST_MD5) {
		/* NUTAG_AUTH: "scheme:realm:user:password", realm quoted */
		snprintf(cred, size, "Digest:\"%s\":%s:%s", ch.realm, a->user,
			 a->password);
		nua_authenticate(nh, NUTAG_AUTH(cred), TAG_END());
		err = EALREADY;
		goto out;
	}
	ph_stun_tid_new(r); /* RFC 7616 3.4: a fresh, random cnonce */
	for (size_t i = 0; i < sizeof r; i++)
		sprintf(cnonce + 2 * i, "%02x", r[i]);
	c.cnonce = cnonce;
	/* each challenge brings a nonce of its own: nc starts at 1 */
	err = digest_credentials(cred, size, &ch, &c);
 out:
	su_home_deinit(home);
	return err;
}

static void on_event(nua_event_t event, int status, char const *phrase,
		     nua_t *nua, struct app *a, nua_handle_t *nh,
		     struct app *hmagic, sip_t const *sip, tagi_t tags[])
{
	char cred[1024];
	int err;

	switch (event) {
	case nua_r_register:
		say(a, "REGISTER: %d %s", status, phrase);
		if (status >= 200 && status < 300) {
			a->registered = true;
			a->reg_fails = 0;
		}
		err = authenticate(a, nh, status, sip, "REGISTER", a->reg_url,
				   cred, sizeof cred);
		if (!err)
			send_register(a, status, cred);
		if (!err || err == EALREADY)
			break;
		if (status >= 200)
			a->auth_tries = 0;
		if (status >= 300 && a->registered)
			register_again(a);
		else if (status >= 300)
			finish(a);
		else if (status >= 200 && !a->answer && !a->call)
			place_call(a, 0, NULL);
		break;
	case nua_i_invite:
		on_invite(a, nh, sip);
		break;
	case nua_r_invite:
		say(a, "INVITE: %d %s", status, phrase);
		err = authenticate(a, nh, status, sip, "INVITE", a->call_uri,
				   cred, sizeof cred);
		if (!err)
			place_call(a, status, cred);
		if (!err || err == EALREADY)
			break;
		if (status >= 200 && status < 300 && sip && !a->in_call) {
			a->t_2xx = ph_now_ms();
			read_part(a, sip);
			start_media(a, a->t_2xx);
		} else if (status >= 300) {
			finish(a);
		}
		break;
	case nua_i_bye:
	case nua_r_bye:
		say(a, "call ended");
		finish(a);
		break;
	case nua_r_shutdown:
		if (status >= 200) {
			a->done = 2;
			su_root_break(a->root);
		}
		break;
	default:
		break;
	}
}

/* ---- main ---------------------------------------------------------------- */

static bool is_tls(const struct app *a)
{
	return a->transport && !strcmp(a->transport, "tls");
}

static void parse_args(int argc, char **argv, struct app *a)
{
	static const struct option lo[] = {
		{"registrar", 1, NULL, 'r'}, {"user", 1, NULL, 'u'},
		{"answer", 0, NULL, 'a'}, {"call", 1, NULL, 'c'},
		{"duration", 1, NULL, 'd'}, {"timeout", 1, NULL, 't'},
		{"verbose", 0, NULL, 'v'}, {"help", 0, NULL, 'h'},
		{"password", 1, NULL, 'p'},
		{"domain", 1, NULL, 'D'},
		{"transport", 1, NULL, 'T'}, {"ca", 1, NULL, 'C'},
		{NULL, 0, NULL, 0},
	};
	const char *reg = NULL;
	int c;

	a->duration_s = 3;
	a->timeout_s = 20;
	a->password = getenv("PINHOLE_PASSWORD");
	while ((c = getopt_long(argc, argv, "r:u:ac:d:t:p:T:C:vhD:", lo, NULL)) != -1) {
		switch (c) {
		case 'r': reg = optarg; break;
		case 'u': a->user = optarg; break;
		case 'a': a->answer = true; break;
		case 'c': a->callee = optarg; break;
		case 'd': a->duration_s = (unsigned)atoi(optarg); break;
		case 't': a->timeout_s = (unsigned)atoi(optarg); break;
		case 'v': a->verbose = true; break;
		case 'p': a->password = optarg; break;
		case 'D': a->domain = optarg; break;
		case 'T': a->transport = optarg; break;
		case 'C': a->ca = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		default: fputs(usage, stderr); exit(2);
		}
	}
	if (a->transport && !strcmp(a->transport, "udp"))
		a->transport = NULL;
	if ((a->transport && strcmp(a->transport, "tcp") &&
	     strcmp(a->transport, "tls")) || (a->ca && !is_tls(a)) || !reg ||
	    ph_addr_parse(&a->registrar, reg, strlen(reg), is_tls(a) ? 5061 : 5060) ||
	    !a->user || a->answer == (a->callee != NULL) || !a->duration_s ||
	    a->timeout_s <= a->duration_s || optind != argc) {
		fputs(usage, stderr);
		exit(2);
	}
	a->stun = a->registrar;
	ph_addr_set_port(&a->stun, 3478);
}

static void report(const struct app *a)
{
	char w[PH_ADDR_STRLEN] = "-", peer[PH_ADDR_STRLEN] = "-";
	const struct ph_path_stats *st = &a->path.stats;
	long first = st->received ? (long)(st->first_rx_ms - a->t_2xx) : -1;

	ph_addr_print(&a->window, w, sizeof w);
	if (ph_path_target(&a->path))
		ph_addr_print(ph_path_target(&a->path), peer, sizeof peer);
	printf("{\"user\":\"%s\",\"route\":\"%s\",\"role\":\"%s\",\"window\":\"%s\","
	       "\"peer\":\"%s\",\"hops\":%u,\"first_media_ms\":%ld,\"sent\":%lu,"
	       "\"received\":%lu,\"lost\":%lu,\"dropped\":%lu,\"via_pinholed\":%s}\n",
	       a->user, route_of(a->punch.role), ph_role_name(a->punch.role), w,
	       peer, a->fw.hops, first, st->sent, st->received, a->tone.lost,
	       st->dropped,
	       a->punch.role == PH_ROLE_RELAY || st->fell_back ? "true" : "false");
}

/* The RTP socket, and a.local: the routed source IP with the port it holds. */
static int open_rtp(struct app *a)
{
	struct ph_addr any, bound;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int err;

	ph_addr_set(&any, ph_addr_af(&a->registrar) == AF_INET6 ? "::" : "0.0.0.0", 0);
	if ((err = ph_sock_open(&a->fd, &any)))
		return err;
	if (getsockname(a->fd, (struct sockaddr *)&ss, &sl) ||
	    ph_addr_from_sa(&bound, (struct sockaddr *)&ss, sl))
		return errno ? errno : EINVAL;
	if ((err = ph_sock_route_src(&a->registrar, &a->local)))
		return err;
	ph_addr_set_port(&a->local, ph_addr_port(&bound));
	return 0;
}

/* The user agent. Over TCP or TLS pinholed is its outbound proxy too, so
 * that the call goes the way the REGISTER went; with a domain of its own
 * too, so that every request still goes to the registrar. Over TLS its certificate
 * is checked (name and CA) when a CA file is given. */
static int start_nua(struct app *a, const char *reg_url)
{
	char dir[CALLTLS_DIR_LEN] = "";
	int err = is_tls(a) ? calltls_dir_make(a->ca, dir, sizeof dir) : 0;

	if (err) {
		fprintf(stderr, "pinhole-call: --ca %s: %s\n", a->ca, strerror(err));
		return err;
	}
	a->nua = nua_create(a->root, on_event, a,
		NUTAG_URL("sip:0.0.0.0:*"), NUTAG_MEDIA_ENABLE(0),
		TAG_IF(is_tls(a), NUTAG_SIPS_URL("sips:0.0.0.0:*")),
		TAG_IF(is_tls(a), TPTAG_CERTIFICATE(dir)),
		TAG_IF(is_tls(a), TPTAG_TLS_VERIFY_POLICY(
			a->ca ? TPTLS_VERIFY_SUBJECTS_OUT : TPTLS_VERIFY_NONE)),
		TAG_IF(a->transport || a->domain, NUTAG_PROXY(reg_url)),
		NUTAG_OUTBOUND("no-natify no-validate no-options-keepalive"),
		TAG_END());
	if (*dir)
		calltls_dir_remove(dir); /* read when the transports were made */
	return a->nua ? 0 : ENOMEM;
}

/* sofia-sip's loop and user agent, the RTP socket and the media tick on
 * it, and the REGISTER with our Firewall-Window. */
static int start_sip(struct app *a)
{
	char *reg_url = a->reg_url, host[PH_ADDR_STRLEN];

	su_init();
	su_log_set_level(NULL, 0);
	ph_addr_print(&a->registrar, host, sizeof host);
	snprintf(reg_url, sizeof a->reg_url, "%s:%s%s%s", is_tls(a) ? "sips" : "sip",
		 host, a->transport ? ";transport=" : "",
		 a->transport ? a->transport : "");
	a->root = su_root_create(a);
	if (!a->root || start_nua(a, reg_url))
		return ENOMEM;
	su_wait_create(a->wait, a->fd, SU_WAIT_IN);
	su_root_register(a->root, a->wait, on_rtp, a, 0);
	a->tick = su_timer_create(su_root_task(a->root), 20);
	su_timer_set(a->tick, on_tick, a);
	a->t_end = ph_now_ms() + a->timeout_s * 1000ULL;
	send_register(a, 0, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	struct app a = {.fd = -1};
	uint8_t r[PH_STUN_TID_LEN];
	int err;

	parse_args(argc, argv, &a);
	ph_stun_tid_new(r); /* a random SSRC (RFC 3550 section 8.1) */
	memcpy(&a.tone.ssrc, r, sizeof a.tone.ssrc);
	if ((err = open_rtp(&a))) {
		fprintf(stderr, "pinhole-call: RTP socket: %s\n", strerror(err));
		return 2;
	}
	if ((err = probe(&a))) {
		fprintf(stderr, "pinhole-call: pinholed's STUN service did not answer (%s)\n",
			strerror(err));
		return 2;
	}
	say(&a, "%.*s", (int)strlen(a.fwhdr) - 2, a.fwhdr);
	if (start_sip(&a)) {
		fprintf(stderr, "pinhole-call: cannot start the SIP stack\n");
		return 2;
	}
	su_root_run(a.root);

	report(&a);
	su_timer_destroy(a.tick);
	if (a.done == 2) { /* nua_destroy() needs a completed shutdown */
		nua_destroy(a.nua);
		su_root_destroy(a.root);
		su_deinit();
	}
	close(a.fd);
	return a.path.stats.sent && a.path.stats.received ? 0 : 1;
}
