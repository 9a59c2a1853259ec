/* store = redis: several pinholed nodes share their bindings in one Redis
 * server (store.h).
 *
 * Writes: the file store's writer thread and group commit (store.c) over
 * a Redis engine: a batch is one MULTI/EXEC of SET (or DEL) per AoR, each
 * with a PUBLISH of the new record on CHANNEL. A REGISTER is answered
 * once EXEC's reply came back: durable here means the write reached
 * Redis (kept on disk as far as Redis's own appendonly/save settings do).
 *
 * Reads: every node keeps the whole table in memory, as with store =
 * file, and follows the other nodes' changes by subscribing to CHANNEL
 * (a thread blocking in its own connection), rather than asking Redis on
 * every lookup: the proxy's lookup stays synchronous and local, and a
 * node reads each change once instead of once per call. A node that
 * starts loads every record (SCAN), after subscribing, so that nothing
 * between the two is missed.
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

#include <hiredis/hiredis.h>

#include "conf.h"
#include "log.h"
#include "store.h"

#define CHANNEL "pinhole:loc"
#define KEY_AOR "pinhole:aor:"
#define KEY_NODE "pinhole:node:"
#define MAX_NODES 64
#define TIMEOUT_S 2

/* one node per process: what the engine's open() cannot be told */
static char self[CONF_PATH_LEN];

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static redisContext *connect_to(const char *hostport)
{
	char host[CONF_PATH_LEN];
	const char *colon = strrchr(hostport, ':');
	struct timeval tv = {TIMEOUT_S, 0};
	redisContext *c;

	if (!colon || (size_t)(colon - hostport) >= sizeof host)
		return NULL;
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	c = redisConnectWithTimeout(host, atoi(colon + 1), tv);
	if (c && !c->err && redisSetTimeout(c, tv) == REDIS_OK)
		return c;
	if (c) {
		log_err("store: redis %s: %s", hostport, c->errstr);
		redisFree(c);
	}
	return NULL;
}

/* ---- the engine: called from one thread at a time ------------------- */

struct rd {
	char addr[CONF_PATH_LEN];
	redisContext *c;
	unsigned queued;     /* commands appended since MULTI */
};

static int rd_connected(struct rd *r)
{
	if (r->c && r->c->err) {
		log_warn("store: redis %s: %s; reconnecting", r->addr,
			 r->c->errstr);
		redisFree(r->c);
		r->c = NULL;
	}
	if (!r->c)
		r->c = connect_to(r->addr);
	return r->c ? 0 : ECONNREFUSED;
}

static int rd_open(void **hp, const char *path, size_t max_bytes)
{
	struct rd *r = calloc(1, sizeof *r);
	int err;

	(void)max_bytes;
	if (!r)
		return ENOMEM;
	snprintf(r->addr, sizeof r->addr, "%s", path);
	if ((err = rd_connected(r))) {
		free(r);
		return err;
	}
	*hp = r;
	return 0;
}

static void rd_close(void *h)
{
	struct rd *r = h;

	if (r && r->c)
		redisFree(r->c);
	free(r);
}

static int rd_begin(void *h)
{
	struct rd *r = h;
	int err = rd_connected(r);

	r->queued = 0;
	if (!err && redisAppendCommand(r->c, "MULTI") != REDIS_OK)
		err = ENOMEM;
	return err;
}

static int rd_put(void *h, const char *key, const void *val, size_t len)
{
	struct rd *r = h;
	size_t klen = strlen(key), plen;
	char *msg;
	int rc;

	/* b NODE AOR RECORD: the record of AoR (none: deleted), by NODE */
	plen = 2 + strlen(self) + 1 + klen + 1 + len;
	if (!(msg = malloc(plen + 1))) /* + snprintf's NUL */
		return ENOMEM;
	snprintf(msg, plen + 1, "b\n%s\n%s\n", self, key);
	if (len)
		memcpy(msg + plen - len, val, len);
	rc = len ? redisAppendCommand(r->c, "SET " KEY_AOR "%b %b", key, klen,
				      val, len)
		 : redisAppendCommand(r->c, "DEL " KEY_AOR "%b", key, klen);
	if (rc == REDIS_OK)
		rc = redisAppendCommand(r->c, "PUBLISH " CHANNEL " %b", msg, plen);
	free(msg);
	r->queued += 2;
	return rc == REDIS_OK ? 0 : ENOMEM;
}

/* Every reply of the transaction read; 0 when EXEC ran it. */
static int rd_commit(void *h)
{
	struct rd *r = h;
	redisReply *rep = NULL;
	int err = 0;

	if (redisAppendCommand(r->c, "EXEC") != REDIS_OK)
		return ENOMEM;
	for (unsigned i = 0; i < r->queued + 2; i++) {
		if (redisGetReply(r->c, (void **)&rep) != REDIS_OK) {
			log_err("store: redis %s: %s", r->addr, r->c->errstr);
			return EIO;
		}
		if (rep->type == REDIS_REPLY_ERROR) {
			log_err("store: redis %s: %s", r->addr, rep->str);
			err = EIO;
		}
		if (i == r->queued + 1 && rep->type != REDIS_REPLY_ARRAY)
			err = EIO; /* EXEC aborted */
		freeReplyObject(rep);
	}
	return err;
}

/* What was appended is dropped with the connection (nothing of it ran:
 * no EXEC went). */
static void rd_abort(void *h)
{
	struct rd *r = h;

	if (r->c)
		redisFree(r->c);
	r->c = NULL;
}

static int rd_get(void *h, const char *key, void **valp, size_t *lenp)
{
	struct rd *r = h;
	redisReply *rep;
	int err = rd_connected(r);

	if (err)
		return err;
	rep = redisCommand(r->c, "GET " KEY_AOR "%s", key);
	if (!rep)
		return EIO;
	if (rep->type == REDIS_REPLY_NIL)
		err = ENOENT;
	else if (rep->type != REDIS_REPLY_STRING)
		err = EIO;
	else if (!(*valp = malloc(rep->len ? rep->len : 1)))
		err = ENOMEM;
	if (!err) {
		memcpy(*valp, rep->str, rep->len);
		*lenp = rep->len;
	}
	freeReplyObject(rep);
	return err;
}

static int rd_each_key(struct rd *r, const redisReply *k,
		       int (*fn)(const char *, size_t, const void *, size_t,
				 void *), void *arg)
{
	const size_t plen = strlen(KEY_AOR);
	redisReply *v;
	int err = 0;

	if (k->type != REDIS_REPLY_STRING || k->len <= plen)
		return 0;
	v = redisCommand(r->c, "GET %b", k->str, k->len);
	if (!v)
		return EIO;
	if (v->type == REDIS_REPLY_STRING) /* else gone since the SCAN */
		err = fn(k->str + plen, k->len - plen, v->str, v->len, arg);
	freeReplyObject(v);
	return err;
}

static int rd_each(void *h, int (*fn)(const char *key, size_t klen,
				      const void *val, size_t len, void *arg),
		   void *arg)
{
	struct rd *r = h;
	char cursor[32] = "0";
	int err = rd_connected(r);

	/* SCAN: bounded by the keys there are; it ends at cursor 0 */
	do {
		redisReply *rep;

		if (err)
			return err;
		rep = redisCommand(r->c, "SCAN %s MATCH " KEY_AOR "* COUNT 1000",
				   cursor);
		if (!rep)
			return EIO;
		if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING) {
			freeReplyObject(rep);
			return EIO;
		}
		snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
		for (size_t i = 0; !err && i < rep->element[1]->elements; i++)
			err = rd_each_key(r, rep->element[1]->element[i], fn, arg);
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return err;
}

static const struct store_engine store_redis_engine = {
	.name = "redis",
	.open = rd_open,
	.begin = rd_begin,
	.put = rd_put,
	.commit = rd_commit,
	.abort = rd_abort,
	.get = rd_get,
	.each = rd_each,
	.close = rd_close,
};

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

/* Every KEY_NODE key (each lives STORE_NODE_DEAD_S after its node's last
 * heartbeat): the nodes alive, this one left out. */
static int scan_nodes(redisContext *c)
{
	char found[MAX_NODES][CONF_PATH_LEN], cursor[32] = "0";
	const size_t plen = strlen(KEY_NODE);
	unsigned n = 0;

	do {
		redisReply *rep = redisCommand(c, "SCAN %s MATCH " KEY_NODE "*"
					       " COUNT 1000", cursor);

		if (!rep || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING) {
			if (rep)
				freeReplyObject(rep);
			return EIO;
		}
		snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
		for (size_t i = 0; i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];

			if (n < MAX_NODES && k->type == REDIS_REPLY_STRING &&
			    k->len > plen && k->len - plen < CONF_PATH_LEN &&
			    strcmp(k->str + plen, self))
				snprintf(found[n++], CONF_PATH_LEN, "%s",
					 k->str + plen);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	pthread_mutex_lock(&nodes_lock);
	memcpy(nodes, found, sizeof found[0] * n);
	n_nodes = n;
	scanned = mono_now();
	pthread_mutex_unlock(&nodes_lock);
	return 0;
}

/* ---- the store: threads around the file store ----------------------- */

struct change {
	struct change *next;
	size_t len;
	char *aor;
	unsigned char val[];
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
			c = connect_to(s->addr);
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

/* One message of CHANNEL: another node's record, to the loop. */
static void on_message(struct rstore *s, const char *p, size_t len)
{
	const char *node, *aor, *end = p + len, *nl;
	struct change *ch;
	uint64_t one = 1;

	if (len < 2 || p[0] != 'b' || p[1] != '\n')
		return;
	node = p + 2;
	if (!(nl = memchr(node, '\n', (size_t)(end - node))) ||
	    ((size_t)(nl - node) == strlen(self) &&
	     !memcmp(node, self, strlen(self))))
		return; /* ours: memory has it */
	aor = nl + 1;
	if (!(nl = memchr(aor, '\n', (size_t)(end - aor))))
		return;
	len = (size_t)(end - nl - 1);
	if (!(ch = malloc(sizeof *ch + len + (size_t)(nl - aor) + 1)))
		return;
	ch->next = NULL;
	ch->len = len;
	memcpy(ch->val, nl + 1, len);
	ch->aor = (char *)ch->val + len;
	memcpy(ch->aor, aor, (size_t)(nl - aor));
	ch->aor[nl - aor] = '\0';
	pthread_mutex_lock(&s->lock);
	*s->ctail = ch;
	s->ctail = &ch->next;
	pthread_mutex_unlock(&s->lock);
	if (write(s->efd, &one, sizeof one) < 0) {
		/* the counter is full: the loop has a wake-up coming */
	}
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

/* Blocks in its connection (no read timeout: a quiet channel is no
 * error); stop shuts the socket. */
static void *subscriber_main(void *arg)
{
	struct rstore *s = arg;

	while (!stopping(s)) {
		redisContext *c = connect_to(s->addr);
		redisReply *rep;

		if (!c) {
			nap(s, 1000);
			continue;
		}
		rep = redisCommand(c, "SUBSCRIBE " CHANNEL);
		redisSetTimeout(c, (struct timeval){0, 0});
		if (rep) {
			freeReplyObject(rep);
			pthread_mutex_lock(&s->lock);
			s->sub_fd = s->stop ? -1 : c->fd;
			pthread_mutex_unlock(&s->lock);
			if (s->sub_fd >= 0)
				subscribed(s, c);
			pthread_mutex_lock(&s->lock);
			s->sub_fd = -1;
			pthread_mutex_unlock(&s->lock);
		}
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
		int err = s->file ? store_file_apply(s->file, ch->aor, ch->val,
						     ch->len) : 0;

		if (err)
			log_warn("store: another node's record of %s not taken: "
				 "%s", ch->aor, strerror(err));
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
	on_changes(NULL, NULL, (su_wakeup_arg_t *)s); /* frees what is left */
	if (s->efd >= 0)
		close(s->efd);
	loc_destroy(s->file);
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
	snprintf(s->addr, sizeof s->addr, "%s", c->redis);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if ((err = conf_node_address(c, self, sizeof self)))
		goto out;
	/* subscribed before loading: no change between the two is lost */
	if ((err = start_subscriber(s)))
		goto out;
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
