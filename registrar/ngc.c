/* The ng client's transport (ngc.h): sockets, cookies, retries, which
 * relays are alive. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "log.h"
#include "ngc.h"
#include "stunsock.h"

#define TICK_MS 100
#define COOKIE_MAX 24

struct ngreq {
	struct ngreq *next;
	unsigned relay;
	char cookie[COOKIE_MAX];
	char msg[NGC_MSG_MAX];
	size_t len;
	unsigned tries, max_tries;
	uint64_t due_ms;
	bool doomed;                      /* its relay died while it waited */
	const char *what;
	ngc_reply_h *h;
	void *arg;
};

struct relay {
	struct ngc *c;
	unsigned idx;
	struct ph_addr addr;
	char name[PH_ADDR_STRLEN + 4];    /* "ng:IP:PORT" */
	int fd, reg;
	su_wait_t wait[1];
	bool dead, heard, pinhole;
	uint64_t next_ping_ms;
	unsigned load;
};

struct ngc {
	su_root_t *root;
	su_timer_t *tick;
	struct relay r[NGC_MAX_RELAYS];
	unsigned n, cursor;
	unsigned seq;
	struct ngreq *reqs;               /* pending, every relay's */
};

const char *ngc_name(const struct ngc *c, unsigned relay)
{
	return c->r[relay].name;
}

bool ngc_dead(const struct ngc *c, unsigned relay)
{
	return c->r[relay].dead;
}

bool ngc_pinhole(const struct ngc *c, unsigned relay)
{
	return c->r[relay].pinhole;
}

void ngc_load(struct ngc *c, unsigned relay, int delta)
{
	c->r[relay].load += (unsigned)delta;
}

int ngc_pick(struct ngc *c, unsigned skip)
{
	int best = -1;

	for (unsigned k = 0; k < c->n; k++) {
		unsigned i = (c->cursor + k) % c->n;
		if (c->r[i].dead || (skip & 1u << i))
			continue;
		if (best < 0 || c->r[i].load < c->r[best].load)
			best = (int)i;
	}
	if (best >= 0)
		c->cursor = ((unsigned)best + 1) % c->n;
	return best;
}

static void transmit(struct ngc *c, struct ngreq *q)
{
	q->tries++;
	q->due_ms = stunsock_now_ms() + NGC_TIMEOUT_MS;
	/* a refusal shows on the next recv as well: handled there */
	if (send(c->r[q->relay].fd, q->msg, q->len, MSG_DONTWAIT) < 0 &&
	    errno != ECONNREFUSED)
		log_debug("relay %s: send: %s", c->r[q->relay].name,
			  strerror(errno));
}

static struct ngreq *unlink_req(struct ngc *c, struct ngreq *q)
{
	for (struct ngreq **pp = &c->reqs; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			return q;
		}
	return NULL;
}

static void finish(struct ngc *c, struct ngreq *q, int err,
		   const struct benc *reply)
{
	unlink_req(c, q);
	if (q->h)
		q->h(err, reply, q->arg);
	free(q);
}

static void alive(struct relay *r)
{
	if (r->dead)
		log_notice("relay %s: answers again: back in use", r->name);
	else if (!r->heard)
		log_info("relay %s: answers", r->name);
	r->dead = false;
	r->heard = true;
}

/* Every request pending there fails (each handler may send anew: those
 * go to live relays, or fail at once). */
static void dead(struct ngc *c, struct relay *r, int err, const char *what)
{
	if (!r->dead) {
		if (err == ECONNREFUSED)
			log_warn("relay %s: refused (nothing listens on its ng port): "
				 "skipped until it answers", r->name);
		else
			log_warn("relay %s: no answer to %s after %u tries: "
				 "skipped until it answers", r->name, what, NGC_TRIES);
	}
	r->dead = true;
	r->next_ping_ms = stunsock_now_ms() + NGC_PING_MS;
	for (struct ngreq *q = c->reqs; q; q = q->next)
		q->doomed |= q->relay == r->idx;
	/* one at a time from the head: a handler may change the list */
	for (struct ngreq *q = c->reqs; q;)
		if (q->doomed) {
			finish(c, q, err, NULL);
			q = c->reqs;
		} else {
			q = q->next;
		}
}

int ngc_send(struct ngc *c, unsigned relay, const char *dict, size_t len,
	     const char *what, ngc_reply_h *h, void *arg)
{
	struct ngreq *q;
	int k;

	if (relay >= c->n || !(q = calloc(1, sizeof *q)))
		return ENOMEM;
	k = snprintf(q->cookie, sizeof q->cookie, "%x_%u", (unsigned)getpid(),
		     ++c->seq);
	if ((size_t)k + 1 + len > sizeof q->msg) {
		free(q);
		return EMSGSIZE;
	}
	memcpy(q->msg, q->cookie, (size_t)k);
	q->msg[k] = ' ';
	memcpy(q->msg + k + 1, dict, len);
	q->len = (size_t)k + 1 + len;
	q->relay = relay;
	q->what = what;
	q->h = h;
	q->arg = arg;
	/* a dead relay's ping: once, it is sent again every NGC_PING_MS */
	q->max_tries = c->r[relay].dead ? 1 : NGC_TRIES;
	q->next = c->reqs;
	c->reqs = q;
	transmit(c, q);
	return 0;
}

static int on_readable(su_root_magic_t *magic, su_wait_t *w,
		       su_wakeup_arg_t *arg)
{
	struct relay *r = (struct relay *)arg;
	struct ngc *c = r->c;
	static char buf[65536];

	(void)magic;
	(void)w;
	for (int i = 0; i < 64; i++) {
		ssize_t n = recv(r->fd, buf, sizeof buf, MSG_DONTWAIT);
		const char *sp;
		struct benc d;
		struct ngreq *q;

		if (n < 0 && errno == ECONNREFUSED) {
			dead(c, r, ECONNREFUSED, NULL);
			continue;
		}
		if (n <= 0)
			break;
		sp = memchr(buf, ' ', (size_t)n < COOKIE_MAX ? (size_t)n : COOKIE_MAX);
		if (!sp)
			continue;
		for (q = c->reqs; q; q = q->next)
			if (q->relay == r->idx && strlen(q->cookie) == (size_t)(sp - buf) &&
			    !memcmp(q->cookie, buf, (size_t)(sp - buf)))
				break;
		if (!q)
			continue; /* a late duplicate */
		if (benc_parse(&d, sp + 1, (size_t)(n - (sp + 1 - buf))) ||
		    !benc_is_dict(&d)) {
			log_warn("relay %s: unreadable reply to %s", r->name, q->what);
			continue;
		}
		alive(r);
		if (!benc_get(&d, "pinhole", &(struct benc){0}))
			r->pinhole = true;
		finish(c, q, 0, &d);
	}
	return 0;
}

static void on_tick(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
	struct ngc *c = (struct ngc *)arg;
	uint64_t now = stunsock_now_ms();

	(void)magic;
	(void)t;
	for (struct ngreq *q = c->reqs, *next; q; q = next) {
		next = q->next;
		if (now < q->due_ms)
			continue;
		if (q->tries < q->max_tries) {
			transmit(c, q);
		} else if (c->r[q->relay].dead) {
			finish(c, q, ETIMEDOUT, NULL); /* a ping unanswered */
			next = c->reqs;
		} else {
			dead(c, &c->r[q->relay], ETIMEDOUT, q->what);
			next = c->reqs;
		}
	}
	for (unsigned i = 0; i < c->n; i++)
		if (c->r[i].dead && now >= c->r[i].next_ping_ms) {
			c->r[i].next_ping_ms = now + NGC_PING_MS;
			ngc_send(c, i, "d7:command4:pinge", 17, "ping", NULL, NULL);
		}
}

static int relay_open(struct ngc *c, unsigned i, const struct ph_addr *a)
{
	struct relay *r = &c->r[i];
	char s[PH_ADDR_STRLEN];

	r->c = c;
	r->idx = i;
	r->addr = *a;
	ph_addr_print(a, s, sizeof s);
	snprintf(r->name, sizeof r->name, "ng:%s", s);
	r->fd = socket(ph_addr_af(a), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0 || connect(r->fd, &a->u.sa, ph_addr_len(a)) < 0) {
		int err = errno;
		log_err("relay %s: cannot open its socket: %s", r->name, strerror(err));
		return err;
	}
	if (su_wait_create(r->wait, r->fd, SU_WAIT_IN) < 0 ||
	    (r->reg = su_root_register(c->root, r->wait, on_readable,
				       (su_wakeup_arg_t *)r, 0)) < 0)
		return ENOMEM;
	return 0;
}

int ngc_alloc(struct ngc **cp, su_root_t *root, const struct ph_addr *relays,
	      unsigned n)
{
	struct ngc *c;
	int err = 0;

	if (!n || n > NGC_MAX_RELAYS)
		return EINVAL;
	if (!(c = calloc(1, sizeof *c)))
		return ENOMEM;
	c->root = root;
	for (unsigned i = 0; i < NGC_MAX_RELAYS; i++)
		c->r[i].fd = c->r[i].reg = -1;
	for (; c->n < n && !err; c->n++)
		err = relay_open(c, c->n, &relays[c->n]);
	c->tick = su_timer_create(su_root_task(root), TICK_MS);
	if (!err && (!c->tick ||
		     su_timer_set_for_ever(c->tick, on_tick, (su_timer_arg_t *)c)))
		err = ENOMEM;
	if (err) {
		ngc_free(c);
		return err;
	}
	/* who answers: the first calls go to relays known alive */
	for (unsigned i = 0; i < c->n; i++)
		ngc_send(c, i, "d7:command4:pinge", 17, "ping", NULL, NULL);
	*cp = c;
	return 0;
}

void ngc_free(struct ngc *c)
{
	if (!c)
		return;
	su_timer_destroy(c->tick);
	while (c->reqs) {
		struct ngreq *q = c->reqs;
		c->reqs = q->next;
		free(q);
	}
	for (unsigned i = 0; i < NGC_MAX_RELAYS; i++) {
		if (c->r[i].reg >= 0)
			su_root_deregister(c->root, c->r[i].reg);
		if (c->r[i].fd >= 0)
			close(c->r[i].fd);
	}
	free(c);
}
