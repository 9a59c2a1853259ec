/* nta glue: transports, the callback that receives every request, the
 * REGISTER/OPTIONS answers, the once-a-second tick, and STUN on the SIP
 * UDP port through sofia-sip's STUN server plug-in interface. */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#define TPORT_STUN_SERVER_T struct sipd
#define NTA_AGENT_MAGIC_T struct sipd
#include <sofia-sip/nta.h>
#include <sofia-sip/nta_stateless.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/tport.h>
#include <sofia-sip/tport_plugins.h>
#include <sofia-sip/tport_tag.h>

#include "authsip.h"
#include "call.h"
#include "flow.h"
#include "listen.h"
#include "location.h"
#include "log.h"
#include "overload.h"
#include "proxy.h"
#include "ratelimit.h"
#include "ratelog.h"
#include "relayctl.h"
#include "register.h"
#include "regreply.h"
#include "sipd.h"
#include "slreply.h"
#include "stranger.h"
#include "stund.h"
#include "stunsock.h"
#include "store.h"
#include "tlsdir.h"
#include "tlsfix.h"
#include "upstream.h"

/* Certificates between a client's and the CA tls_ca names, at most. */
#define TLS_DEPTH 4

#define ALLOW "REGISTER, OPTIONS, INVITE, ACK, BYE, CANCEL, UPDATE, INFO, " \
	"PRACK, MESSAGE, REFER, NOTIFY, SUBSCRIBE"

struct sipd {
	su_root_t *root;
	const struct pconf *conf;
	nta_agent_t *agent;
	su_timer_t *tick;
	struct loc_store *store;
	struct stund *stund;
	struct stunsock *socks;
	struct flows *flows;
	struct regreply *reg;   /* REGISTERs in registrar mode */
	struct relayctl *relay;
	struct calls *calls;
	struct proxy *proxy;
	struct authsip *auth;   /* NULL: no users, open */
	struct overload *overload;
	int sip_sock;   /* the SIP UDP socket a STUN request came in on */
	su_timer_t *stopping;   /* SIGTERM: calls being set up may end */
	unsigned stop_ticks;
	time_t last_trim;   /* last look at the heap */
	struct ratelimit *rate;  /* max_requests_per_source */
	struct ratelog rate_log;
};

/* sofia-sip creates its STUN server through a global plug-in table,
 * with no argument of ours; there is one sipd per process. */
static struct sipd *the_sipd;

/* sofia-sip's own log streams: exported, but declared only in its private
 * headers. Their lines join ours; they are debugging aids (level 5 with -v),
 * otherwise only sofia's fatal messages (level 0) get through. */
extern su_log_t nta_log[], tport_log[];

static void sofia_log(void *stream, char const *fmt, va_list ap)
{
	char line[512];
	size_t n;

	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n)
		log_msg(LOG_DEBUG, "sofia: %s", line);
}

static void sofia_log_setup(void)
{
	su_log_t *logs[] = {su_log_default, nta_log, tport_log};
	unsigned level = log_enabled(LOG_DEBUG) ? 5 : 0;

	for (unsigned i = 0; i < sizeof logs / sizeof *logs; i++) {
		su_log_redirect(logs[i], sofia_log, NULL);
		su_log_set_level(logs[i], level);
	}
}

static time_t now_s(void)
{
	return (time_t)(stunsock_now_ms() / 1000);
}

/* ---- STUN on the SIP UDP port --------------------------------------- */

static struct sipd *vst_create(su_root_t *root, tagi_t const *tags)
{
	return the_sipd;
}

static void vst_destroy(struct sipd *d)
{
}

static int vst_socket(struct sipd *d, su_socket_t s)
{
	return 0;
}

/* sofia hands the plug-in each UDP socket it serves SIP on: the ones
 * whose receive queues tell whether the loop keeps up */
static int vst_add_socket(struct sipd *d, su_socket_t s)
{
	if (overload_add_socket(d->overload, s))
		log_warn("overload: too many SIP sockets, %d not watched", s);
	return 0;
}

static void vst_request(struct sipd *d, su_socket_t sock, void *msg,
			ssize_t len, void *addr, socklen_t addrlen)
{
	struct sockaddr_storage ls;
	socklen_t llen = sizeof ls;
	struct ph_addr src, local;

	if (len < 0 || ph_addr_from_sa(&src, addr, addrlen) ||
	    getsockname(sock, (struct sockaddr *)&ls, &llen) ||
	    ph_addr_from_sa(&local, (struct sockaddr *)&ls, llen))
		return;
	d->sip_sock = sock;
	stund_recv(d->stund, &local, &src, msg, (size_t)len, stunsock_now_ms());
	d->sip_sock = -1;
}

/* tport_plug_in_stun_server() takes only tables larger than its own
 * struct (room for extensions), hence the wrapper. */
static const struct {
	tport_stun_server_vtable_t vst;
	void *reserved;
} stun_plugin = {
	{sizeof stun_plugin, vst_create, vst_destroy, vst_add_socket, vst_socket,
	 vst_request},
	NULL,
};

static int stun_send(const struct ph_addr *from, const struct ph_addr *dst,
		     const void *buf, size_t len, void *arg)
{
	struct sipd *d = arg;

	if (d->sip_sock >= 0 && ph_addr_port(from) == d->conf->sip_port)
		return stunsock_sendfd(d->sip_sock, NULL, dst, buf, len);
	return stunsock_send(d->socks, from, dst, buf, len);
}

/* ---- requests -------------------------------------------------------- */

/* Edge mode: the PBX is the registrar (upstream.c). */
static void register_upstream(struct sipd *d, msg_t *msg, sip_t *sip)
{
	struct flow flow;

	if (flows_of_msg(d->flows, msg, &flow))
		nta_msg_treply(d->agent, msg, SIP_500_INTERNAL_SERVER_ERROR,
			       TAG_END());
	else
		upstream_register(d->proxy, msg, sip, &flow);
}

/* Requests to pinholed itself: OPTIONS (a keepalive or a probe), and
 * methods no user gets from us (RFC 3261 21.5.2). From a stranger (with
 * authentication on, anyone; open, any UDP source: stranger.h): answered
 * statelessly, bare, no larger than the request (slreply.h). */
static void on_own_request(struct sipd *d, msg_t *msg, sip_t *sip)
{
	nta_incoming_t *irq;

	if (stranger(d->auth, d->conf, msg)) {
		if (sip->sip_request->rq_method == sip_method_options)
			sl_reply(d->agent, msg, SIP_200_OK, TAG_END());
		else
			sl_reply(d->agent, msg, SIP_501_NOT_IMPLEMENTED, TAG_END());
		return;
	}
	irq = nta_incoming_create(d->agent, NULL, msg, sip, TAG_END());
	if (!irq)
		return;
	if (sip->sip_request->rq_method == sip_method_options)
		nta_incoming_treply(irq, SIP_200_OK,
			SIPTAG_ALLOW_STR(ALLOW), SIPTAG_ACCEPT_STR("application/sdp"),
			TAG_END());
	else
		nta_incoming_treply(irq, SIP_501_NOT_IMPLEMENTED,
				    SIPTAG_ALLOW_STR(ALLOW), TAG_END());
	nta_incoming_destroy(irq); /* nta keeps it until its timers end */
}

/* For pinholed itself: no user part and no Route (RFC 3261 16.4). */
static bool for_us(const sip_t *sip)
{
	return sip->sip_request->rq_method == sip_method_unknown ||
	       (!sip->sip_request->rq_url->url_user && !sip->sip_route &&
		sip->sip_request->rq_method == sip_method_options);
}

/* A header sofia-sip could not parse, or a second copy of one that may
 * appear once: name it in a 400. sofia's error list holds both kinds: a
 * header it could not parse (an error header, er_name) and a duplicate of
 * a single header, which keeps its own class (RFC 3261 7.3: only
 * comma-separated list headers may be repeated). */
static void reject_bad_header(struct sipd *d, msg_t *msg, const sip_t *sip)
{
	const msg_header_t *h = (const msg_header_t *)sip->sip_error;
	const char *name;
	bool dup = !msg_is_error(h);
	char phrase[96];

	name = dup ? h->sh_class->hc_name : h->sh_error->er_name;
	snprintf(phrase, sizeof phrase, dup ? "Bad Request: %s Header repeated"
					    : "Malformed %s Header",
		 name && *name ? name : "a");
	log_notice("SIP %s: 400 %s", sip->sip_request->rq_method_name, phrase);
	if (stranger(d->auth, d->conf, msg))
		sl_reply(d->agent, msg, 400, phrase, TAG_END());
	else
		nta_msg_treply(d->agent, msg, 400, phrase, TAG_END());
}

/* max_requests_per_source: a request over its source's rate is answered
 * 503 with Retry-After, the first each second; the rest are dropped, so
 * that a spoofed source is not answered once for every request sent in
 * its name, and an ACK never is. */
static bool over_rate(struct sipd *d, msg_t *msg, const sip_t *sip)
{
	su_addrinfo_t *ai = msg_addrinfo(msg);
	uint64_t now = stunsock_now_ms();
	unsigned long skipped;
	char a[PH_ADDR_STRLEN];
	struct ph_addr src;
	bool answer;

	if (!ai || ph_addr_from_sa(&src, ai->ai_addr, ai->ai_addrlen) ||
	    ratelimit_take(d->rate, &src, now, &answer))
		return false;
	if (ratelog_ok(&d->rate_log, now, &skipped)) {
		ph_addr_print(&src, a, sizeof a);
		log_warn("sip: %s from %s over max_requests_per_source (%u/s): "
			 "503 (%lu more such requests not logged)",
			 sip->sip_request->rq_method_name, a,
			 d->conf->max_requests_per_source, skipped);
	}
	if (answer && sip->sip_request->rq_method != sip_method_ack &&
	    stranger(d->auth, d->conf, msg))
		sl_reply(d->agent, msg, 503, "Service Unavailable: too many "
			 "requests from this address", SIPTAG_RETRY_AFTER_STR("5"),
			 TAG_END());
	else if (answer && sip->sip_request->rq_method != sip_method_ack)
		nta_msg_treply(d->agent, msg, 503, "Service Unavailable: too "
			       "many requests from this address",
			       SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
	else
		msg_destroy(msg);
	return true;
}

/* Answers go where their request came from, never to its Via's maddr:
 * nta reads maddr before received and rport (as RFC 3261 18.2.2 does for
 * multicast), so a request naming any address there would have pinholed
 * answer that address, a reflector. Kamailio, too, answers the source.
 * Taken from the top Via before a transaction or a forwarded copy is made
 * of the request; the rest of the address is NTATAG_SERVER_RPORT(2). */
static void via_drop_maddr(sip_t *sip)
{
	sip_via_t *v = sip->sip_via;

	if (!v || !v->v_maddr)
		return;
	log_debug("SIP %s %s: Via maddr=%s ignored, answered at the source",
		  sip->sip_request->rq_method_name,
		  sip->sip_call_id ? sip->sip_call_id->i_id : "-", v->v_maddr);
	msg_header_remove_param(v->v_common, "maddr");
}

/* A new call while overloaded: 503 with Retry-After, statelessly (RFC
 * 3261 21.5.4), before anything of the call is set up (or authenticated).
 * A retransmission of an INVITE let in is absorbed by its transaction and
 * never gets here. */
static bool refuse_call(struct sipd *d, msg_t *msg, const sip_t *sip)
{
	char after[16];

	if (sip->sip_request->rq_method != sip_method_invite ||
	    (sip->sip_to && sip->sip_to->a_tag) ||
	    !overload_refuse(d->overload, proxy_invites(d->proxy)))
		return false;
	snprintf(after, sizeof after, "%u", overload_retry_after(d->overload));
	sl_reply(d->agent, msg, 503, "Service Unavailable: overloaded",
		 SIPTAG_RETRY_AFTER_STR(after), TAG_END());
	return true;
}

/* A datagram that ends before the body its Content-Length announces (RFC
 * 3261 18.3): "If the message is a response, it MUST be discarded. If the
 * message is a request, the element SHOULD generate a 400". Forwarded, it
 * would go on with a Content-Length no body follows. An answer that a
 * transaction takes is proxy.c's. */
static void truncated(struct sipd *d, msg_t *msg, const sip_t *sip)
{
	log_debug("SIP %s %s: its body is shorter than its Content-Length: %s",
		  sip->sip_request ? sip->sip_request->rq_method_name : "answer",
		  sip->sip_call_id ? sip->sip_call_id->i_id : "-",
		  sip->sip_request && sip->sip_request->rq_method != sip_method_ack
			  ? "400" : "dropped");
	if (!sip->sip_request || sip->sip_request->rq_method == sip_method_ack)
		msg_destroy(msg);
	else if (stranger(d->auth, d->conf, msg))
		sl_reply(d->agent, msg, 400, "Bad Request: body shorter than "
			 "its Content-Length", TAG_END());
	else
		nta_msg_treply(d->agent, msg, 400, "Bad Request: body shorter "
			       "than its Content-Length", TAG_END());
}

/* Every message that no transaction claims (nta's stateless callback). */
static int on_message(struct sipd *d, nta_agent_t *agent, msg_t *msg,
		      sip_t *sip)
{
	if (!sip || (!sip->sip_request && !sip->sip_status)) {
		msg_destroy(msg);
		return 0;
	}
	if (sip->sip_request && authsip_drop(d->auth, msg))
		return 0; /* banned: not a byte back */
	if (sip->sip_request)
		via_drop_maddr(sip);
	if (proxy_body_short(msg, sip))
		truncated(d, msg, sip);
	else if (sip->sip_status)
		proxy_stray_response(d->proxy, msg, sip);
	else if (over_rate(d, msg, sip))
		return 0;
	else if (sip->sip_error && sip->sip_request->rq_method != sip_method_ack)
		reject_bad_header(d, msg, sip);
	else if (sip->sip_error) /* an ACK gets no answer: it goes no further */
		msg_destroy(msg);
	else if (sip->sip_request->rq_method == sip_method_register &&
		 upstream_on(d->conf))
		register_upstream(d, msg, sip);
	else if (sip->sip_request->rq_method == sip_method_register) {
		if (!authsip_gate(d->auth, msg, sip))
			regreply_register(d->reg, msg, sip,
					  !d->auth && stranger(NULL, d->conf, msg),
					  now_s());
	} else if (for_us(sip))
		on_own_request(d, msg, sip);
	else if (d->auth && sip->sip_request->rq_method == sip_method_cancel)
		/* RFC 3261 22.1: a CANCEL cannot be challenged. One that nta
		 * matched to no transaction of ours would be forwarded to the
		 * user's phones (16.10), which tells a stranger who is
		 * registered: it ends here. */
		sl_reply(d->agent, msg, SIP_481_NO_TRANSACTION, TAG_END());
	else if (d->stopping && sip->sip_request->rq_method == sip_method_invite &&
		 !(sip->sip_to && sip->sip_to->a_tag)) /* RFC 3261 21.5.4, 20.33 */
		nta_msg_treply(d->agent, msg, 503,
			       "Service Unavailable: shutting down",
			       SIPTAG_RETRY_AFTER_STR("5"), TAG_END());
	else if (!d->auth &&
		 stranger_refuse(d->agent, d->conf, d->store, msg, sip))
		return 0;
	else if (!refuse_call(d, msg, sip) &&
		 (!authsip_needed(d->auth, msg, sip) ||
		  !authsip_gate(d->auth, msg, sip)))
		proxy_request(d->proxy, msg, sip);
	return 0;
}

/* ---- set-up ---------------------------------------------------------- */

/* The directory of the store's file, made if missing (its parent must
 * exist: /var/lib does). */
static int store_dir(const char *path)
{
	char dir[CONF_PATH_LEN];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir(dir, 0750) && errno != EEXIST ? errno : 0;
}

/* store = file: the bindings of the last run back, and every change on
 * disk before its 200. On the default path, which a user running
 * pinholed from its source tree cannot write, it falls back to memory
 * and says so; a path of the operator's own must work. */
static int store_alloc(struct sipd *d, su_root_t *root)
{
	const struct pconf *c = d->conf;
	struct loc_store *mem;
	/* LMDB reserves the file's largest size up front (address space,
	 * not disk): room for max_bindings of up to 2 KiB each */
	size_t max_bytes = ((size_t)c->max_bindings + 1024) * 2048;
	int err = loc_mem_alloc(&mem, c->max_bindings, now_s());

	if (!err)
		loc_mem_set_max_per_source(mem, c->max_bindings_per_source);
	if (!err && c->store_redis)
		return store_redis_alloc(&d->store, mem, c, root, now_s());
	if (err || !c->store_file) {
		d->store = mem;
		return err;
	}
	if ((err = store_dir(c->store_path)))
		log_err("store: cannot make the directory of %s: %s",
			c->store_path, strerror(err));
	if (!err && !(err = store_file_alloc(&d->store, mem, &store_lmdb,
					     c->store_path, max_bytes, root,
					     now_s())))
		return 0;
	loc_destroy(mem); /* maybe half loaded */
	if (strcmp(c->store_path, CONF_STORE_PATH))
		return err;
	if ((err = loc_mem_alloc(&mem, c->max_bindings, now_s())))
		return err;
	loc_mem_set_max_per_source(mem, c->max_bindings_per_source);
	log_warn("store: bindings are kept in memory only, and lost when "
		 "pinholed stops: set store_path to a file it can write, or "
		 "store = memory to say so");
	d->store = mem;
	return 0;
}

/* After a load the heap holds what its transactions used (nta keeps each
 * for up to 64*T1, 32 s, after it ends), freed but not given back: glibc
 * returns the top of a heap only, and a few live blocks pin the rest.
 * Measured: 5,000 calls at 500/s left 173 MB resident, 7 MB after a trim.
 * So every TRIM_EVERY seconds, when more than TRIM_FREE bytes lie free and
 * outweigh those in use, hand them back. */
#define TRIM_FREE (8u << 20)
#define TRIM_EVERY 10

static size_t resident_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long size = 0, rss = 0;

	if (f) {
		if (fscanf(f, "%lu %lu", &size, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}

static void give_back_memory(struct sipd *d, time_t now)
{
	struct mallinfo2 mi;

	/* mallinfo2() walks the heap's free lists: not every second either */
	if (now - d->last_trim < TRIM_EVERY)
		return;
	d->last_trim = now;
	mi = mallinfo2();
	/* free pages once given back still count as free in the heap: only
	 * what is resident can be given back again */
	if (mi.fordblks < TRIM_FREE || mi.fordblks < mi.uordblks ||
	    resident_bytes() < mi.uordblks + TRIM_FREE)
		return;
	malloc_trim(0);
	log_debug("memory: %zu kB free in the heap, %zu kB in use: trimmed",
		  mi.fordblks >> 10, mi.uordblks >> 10);
}

static void on_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct sipd *d = (struct sipd *)arg;
	unsigned gone = loc_expire(d->store, now_s()), closed;

	if (gone)
		log_debug("location: %u binding(s) expired", gone);
	/* a registered phone's connection carries a REGISTER at least every
	 * max_expires: one silent longer has no binding left */
	if ((closed = flows_sweep(d->flows, d->conf->max_expires + 60)))
		log_debug("sip: %u TCP connection(s) closed or idle let go", closed);
	calls_tick(d->calls);
	proxy_tick(d->proxy);
	authsip_tick(d->auth);
	give_back_memory(d, now_s());
}

/* One nta_agent_add_tport() per address and transport: sofia-sip keeps a
 * pointer into its argument when given a list ("transport=udp,tcp") and
 * crashes on the next call. Each is named by its IP (TPTAG_IDENT), so
 * that a request can leave from the one its flow came to; sofia matches
 * the name against every transport's, so every one has a name. TLS
 * takes its certificate from certdir (tlsdir.h) and, with tls_ca set,
 * asks every client for a certificate that tls_ca vouches for. */
static int add_transport(struct sipd *d, const struct ph_addr *a,
			 const char *transport, const char *certdir)
{
	char ip[INET6_ADDRSTRLEN], url[128];
	bool v6 = ph_addr_af(a) == AF_INET6, tls = !strcmp(transport, "tls");

	if (listen_ident(a, ip, sizeof ip))
		return EINVAL;
	/* nta binds TLS for a sips: URI only */
	snprintf(url, sizeof url, "%s:%s%s%s:%u;transport=%s",
		 tls ? "sips" : "sip", v6 ? "[" : "", ip, v6 ? "]" : "",
		 tls ? d->conf->tls_port : d->conf->sip_port, transport);
	/* The first call creates sofia's master transport: its tags apply. */
	if (nta_agent_add_tport(d->agent, (url_string_t *)url, TPTAG_IDENT(ip),
				TPTAG_STUN_SERVER(1), TPTAG_PONG2PING(1),
				TPTAG_UDP_RMEM(d->conf->udp_buffer),
				TPTAG_UDP_WMEM(d->conf->udp_buffer),
				TPTAG_IDLE(d->conf->tcp_idle_timeout * 1000u),
				TPTAG_TIMEOUT(d->conf->tcp_message_timeout * 1000u),
				TAG_IF(tls, TPTAG_CERTIFICATE(certdir)),
				TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(
					*d->conf->tls_ca ? TPTLS_VERIFY_IN
							 : TPTLS_VERIFY_NONE)),
				TAG_IF(tls, TPTAG_TLS_VERIFY_DEPTH(TLS_DEPTH)),
				TAG_END()) < 0) {
		int err = errno ? errno : EADDRINUSE;
		log_err("sip: cannot listen on %s: %s", url, strerror(err));
		return err;
	}
	log_info("sip: listening on %s", url);
	return 0;
}

/* A wildcard listen address becomes this host's addresses, one transport
 * each: sofia-sip would expand it too, but under one name, and then send
 * every request from its first address whatever address the phone sends
 * to. (Addresses that appear later are not served: restart pinholed.) */
static int add_transports(struct sipd *d)
{
	const struct pconf *c = d->conf;
	struct ph_addr a[LISTEN_MAX];
	char certdir[TLSDIR_LEN] = "";
	unsigned n;
	int err = listen_expand(c->listen, c->n_listen, a, LISTEN_MAX, &n);

	if (err)
		log_err("sip: no address to listen on: %s", strerror(err));
	else if (c->tls && !(err = tlsfix_timers()))
		err = tlsdir_make(c, certdir, sizeof certdir);
	for (unsigned i = 0; i < n && !err; i++) {
		if (c->udp)
			err = add_transport(d, &a[i], "udp", NULL);
		if (c->tcp && !err)
			err = add_transport(d, &a[i], "tcp", NULL);
		if (c->tls && !err)
			err = add_transport(d, &a[i], "tls", certdir);
	}
	/* sofia has read the files: no copy of the key stays behind */
	tlsdir_remove(certdir);
	return err;
}

/* PROTOCOL.md section 1: a STUN request too small to pay for its answer
 * is answered only for a source IP that holds a binding. */
static bool stun_known(const struct ph_addr *src, void *arg)
{
	struct sipd *d = arg;

	return loc_source_count(d->store, src) > 0;
}

int sipd_alloc(struct sipd **dp, su_root_t *root, const struct pconf *conf)
{
	struct stund_conf sc = {
		.port = conf->stun_port, .alt_ip = conf->stun_alt,
		.memory = conf->stun_memory,
		.memory_ms = conf->stun_memory_seconds * 1000,
		.memory_per_prefix = conf->stun_memory_per_prefix,
		/* as long as a registration made after the probe may last */
		.refused_ms = conf->max_expires * 1000,
		.known_h = stun_known,
	};
	struct sipd *d = calloc(1, sizeof *d);
	int err;

	if (!d)
		return ENOMEM;
	d->root = root;
	d->conf = conf;
	d->sip_sock = -1;
	sofia_log_setup();
	the_sipd = d;
	sc.arg = d;
	err = ratelimit_alloc(&d->rate, conf->max_requests_per_source);
	if (!err)
		err = overload_alloc(&d->overload, conf);
	if (!err)
		err = store_alloc(d, root);
	if (!err) {
		err = stund_alloc(&d->stund, &sc, stun_send, d);
	}
	if (!err)
		err = stunsock_alloc(&d->socks, root, conf, d->stund);
	if (err)
		goto out;

	if (tport_plug_in_stun_server(&stun_plugin.vst) < 0 && errno != EEXIST)
		log_warn("sip: STUN on the SIP port not ours: %s", strerror(errno));
	/* (url_string_t *)-1: no transports yet; add_transports() binds them. */
	/* NTATAG_CANCEL_487(0): a proxy's INVITE ends with what its branches
	 * answer after the CANCEL, not with nta's own 487.
	 * NTATAG_UDP_MTU(65535): a request keeps the transport of the flow it
	 * goes over, however large (RFC 3261 18.1.1 would switch one above
	 * 1,300 bytes to TCP, which a NAT in front of a UDP phone drops: a
	 * lost 5 s before nta fell back to UDP).
	 * NTATAG_SERVER_RPORT(2): every answer goes to the source port, as
	 * if the request had asked with rport (RFC 3581), not to the port its
	 * Via names, which anyone may write.
	 * PRELOAD: each message's headers come from one block of 2 kB more
	 * than its bytes, not a malloc each (a REGISTER's and its answer's,
	 * ~50): malloc was the loop's top cost under load, the answers held
	 * until their batch is on disk fragmenting the heap (bench, store =
	 * file, 10,000 REGISTERs/s: 33-37 -> 24-28 us CPU each) */
	d->agent = nta_agent_create(root, (url_string_t *)-1, on_message, d,
				    NTATAG_UA(0), NTATAG_SERVER_RPORT(2),
				    NTATAG_CLIENT_RPORT(1), NTATAG_CANCEL_487(0),
				    NTATAG_UDP_MTU(65535), NTATAG_PRELOAD(2048),
				    NTATAG_MAXSIZE(conf->sip_max_message_size),
				    TAG_END());
	if (!d->agent || (err = add_transports(d)) ||
	    (err = authsip_alloc(&d->auth, d->agent, conf)) ||
	    (err = flows_alloc(&d->flows, d->agent)) ||
	    (err = regreply_alloc(&d->reg, d->agent, conf, d->store,
				  d->flows)) ||
	    (err = conf->n_relay_ng ? relayctl_ng_alloc(&d->relay, conf, root)
				    : relayctl_internal_alloc(&d->relay, conf)) ||
	    (err = calls_alloc(&d->calls, d->relay, d->stund, d->store)) ||
	    (err = proxy_alloc(&d->proxy, d->agent, d->store, d->flows,
			       d->calls, conf)))
		goto out;
	calls_set_limits(d->calls, conf->relay_streams_per_source,
			 conf->relay_streams_per_user);
	calls_restore(d->calls, conf->relay_idle);
	d->tick = su_timer_create(su_root_task(root), 1000);
	/* every second, for ever: su_timer_set_interval() fires once only, so
	 * bindings never expired by the clock, closed connections were never
	 * let go of, and idle relayed calls were never forgotten */
	if (!d->tick ||
	    su_timer_set_for_ever(d->tick, on_tick, (su_timer_arg_t *)d))
		err = ENOMEM;
 out:
	if (err || !d->agent) {
		sipd_free(d);
		return err ? err : ENOMEM;
	}
	*dp = d;
	return 0;
}

void sipd_reload_users(struct sipd *d)
{
	authsip_reload(d->auth, d->conf->users);
}

/* SIGTERM: new calls get 503 with Retry-After, those being set up get
 * up to STOP_WAIT_TICKS to end, then the loop ends; sipd_free() writes
 * the reports of calls in progress and the store's last changes. */
#define STOP_WAIT_TICKS 15 /* x 100 ms */

static void on_stop_tick(su_root_magic_t *magic, su_timer_t *t,
			 su_timer_arg_t *arg)
{
	struct sipd *d = (struct sipd *)arg;

	if (proxy_invites(d->proxy) && ++d->stop_ticks < STOP_WAIT_TICKS)
		return;
	if (proxy_invites(d->proxy))
		log_warn("stopping with %u call(s) still being set up",
			 proxy_invites(d->proxy));
	su_root_break(d->root);
}

void sipd_stop(struct sipd *d)
{
	if (d->stopping) { /* a second signal: now */
		su_root_break(d->root);
		return;
	}
	log_notice("stopping: new calls refused, %u being set up",
		   proxy_invites(d->proxy));
	d->stopping = su_timer_create(su_root_task(d->root), 100);
	if (!d->stopping ||
	    su_timer_set_for_ever(d->stopping, on_stop_tick, (su_timer_arg_t *)d))
		su_root_break(d->root);
}

void sipd_log_stats(const struct sipd *d)
{
	const struct stund_stats *st = stund_stats(d->stund);
	unsigned long aors, contacts;
	usize_t irqs = 0, orqs = 0;

	loc_count(d->store, &aors, &contacts);
	/* what the SIP stack holds: each transaction lives on after its
	 * answer for its timers (nta, RFC 3261 17) */
	nta_agent_get_stats(d->agent, NTATAG_S_IRQ_HASH_USED_REF(irqs),
			    NTATAG_S_ORQ_HASH_USED_REF(orqs), TAG_END());
	log_notice("stats: %lu calls; sip: %lu server and %lu client "
		   "transactions held", (unsigned long)calls_count(d->calls),
		   (unsigned long)irqs, (unsigned long)orqs);
	log_notice("stats: %lu AoRs, %lu bindings; stun: %lu requests, "
		   "%lu answers, %lu hop answers, %lu errors, %lu malformed, "
		   "%lu null packets, %lu too small to answer, %lu refused by "
		   "the window's router (ICMP); %lu SIP answers withheld "
		   "(larger than their request)", aors, contacts,
		   st->requests, st->answers, st->hop_answers, st->errors,
		   st->bad, st->nulls, st->too_small, st->refused, sl_dropped());
}

void sipd_free(struct sipd *d)
{
	if (!d)
		return;
	su_timer_destroy(d->tick);
	su_timer_destroy(d->stopping);
	proxy_free(d->proxy);
	authsip_free(d->auth);
	calls_free(d->calls);
	relayctl_destroy(d->relay);
	loc_destroy(d->store);
	regreply_free(d->reg); /* after the store's last answers */
	flows_free(d->flows); /* unrefs the connections' transports */
	if (d->agent)
		nta_agent_destroy(d->agent);
	stunsock_free(d->socks);
	stund_free(d->stund);
	ratelimit_free(d->rate);
	overload_free(d->overload);
	if (the_sipd == d)
		the_sipd = NULL;
	free(d);
}
