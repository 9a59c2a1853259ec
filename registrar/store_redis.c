/* store = redis: several pinholed nodes share their bindings in one Redis
 * server (store.h).
 *
 * Writes: the file store's writer thread and group commit (store.c) over
 * a Redis engine that edits: a batch is one MULTI/EXEC of a script per
 * AoR, which writes the contacts changed each alone (a hash per AoR) and
 * publishes the AoR's name on CHANNEL. A REGISTER is answered once EXEC's
 * reply came back: durable here means the write reached Redis (kept on
 * disk as far as Redis's own appendonly/save settings do).
 *
 * Reads: every node keeps the whole table in memory, as with store =
 * file, and follows the other nodes' changes by subscribing to CHANNEL
 * (a thread blocking in its own connection), rather than asking Redis on
 * every lookup: the proxy's lookup stays synchronous and local. A change
 * told is read again by the writer (the script, editing nothing), in
 * order with this node's own writes, whose answers are the whole record
 * too: memory never goes back to an older one. Pub/sub keeps nothing for
 * a node not subscribed: a node loads every record (SCAN) once
 * subscribed, and each time it subscribes again (after Redis or the
 * network to it was lost) it reads again every AoR there is, and those
 * emptied meanwhile (KEY_GONE).
 *
 * Nodes: each binding names the node its flow lives on (its
 * node_address). Every node sets KEY_NODE<address> each second, with a
 * TTL of STORE_NODE_DEAD_S seconds, and then lists those keys: a node
 * whose key has expired is dead (fork.c then sends to the binding's
 * registered address itself). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "log.h"
#include "store_redis.h"

#define MAX_NODES 64

static char *const self = store_redis_self;

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* ---- the nodes alive: their heartbeat keys ------------------------- */

static pthread_mutex_t nodes_lock = PTHREAD_MUTEX_INITIALIZER;
static char nodes[MAX_NODES][CONF_PATH_LEN]; /* in the last scan */
static unsigned n_nodes;
static time_t scanned;                       /* then (0: never) */

bool store_node_alive(const char *addr)
{
	bool alive = false;

	pthread_mutex_lock(&nodes_lock);
	/* a scan that is late (Redis unreachable) tells nothing any more */
	for (unsigned i = 0; scanned + STORE_NODE_DEAD_S >= mono_now() &&
			     i < n_nodes; i++)
		alive = alive || !strcmp(nodes[i], addr);
	pthread_mutex_unlock(&nodes_lock);
	return alive;
}

struct found {
	char node[MAX_NODES][CONF_PATH_LEN];
	unsigned n;
};

static int found_node(const char *key, size_t klen, void *arg)
{
	struct found *f = arg;

	if (f->n < MAX_NODES && klen < CONF_PATH_LEN &&
	    (klen != strlen(self) || memcmp(key, self, klen))) {
		memcpy(f->node[f->n], key, klen);
		f->node[f->n++][klen] = '\0';
	}
	return 0;
}

/* Every KEY_NODE key (each lives STORE_NODE_DEAD_S after its node's last
 * heartbeat): the nodes alive, this one left out. */
static int scan_nodes(redisContext *c)
{
	struct found f = {.n = 0};
	int err = store_redis_scan(c, KEY_NODE "*", strlen(KEY_NODE),
				   found_node, &f);

	if (err)
		return err;
	pthread_mutex_lock(&nodes_lock);
	memcpy(nodes, f.node, sizeof f.node[0] * f.n);
	n_nodes = f.n;
	scanned = mono_now();
	pthread_mutex_unlock(&nodes_lock);
	return 0;
}

/* ---- the store: threads around the file store ----------------------- */

/* An AoR another node changed: to read again. */
struct change {
	struct change *next;
	char aor[];
};

struct rstore {
	struct loc_store base;
	struct loc_store *file;
	char addr[CONF_PATH_LEN];
	su_root_t *root;
	su_wait_t wait[1];
	int efd;
	pthread_t sub, hb;
	bool sub_started, hb_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	int sub_fd;                 /* the subscriber's socket, to wake it */
	struct change *changes, **ctail;
	time_t lost;                /* the wall clock when the subscription
				       was lost (or the store started) */
	enum {
		FIRST_AWAITED,      /* the store waits for it to load */
		FIRST_BEFORE_LOAD,  /* came so: the load reads every AoR */
		FIRST_LATE,         /* the store loaded without it */
	} first;                    /* the first subscription */
};

static bool stopping(struct rstore *s)
{
	bool stop;

	pthread_mutex_lock(&s->lock);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Waits up to ms, or until stop; returns stop. */
static bool nap(struct rstore *s, unsigned ms)
{
	struct timespec ts;
	bool stop;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&s->lock);
	if (!s->stop)
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	stop = s->stop;
	pthread_mutex_unlock(&s->lock);
	return stop;
}

/* Each second: this node's key, then which others have theirs. */
static void *heartbeat_main(void *arg)
{
	struct rstore *s = arg;
	redisContext *c = NULL;

	do {
		redisReply *rep;

		if (!c || c->err) {
			if (c)
				redisFree(c);
			c = store_redis_connect(s->addr);
			if (!c)
				continue;
		}
		rep = redisCommand(c, "SET " KEY_NODE "%s %lld PX %u", self,
				   (long long)time(NULL),
				   STORE_NODE_DEAD_S * 1000);
		if (rep)
			freeReplyObject(rep);
		scan_nodes(c);
	} while (!nap(s, 1000));
	if (c)
		redisFree(c);
	return NULL;
}

/* aor (len bytes) to the loop, to be read again; wake: now. */
static int queue_change(struct rstore *s, const char *aor, size_t len,
			bool wake)
{
	struct change *ch = malloc(sizeof *ch + len + 1);
	uint64_t one = 1;

	if (!ch)
		return ENOMEM;
	ch->next = NULL;
	memcpy(ch->aor, aor, len);
	ch->aor[len] = '\0';
	pthread_mutex_lock(&s->lock);
	*s->ctail = ch;
	s->ctail = &ch->next;
	pthread_mutex_unlock(&s->lock);
	if (wake && write(s->efd, &one, sizeof one) < 0) {
		/* the counter is full: the loop has a wake-up coming */
	}
	return 0;
}

/* One message of CHANNEL ("b\nNODE\nAOR\n"): another node's change. */
static void on_message(struct rstore *s, const char *p, size_t len)
{
	const char *node, *aor, *end = p + len, *nl;

	if (len < 2 || p[0] != 'b' || p[1] != '\n')
		return;
	node = p + 2;
	if (!(nl = memchr(node, '\n', (size_t)(end - node))) ||
	    ((size_t)(nl - node) == strlen(self) &&
	     !memcmp(node, self, strlen(self))))
		return; /* ours: the edit's answer has it */
	aor = nl + 1;
	if ((nl = memchr(aor, '\n', (size_t)(end - aor))))
		queue_change(s, aor, (size_t)(nl - aor), true);
}

static void subscribed(struct rstore *s, redisContext *c)
{
	redisReply *rep;

	while (redisGetReply(c, (void **)&rep) == REDIS_OK) {
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
		    rep->element[0]->type == REDIS_REPLY_STRING &&
		    !strcmp(rep->element[0]->str, "message") &&
		    rep->element[2]->type == REDIS_REPLY_STRING)
			on_message(s, rep->element[2]->str, rep->element[2]->len);
		freeReplyObject(rep);
	}
}

struct resync {
	struct rstore *s;
	unsigned long n;
};

static int resync_one(const char *aor, size_t len, void *arg)
{
	struct resync *r = arg;

	r->n++;
	return queue_change(r->s, aor, len, false);
}

/* Newly subscribed: what was published while this node was not is
 * lost, so every AoR there is (SCAN) and every one emptied since a
 * little before the subscription was lost (KEY_GONE, scored by the
 * writer's clock) is read again. Messages come in meanwhile and wait in
 * the connection: those of a change read here go to the loop after it,
 * and read it again. */
static int resync(struct rstore *s)
{
	struct resync r = {s, 0};
	redisContext *c = store_redis_connect(s->addr);
	redisReply *rep = NULL;
	int err = c ? 0 : ECONNREFUSED;
	uint64_t one = 1;

	if (!err)
		err = store_redis_scan(c, KEY_AOR "*", strlen(KEY_AOR),
				       resync_one, &r);
	if (!err)
		rep = redisCommand(c, "ZRANGEBYSCORE " KEY_GONE " %lld +inf",
				   (long long)s->lost - 10);
	if (!err && (!rep || rep->type != REDIS_REPLY_ARRAY))
		err = EIO;
	for (size_t i = 0; !err && i < rep->elements; i++)
		if (rep->element[i]->type == REDIS_REPLY_STRING)
			err = resync_one(rep->element[i]->str,
					 rep->element[i]->len, &r);
	if (rep)
		freeReplyObject(rep);
	if (c)
		redisFree(c);
	if (write(s->efd, &one, sizeof one) < 0) {
		/* the counter is full: the loop has a wake-up coming */
	}
	if (err)
		log_warn("store: redis %s: AoRs not listed to read again (%s); "
			 "subscribing anew", s->addr, strerror(err));
	else
		log_info("store: redis %s: subscribed; %lu AoRs to read again",
			 s->addr, r.n);
	return err;
}

/* Blocks in its connection (no read timeout: a quiet channel is no
 * error); stop shuts the socket. */
static void *subscriber_main(void *arg)
{
	struct rstore *s = arg;

	while (!stopping(s)) {
		redisContext *c = store_redis_connect(s->addr);
		redisReply *rep;
		bool loading;

		if (!c) {
			nap(s, 1000);
			continue;
		}
		rep = redisCommand(c, "SUBSCRIBE " CHANNEL);
		redisSetTimeout(c, (struct timeval){0, 0});
		if (rep)
			freeReplyObject(rep);
		pthread_mutex_lock(&s->lock);
		s->sub_fd = s->stop || !rep ? -1 : c->fd;
		loading = s->sub_fd >= 0 && s->first == FIRST_AWAITED;
		if (loading) {
			s->first = FIRST_BEFORE_LOAD;
			pthread_cond_broadcast(&s->cond);
		}
		pthread_mutex_unlock(&s->lock);
		if (s->sub_fd >= 0 && (loading || !resync(s))) {
			subscribed(s, c);
			s->lost = time(NULL);
		} else {
			nap(s, 1000);
		}
		pthread_mutex_lock(&s->lock);
		s->sub_fd = -1;
		pthread_mutex_unlock(&s->lock);
		if (!stopping(s))
			log_warn("store: redis %s: subscription lost (%s); "
				 "resubscribing", s->addr, c->errstr);
		redisFree(c);
	}
	return NULL;
}

static int on_changes(su_root_magic_t *magic, su_wait_t *w,
		      su_wakeup_arg_t *arg)
{
	struct rstore *s = (struct rstore *)arg;
	struct change *ch, *next;
	uint64_t n;

	(void)magic;
	(void)w;
	if (read(s->efd, &n, sizeof n) < 0) {
		/* nothing yet: a spurious wake-up */
	}
	pthread_mutex_lock(&s->lock);
	ch = s->changes;
	s->changes = NULL;
	s->ctail = &s->changes;
	pthread_mutex_unlock(&s->lock);
	for (; ch; ch = next) {
		int err = s->file ? store_file_refresh(s->file, ch->aor) : 0;

		if (err)
			log_warn("store: another node's change of %s not "
				 "read: %s", ch->aor, strerror(err));
		next = ch->next;
		free(ch);
	}
	return 0;
}

static int rs_get(struct loc_store *ls, const char *aor,
		  const struct loc_contact **vp, unsigned *np)
{
	struct rstore *s = (struct rstore *)ls;

	return loc_get(s->file, aor, vp, np);
}

static int rs_put(struct loc_store *ls, const char *aor,
		  const struct loc_contact *v, unsigned n)
{
	struct rstore *s = (struct rstore *)ls;

	return loc_put(s->file, aor, v, n);
}

static unsigned rs_expire(struct loc_store *ls, time_t now)
{
	struct rstore *s = (struct rstore *)ls;

	return loc_expire(s->file, now);
}

static void rs_count(const struct loc_store *ls, unsigned long *aors,
		     unsigned long *contacts)
{
	const struct rstore *s = (const struct rstore *)ls;

	loc_count(s->file, aors, contacts);
}

static void rs_sync(struct loc_store *ls, struct loc_wait *w)
{
	struct rstore *s = (struct rstore *)ls;

	loc_sync(s->file, w);
}

static void rs_destroy(struct loc_store *ls)
{
	struct rstore *s = (struct rstore *)ls;
	struct loc_store *file;

	pthread_mutex_lock(&s->lock);
	s->stop = true;
	if (s->sub_fd >= 0)
		shutdown(s->sub_fd, SHUT_RDWR);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	if (s->sub_started)
		pthread_join(s->sub, NULL);
	if (s->hb_started)
		pthread_join(s->hb, NULL);
	if (s->root && s->efd >= 0)
		su_root_unregister(s->root, s->wait, on_changes,
				   (su_wakeup_arg_t *)s);
	file = s->file;
	s->file = NULL;
	on_changes(NULL, NULL, (su_wakeup_arg_t *)s); /* frees what is left */
	if (s->efd >= 0)
		close(s->efd);
	loc_destroy(file);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

static const struct loc_store_ops redis_ops = {
	.name = "redis",
	.get = rs_get,
	.put = rs_put,
	.expire = rs_expire,
	.count = rs_count,
	.destroy = rs_destroy,
	.sync = rs_sync,
};

static int start_subscriber(struct rstore *s)
{
	int err;

	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0)
		return errno;
	if (su_wait_create(s->wait, s->efd, SU_WAIT_IN) < 0 ||
	    su_root_register(s->root, s->wait, on_changes,
			     (su_wakeup_arg_t *)s, 0) < 0)
		return ENOMEM;
	if ((err = pthread_create(&s->sub, NULL, subscriber_main, s)))
		return err;
	s->sub_started = true;
	return 0;
}

/* Waits a little for the subscriber's first subscription. */
static void first_subscription(struct rstore *s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2 * STORE_REDIS_TIMEOUT_S;
	pthread_mutex_lock(&s->lock);
	while (s->first == FIRST_AWAITED &&
	       pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
		;
	if (s->first == FIRST_AWAITED)
		s->first = FIRST_LATE;
	pthread_mutex_unlock(&s->lock);
}

int store_redis_alloc(struct loc_store **sp, struct loc_store *mem,
		      const struct pconf *c, su_root_t *root, time_t now)
{
	struct rstore *s = calloc(1, sizeof *s);
	int err;

	if (!s)
		return ENOMEM;
	s->base.ops = &redis_ops;
	s->efd = s->sub_fd = -1;
	s->ctail = &s->changes;
	s->root = root;
	s->lost = time(NULL);
	snprintf(s->addr, sizeof s->addr, "%s", c->redis);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if ((err = conf_node_address(c, self, CONF_PATH_LEN)))
		goto out;
	/* subscribed before loading: no change between the two is lost (a
	 * subscription made later reads every AoR again, resync()) */
	if ((err = start_subscriber(s)))
		goto out;
	first_subscription(s);
	if ((err = store_file_alloc(&s->file, mem, &store_redis_engine,
				    c->redis, 0, root, now)))
		goto out;
	if ((err = pthread_create(&s->hb, NULL, heartbeat_main, s)))
		goto out;
	s->hb_started = true;
	log_notice("store: shared in redis %s as node %s", c->redis, self);
	*sp = &s->base;
	return 0;
out:
	if (!s->file)
		loc_destroy(mem);
	rs_destroy(&s->base); /* and mem with the file store, if made */
	return err;
}
