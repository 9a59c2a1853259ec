/* The media-NAT adapter (baresip's struct mnat, medianat=pinhole).
 *
 * Per stream, on baresip's own RTP socket, through libpinhole: the
 * socket's window from pinholed's STUN service goes into the SDP (c=,
 * m= port, a=fw-window, a=fw-local); the remote SDP's a=fw-punch says
 * this side's part (open, transmit, local, relay), which libpinhole plays
 * (the opener's null packet with TTL hops, latching, the fall back to the
 * reserved relay after 2 s of silence, which a caller re-offers in a
 * re-INVITE, keepalives at lifetime/2, consent);
 * media is held (wait_connected) until the path is ready, then connected
 * to where libpinhole says. Nothing starts before the part is known: the
 * callee learns it from the offer, read when it answers (not when its
 * window comes back, which is earlier: connected then, its audio could
 * leave at full TTL before its null packet and take the peer's port); the
 * caller from the 2xx answer. Without a=fw-punch (a peer or server that
 * knows nothing of pinhole) the stream connects to the remote SDP address,
 * but only once the offer/answer exchange is complete: an 18x answer
 * never carries the instruction (pinholed passes it on as it is), so a
 * caller waits for the call to be established.
 *
 * A caller's INVITE also waits for a fresh nonce from its account's
 * registrar (regc.c), and carries the module's digest credentials: libre
 * 1.1.0 cannot answer pinholed's 407, SHA-256 first (PROTOCOL.md 10).
 *
 * Without a server, or when it does not answer, calls go as a plain
 * phone's (pinholed relays them), and the log says so. */
#include <errno.h>
#include <string.h>

#include "pinhole.h"

/* The registered struct mnat and what its calls need of the module:
 * sessh gets the struct mnat back, the first member. */
struct mnat_pinhole {
	struct mnat mnat;
	const struct pinhole_conf *cfg;
	struct probe *probe;
	struct reg *reg;
};

struct mnat_sess {
	struct le le;                /* in sessl */
	struct list medial;
	mnat_estab_h *estabh;
	void *arg;
	struct tmr tmr;
	const struct pinhole_conf *cfg;
	struct probe *probe;         /* the firewall (NULL: not measured) */
	struct probe_wait *pw;       /* estabh waits for the measurement */
	struct reg *reg;             /* the module's registrations, or NULL */
	struct regc_wait *rw;        /* ... and for a fresh nonce */
	struct ph_addr server;
	bool have_server;
	unsigned pending;            /* media still probing */
	bool offerer, established;
	bool answered;               /* offerer: the final answer came */
};

struct mnat_media {
	struct le le;
	struct mnat_sess *sess;
	struct sdp_media *sdpm;
	struct udp_sock *sock;
	bool rtcp_sock;              /* RTCP on its own socket (no rtcp_mux) */
	struct udp_helper *uh;
	int fd;
	struct ph_addr local;
	struct ph_stunc stun;        /* the window: one Binding transaction */
	bool probing, probed, have_window;
	struct ph_addr window;
	struct ph_punch punch;       /* from the remote SDP; role NONE: none */
	bool part_known;             /* punch is this side's part */
	bool path_started, connected;
	struct ph_addr conn_to;      /* where baresip sends now */
	struct ph_path path;
	enum ph_path_state reported;
	mnat_connected_h *connh;
	void *arg;
	struct tmr tmr;
};

/* The live sessions: a call's establishment (a ua event) finds its own. */
static struct list sessl = LIST_INIT;

/* ---- addresses ------------------------------------------------------- */

static void to_sa(const struct ph_addr *a, struct sa *sa)
{
	char ip[PH_ADDR_STRLEN];

	ph_addr_ip_print(a, ip, sizeof ip);
	sa_set_str(sa, ip, ph_addr_port(a));
}

static int from_sa(struct ph_addr *a, const struct sa *sa)
{
	return ph_addr_from_sa(a, &sa->u.sa, sa->len);
}

/* ---- the path: roles, latching, fallback ------------------------------ */

static void media_schedule(struct mnat_media *m);

/* A caller whose path fell back to the relay offers the relay anew (a
 * re-INVITE, its c= and m= port the relay's): a peer that sends only to
 * the address in its SDP (the PBX of PROTOCOL.md section 11, an outside
 * transmitter) would go on sending to a window that no longer works, and
 * pinholed relays the call from such an offer on (section 4). The caller
 * only: the callee falling back at the same time makes no glare. */
static void reoffer_relay(struct mnat_media *m, const struct sa *relay)
{
	int err;

	if (!m->sess->offerer)
		return;
	sdp_media_set_laddr(m->sdpm, relay);
	sdp_media_del_lattr(m->sdpm, "fw-window");
	sdp_media_del_lattr(m->sdpm, "fw-local");
	err = call_modify(m->sess->arg);
	if (err)
		warning("pinhole: re-INVITE toward the relay: %m\n", err);
	else
		info("pinhole: re-INVITE: the peer is to send to the relay\n");
}

/* Tell baresip where the stream's media goes, once the path knows. */
static void maybe_connect(struct mnat_media *m)
{
	const struct ph_addr *t;
	struct sa ra, rtcp;
	bool fell;

	if (!m->path_started || m->path.state == m->reported)
		return;
	/* (an opener is connected to the window it opened toward, so that
	 * baresip answers; send_h holds its media until the peer's first
	 * packet, which may come from elsewhere: then it moves there) */
	t = ph_path_target(&m->path);
	if (!t)
		return;
	m->reported = m->path.state;
	if (m->connected && ph_addr_eq(t, &m->conn_to))
		return; /* latched where it already sends */
	m->conn_to = *t;
	to_sa(t, &ra);
	fell = m->path.state == PH_PATH_RELAYED && m->path.stats.fell_back;
	if (fell)
		info("pinhole: no media on the direct path for 2 s: "
		     "moved to the relay %J\n", &ra);
	else
		info("pinhole: %s: media to %J\n", ph_role_name(m->punch.role), &ra);
	m->connected = true;
	/* RTCP: on the RTP port with rtcp_mux; else the relay's is one above
	 * (a direct peer's RTCP window is not known: rtcp_mux yes, please) */
	rtcp = ra;
	if (m->rtcp_sock && m->path.state == PH_PATH_RELAYED)
		sa_set_port(&rtcp, sa_port(&ra) + 1);
	m->connh(&ra, &rtcp, m->arg);
	if (fell)
		reoffer_relay(m, &ra);
}

static void path_start(struct mnat_media *m)
{
	const struct pinhole_conf *cfg = m->sess->cfg;
	const struct ph_fwwin *fw = probe_fw(m->sess->probe);
	unsigned hops = cfg->hops ? cfg->hops : fw ? fw->hops : 2;
	unsigned life = fw && fw->lifetime ? fw->lifetime : 30;
	const struct sa *ra = sdp_media_raddr(m->sdpm);

	if (m->path_started || !m->probed || !m->part_known)
		return;
	if (m->punch.role == PH_ROLE_NONE ||
	    ph_path_start(&m->path, &m->punch, hops, life, ph_sock_send, &m->fd,
			  ph_now_ms())) {
		/* no instruction (a plain peer, or not through pinholed), or
		 * one we cannot play: media to the remote SDP's address, never
		 * a call left waiting */
		if (m->punch.role != PH_ROLE_NONE)
			warning("pinhole: cannot play a=fw-punch: media to the "
				"remote SDP address\n");
		if (ra && sa_isset(ra, SA_ALL) && !m->connected) {
			if (m->punch.role == PH_ROLE_NONE)
				info("pinhole: no a=fw-punch: media to the remote "
				     "SDP address %J\n", ra);
			m->connected = true;
			m->connh(ra, ra, m->arg);
		}
		return;
	}
	m->path_started = true;
	m->reported = PH_PATH_IDLE;
	maybe_connect(m);
	media_schedule(m);
}

/* ---- the stream's window ------------------------------------------------ */

static void sdp_write(struct mnat_media *m)
{
	char ip[PH_ADDR_STRLEN], lip[PH_ADDR_STRLEN];
	struct sa sa;

	if (!m->have_window)
		return;
	to_sa(&m->window, &sa);
	sdp_media_set_laddr(m->sdpm, &sa);
	ph_addr_ip_print(&m->window, ip, sizeof ip);
	ph_addr_ip_print(&m->local, lip, sizeof lip);
	sdp_media_set_lattr(m->sdpm, true, "fw-window", "%s %u", ip,
			    ph_addr_port(&m->window));
	sdp_media_set_lattr(m->sdpm, true, "fw-local", "%s %u", lip,
			    ph_addr_port(&m->local));
}

static void invite_hdrs(struct mnat_sess *s);

static void estab_async(void *arg)
{
	struct mnat_sess *s = arg;

	/* a call placed while the firewall is being measured waits for it
	 * (about 2 s, once, at start): the probe calls back when it ends.
	 * One wait at a time, whoever calls. */
	s->pw = mem_deref(s->pw);
	switch (probe_wait(&s->pw, s->probe, estab_async, s)) {
	case EALREADY:
		break; /* measured, failed, or nothing to measure */
	case 0:
		return;
	default: /* no memory for a wait: look again soon */
		tmr_start(&s->tmr, 100, estab_async, s);
		return;
	}
	if (s->rw)
		return; /* nonce_done calls again */
	if (s->offerer)
		invite_hdrs(s);
	s->established = true;
	s->estabh(0, 0, NULL, s->arg);
}

/* The caller's INVITE waits for estabh: its header fields go in now. */
static void invite_hdrs(struct mnat_sess *s)
{
	struct regc *rc = reg_regc(s->reg, call_get_ua(s->arg));
	const char *ruri = call_peeruri(s->arg);
	struct list hdrs = LIST_INIT;
	char cred[1024];
	int err = 0;

	/* the firewall on the INVITE too, fresher than any registration
	 * (PROTOCOL.md section 2) */
	if (probe_fw(s->probe))
		err = custom_hdrs_add(&hdrs, "Firewall-Window", "%s",
				      probe_fwwin(s->probe));
	/* the challenge to the INVITE answered in advance, SHA-256 as the
	 * REGISTER's (regc.c): libre 1.1.0 would give up on it (PROTOCOL.md
	 * section 10). Proxy-Authorization, which pinholed and a proxy
	 * such as Kamailio (proxy_authorize) read on an INVITE. */
	if (!err && rc && ruri && !regc_cred(rc, "INVITE", ruri, cred,
					     sizeof cred)) {
		err = custom_hdrs_add(&hdrs, "Proxy-Authorization", "%s", cred);
		info("pinhole: INVITE %s: %s digest credentials\n", ruri,
		     regc_alg(rc));
	}
	if (!err && hdrs.head)
		call_set_custom_hdrs(s->arg, &hdrs);
	list_flush(&hdrs);
}

/* The fresh nonce is held (or none will be): the INVITE may go once the
 * streams' windows are known too. */
static void nonce_done(void *arg)
{
	struct mnat_sess *s = arg;

	s->rw = mem_deref(s->rw);
	if (!s->pending && !s->established)
		tmr_start(&s->tmr, 0, estab_async, s);
}

static void window_done(struct mnat_media *m)
{
	struct mnat_sess *s = m->sess;
	const struct ph_addr *win = ph_stunc_window(&m->stun);
	char w[PH_ADDR_STRLEN];

	m->probed = true;
	m->probing = false;
	if (win) {
		m->window = *win;
		m->have_window = true;
		ph_addr_print(&m->window, w, sizeof w);
		info("pinhole: stream window %s\n", w);
	} else if (s->have_server) {
		warning("pinhole: no answer from pinholed's STUN service: "
			"this call goes as a plain phone's (relayed)\n");
	}
	sdp_write(m);
	path_start(m); /* an instruction that came before the window */
	if (s->pending && !--s->pending && !s->established)
		tmr_start(&s->tmr, 0, estab_async, s);
}

static void media_tick(void *arg)
{
	struct mnat_media *m = arg;
	uint64_t now = ph_now_ms();

	if (m->probing) {
		ph_stunc_tick(&m->stun, ph_sock_send, &m->fd, now);
		if (m->stun.state != PH_STUNC_PENDING)
			window_done(m);
	}
	if (m->path_started) {
		ph_path_tick(&m->path, now);
		maybe_connect(m);
	}
	media_schedule(m);
}

static void media_schedule(struct mnat_media *m)
{
	uint64_t d = PH_NEVER, now = ph_now_ms();

	if (m->probing)
		d = ph_stunc_deadline(&m->stun);
	if (m->path_started && ph_path_deadline(&m->path) < d)
		d = ph_path_deadline(&m->path);
	if (d == PH_NEVER)
		tmr_cancel(&m->tmr);
	else
		tmr_start(&m->tmr, d > now ? d - now : 0, media_tick, m);
}

/* ---- packets on baresip's socket ------------------------------------- */

static bool recv_h(struct sa *src, struct mbuf *mb, void *arg)
{
	struct mnat_media *m = arg;
	struct ph_addr from;
	uint64_t now = ph_now_ms();

	if (from_sa(&from, src))
		return false;
	if (m->probing && ph_stun_is(mbuf_buf(mb), mbuf_get_left(mb))) {
		struct ph_stun_msg msg;
		if (!ph_stun_decode(&msg, mbuf_buf(mb), mbuf_get_left(mb)) &&
		    !ph_stunc_recv(&m->stun, &from, &msg)) {
			window_done(m);
			media_schedule(m);
			return true;
		}
	}
	if (!m->path_started)
		return !mbuf_get_left(mb); /* a null packet is nobody's media */
	if (!ph_path_recv(&m->path, &from, mbuf_get_left(mb), now))
		return true; /* a null packet, or from an address not ours */
	maybe_connect(m);
	return false;
}

static bool send_h(int *err, struct sa *dst, struct mbuf *mb, void *arg)
{
	struct mnat_media *m = arg;

	(void)dst;
	(void)mb;
	/* nothing leaves before the part is known: an opener's first packet
	 * toward its peer must be its null packet (PROTOCOL.md 4). baresip
	 * sends nothing before connh; this holds anything that would. */
	if (!m->part_known) {
		*err = 0;
		return true;
	}
	if (!m->path_started)
		return false;
	/* baresip sends, libpinhole counts it, or holds it: no consent
	 * (RFC 7675), or an opener whose early packet could take the peer's
	 * port at its NAT (PROTOCOL.md 4) */
	if (ph_path_host_send(&m->path, ph_now_ms())) {
		*err = 0;
		return true;
	}
	return false;
}

/* ---- baresip's handlers ----------------------------------------------- */

static void sess_destructor(void *arg)
{
	struct mnat_sess *s = arg;

	list_unlink(&s->le);
	tmr_cancel(&s->tmr);
	mem_deref(s->pw);
	mem_deref(s->rw);
	list_flush(&s->medial);
}

static void media_destructor(void *arg)
{
	struct mnat_media *m = arg;

	list_unlink(&m->le);
	tmr_cancel(&m->tmr);
	mem_deref(m->uh);
	mem_deref(m->sock);
	mem_deref(m->sdpm);
}

/* A stream's window: 1 s in all, a lost answer costs a retransmission. */
static const struct ph_stunc_conf window_stun = {100, 4, 4};

static int session_alloc(struct mnat_sess **sessp, const struct mnat *mnat,
			 struct dnsc *dnsc, int af, const struct stun_uri *srv,
			 const char *user, const char *pass,
			 struct sdp_session *sdp, bool offerer,
			 mnat_estab_h *estabh, void *arg)
{
	const struct mnat_pinhole *mp = (const struct mnat_pinhole *)mnat;
	struct mnat_sess *s;

	(void)dnsc; (void)user; (void)pass; (void)sdp;
	if (!sessp || !mnat || !estabh)
		return EINVAL;
	if (af != AF_INET) {
		warning("pinhole: IPv4 only for now: the call goes as a plain phone's\n");
	}
	s = mem_zalloc(sizeof *s, sess_destructor);
	if (!s)
		return ENOMEM;
	s->estabh = estabh;
	s->arg = arg;              /* baresip's struct call */
	s->offerer = offerer;
	s->cfg = mp->cfg;
	s->probe = mp->probe;
	s->reg = mp->reg;
	s->server = mp->cfg->server;
	s->have_server = mp->cfg->have_server;
	if (!s->have_server && srv && srv->host &&
	    !ph_addr_set(&s->server, srv->host, srv->port ? srv->port : 3478))
		s->have_server = true;
	if (!s->have_server)
		warning("pinhole: no pinhole_server and no stunserver: calls go "
			"as a plain phone's (pinholed relays them)\n");
	list_append(&sessl, &s->le, s);
	/* a caller's INVITE answers its challenge with a fresh nonce, got
	 * while the streams' windows are measured */
	if (offerer)
		(void)regc_nonce_wait(&s->rw, reg_regc(s->reg, call_get_ua(arg)),
				      nonce_done, s);
	/* nothing to measure until the streams exist: established then */
	tmr_start(&s->tmr, 0, estab_async, s);
	*sessp = s;
	return 0;
}

static int media_alloc(struct mnat_media **mp, struct mnat_sess *s,
		       struct udp_sock *sock1, struct udp_sock *sock2,
		       struct sdp_media *sdpm, mnat_connected_h *connh,
		       void *arg)
{
	struct mnat_media *m;
	struct sa laddr;
	int err;

	/* the window is the RTP socket's; with rtcp_mux (conf/baresip/config)
	 * RTCP rides on it */
	if (!mp || !s || !sock1 || !sdpm || !connh) {
		warning("pinhole: stream without a socket, SDP or handler\n");
		return EINVAL;
	}
	m = mem_zalloc(sizeof *m, media_destructor);
	if (!m)
		return ENOMEM;
	list_append(&s->medial, &m->le, m);
	m->sess = s;
	m->sdpm = mem_ref(sdpm);
	m->sock = mem_ref(sock1);
	m->rtcp_sock = sock2 != NULL;
	m->connh = connh;
	m->arg = arg;
	m->fd = udp_sock_fd(sock1, AF_INET);
	tmr_init(&m->tmr);
	err = udp_local_get(sock1, &laddr) ? EINVAL : from_sa(&m->local, &laddr);
	if (!err)
		err = udp_register_helper(&m->uh, sock1, 0, send_h, recv_h, m);
	if (!err && s->have_server && m->fd >= 0 &&
	    !ph_stunc_start(&m->stun, &window_stun, &s->server, 0, 0, ph_sock_send,
			    &m->fd, ph_now_ms())) {
		m->probing = true;
		/* estabh waits for this stream's window */
		if (!s->pending++)
			tmr_cancel(&s->tmr);
		media_schedule(m);
	} else if (!err) {
		debug("pinhole: stream on %J: not measured\n", &laddr);
		m->probed = true;
	}
	if (err) {
		warning("pinhole: stream on %J: %m\n", &laddr, err);
		mem_deref(m);
		return err;
	}
	*mp = m;
	return 0;
}

/* The remote SDP's a=fw-punch for m; role NONE without one, or with one
 * that does not parse (as from a peer that knows nothing of pinhole). */
static void punch_read(struct mnat_media *m, struct ph_punch *p)
{
	const char *v = sdp_media_rattr(m->sdpm, "fw-punch"), *why;

	memset(p, 0, sizeof *p);
	debug("pinhole: remote SDP: a=fw-punch:%s\n", v ? v : "(none)");
	if (v && ph_punch_sdp_decode(p, v, strlen(v), &why)) {
		warning("pinhole: a=fw-punch '%s': %s: ignored\n", v, why);
		memset(p, 0, sizeof *p);
	}
}

/* After each remote offer or answer: the part, once it is known. */
static int update(struct mnat_sess *s)
{
	for (struct le *le = s ? s->medial.head : NULL; le; le = le->next) {
		struct mnat_media *m = le->data;
		struct ph_punch p;

		punch_read(m, &p);
		if (m->path_started && p.role != PH_ROLE_NONE &&
		    (p.role != m->punch.role || !ph_addr_eq(&p.peer, &m->punch.peer))) {
			/* a re-INVITE with a new part: begin it anew */
			m->path_started = false;
			m->connected = false;
		}
		if (m->path_started)
			continue;
		if (p.role == PH_ROLE_NONE && s->offerer && !s->answered) {
			/* an 18x answer: the instruction comes with the 2xx */
			debug("pinhole: answer without a=fw-punch: media waits "
			      "for the final answer\n");
			continue;
		}
		m->punch = p;
		m->part_known = true;
		path_start(m);
	}
	return 0;
}

/* A caller's call is established after its final answer (update() has
 * seen it): an answer without a=fw-punch is a plain peer's after all. */
static void ua_event_handler(struct ua *ua, enum ua_event ev,
			     struct call *call, const char *prm, void *arg)
{
	(void)ua; (void)prm; (void)arg;
	if (ev != UA_EVENT_CALL_ESTABLISHED)
		return;
	for (struct le *le = sessl.head; le; le = le->next) {
		struct mnat_sess *s = le->data;

		if (s->arg != call)
			continue;
		s->answered = true;
		update(s);
		return;
	}
}

static struct mnat_pinhole mnat_pinhole = {
	.mnat = {
		.id = "pinhole",
		.wait_connected = true,
		.sessh = session_alloc,
		.mediah = media_alloc,
		.updateh = update,
	},
};

int mnat_pinhole_register(const struct pinhole_conf *cfg,
			  struct probe *probe, struct reg *reg)
{
	int err;

	/* without the event a caller would wait forever on a plain peer */
	err = uag_event_register(ua_event_handler, NULL);
	if (err)
		return err;
	mnat_pinhole.cfg = cfg;
	mnat_pinhole.probe = probe;
	mnat_pinhole.reg = reg;
	mnat_register(baresip_mnatl(), &mnat_pinhole.mnat);
	return 0;
}

void mnat_pinhole_unregister(void)
{
	uag_event_unregister(ua_event_handler);
	mnat_unregister(&mnat_pinhole.mnat);
	mnat_pinhole.probe = NULL;
	mnat_pinhole.reg = NULL;
}
