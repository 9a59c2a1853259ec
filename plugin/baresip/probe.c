/* The module's firewall measurement: libpinhole's probe (window, mapping,
 * filtering, hop test) from a socket of its own, like baresip's RTP ones,
 * once at start. The result goes into Firewall-Window on the module's
 * REGISTER (reg.c) and on outgoing INVITEs (mnat.c).
 *
 * Whoever needs the result while the probe runs waits on it
 * (probe_wait): the probe calls each waiter back when it ends, so a call
 * placed during the measurement goes out as soon as it is done, with no
 * polling. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pinhole.h"

struct probe {
	struct ph_addr server;
	unsigned hops;               /* pinhole_hops; 0: the hop test's */
	int fd;
	struct ph_probe *php;
	struct tmr tmr;
	bool busy, have_fw;
	struct ph_fwwin fw;
	char fwwin[PH_FWWIN_STRLEN];
	struct list waiters;         /* struct probe_wait */
};

struct probe_wait {
	struct le le;
	probe_h *h;
	void *arg;
};

static void sock_close(struct probe *p)
{
	ph_probe_free(p->php);
	p->php = NULL;
	if (p->fd < 0)
		return;
	fd_close(p->fd);
	close(p->fd);
	p->fd = -1;
}

/* The measurement is over, with a result or without: every waiter goes
 * on. Each is unlinked before its handler runs, so a handler may free any
 * waiter (its own call ending) without upsetting this loop. */
static void finish(struct probe *p)
{
	struct le *le;

	sock_close(p);
	p->busy = false;
	while ((le = list_head(&p->waiters))) {
		struct probe_wait *w = le->data;

		list_unlink(le);
		w->h(w->arg);
	}
}

static void tick(void *arg)
{
	struct probe *p = arg;
	uint64_t now = ph_now_ms(), d;
	struct ph_fwwin w;

	if (!p->php)
		return;
	ph_probe_tick(p->php, now);
	if (!ph_probe_done(p->php)) {
		d = ph_probe_deadline(p->php);
		tmr_start(&p->tmr, d > now ? d - now : 0, tick, p);
		return;
	}
	if (ph_probe_result(p->php, &w)) {
		warning("pinhole: pinholed's STUN service did not answer: "
			"not registering (calls go as a plain phone's)\n");
	} else {
		if (p->hops)
			w.hops = p->hops;
		p->fw = w;
		p->have_fw = true;
		ph_fwwin_encode(&w, p->fwwin, sizeof p->fwwin);
	}
	finish(p);
}

static void sock_h(int flags, void *arg)
{
	struct probe *p = arg;
	uint8_t buf[1500];
	struct ph_addr src;
	ssize_t n;

	(void)flags;
	while ((n = ph_sock_recv(p->fd, &src, buf, sizeof buf)) >= 0)
		if (p->php)
			ph_probe_recv(p->php, &src, buf, (size_t)n, ph_now_ms());
	tick(p); /* done now, or a new deadline */
}

/* The probe itself: RFC 8489's 39.5 s is for the Internet at large,
 * about 2 s here. */
static int php_start(struct probe *p, const struct ph_addr *local)
{
	struct ph_probe_conf c = {.server = p->server, .local = *local,
				  .stun = ph_stunc_rfc8489, .fallback_hops = 2};
	int err;

	c.stun.rto_ms = 200;
	c.stun.rc = 4;
	c.stun.rm = 4;
	if ((err = ph_probe_alloc(&p->php, &c, ph_sock_send, &p->fd)))
		return err;
	if ((err = ph_probe_start(p->php, ph_now_ms()))) {
		ph_probe_free(p->php);
		p->php = NULL;
	}
	return err;
}

/* A socket like the RTP ones: on the address the route to the server
 * leaves from, any port. */
static int sock_open(struct probe *p, struct ph_addr *local)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct ph_addr any;

	if (ph_sock_route_src(&p->server, local)) {
		warning("pinhole: no route to pinhole_server\n");
		return ENETUNREACH;
	}
	any = *local;
	ph_addr_set_port(&any, 0);
	if (ph_sock_open(&p->fd, &any)) {
		p->fd = -1;
		warning("pinhole: cannot open a probe socket\n");
		return EIO;
	}
	getsockname(p->fd, (struct sockaddr *)&ss, &len);
	ph_addr_from_sa(local, (struct sockaddr *)&ss, len);
	return 0;
}

static void start(void *arg)
{
	struct probe *p = arg;
	struct ph_addr local;

	if (sock_open(p, &local))
		goto out;
	if (fd_listen(p->fd, FD_READ, sock_h, p) || php_start(p, &local)) {
		warning("pinhole: cannot start the firewall probe\n");
		goto out;
	}
	tick(p);
	return;
 out:
	finish(p); /* no measurement: nobody waits for one */
}

static void destructor(void *arg)
{
	struct probe *p = arg;

	tmr_cancel(&p->tmr);
	sock_close(p);
	/* the waiters belong to their calls; they only leave the list */
	list_clear(&p->waiters);
}

int probe_alloc(struct probe **pp, const struct ph_addr *server,
		unsigned hops, uint32_t delay_ms)
{
	struct probe *p;

	if (!pp || !server)
		return EINVAL;
	p = mem_zalloc(sizeof *p, destructor);
	if (!p)
		return ENOMEM;
	p->server = *server;
	p->hops = hops;
	p->fd = -1;
	p->busy = true;
	list_init(&p->waiters);
	tmr_init(&p->tmr);
	tmr_start(&p->tmr, delay_ms, start, p);
	*pp = p;
	return 0;
}

bool probe_busy(const struct probe *p)
{
	return p && p->busy;
}

const struct ph_fwwin *probe_fw(const struct probe *p)
{
	return p && p->have_fw ? &p->fw : NULL;
}

const char *probe_fwwin(const struct probe *p)
{
	return p && p->have_fw ? p->fwwin : "";
}

static void wait_destructor(void *arg)
{
	struct probe_wait *w = arg;

	list_unlink(&w->le);
}

int probe_wait(struct probe_wait **wp, struct probe *p, probe_h *h,
	       void *arg)
{
	struct probe_wait *w;

	if (!wp || !h)
		return EINVAL;
	if (!probe_busy(p))
		return EALREADY;
	w = mem_zalloc(sizeof *w, wait_destructor);
	if (!w)
		return ENOMEM;
	w->h = h;
	w->arg = arg;
	list_append(&p->waiters, &w->le, w);
	*wp = w;
	return 0;
}
