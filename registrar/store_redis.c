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
 * a node not subscribed: each time the subscription is made (at start,
 * and after Redis or the network to it was lost), every AoR there is, and
 * those emptied meanwhile (KEY_GONE), are read again.
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
#define KEY_AOR "pinhole:contacts:"
#define KEY_GONE "pinhole:gone"
#define STORE_GONE_KEPT_S "86400"
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

/* An AoR is a hash: a field per contact (its URI), the contact's record
 * alone as value, so that two nodes adding contacts to one AoR at once
 * both keep theirs (a whole set written by each, the last would win).
 * One script edits it, atomically: KEYS[1] the hash, KEYS[2] KEY_GONE;
 * ARGV[1] the wall clock, ARGV[2] this node, ARGV[3] the AoR, then a
 * field and a value per edit (an empty value removes the field). It
 * drops the contacts expired (each record's expiry: bytes 4..11, little
 * endian, after the version and the count of 1), lets the hash expire
 * with its last contact, and answers the whole record (store_codec's:
 * the version, the count, each contact) of what is left, "" for none.
 * With edits, it publishes the AoR's name, and notes an AoR left with no
 * contact in KEY_GONE for a day: a node that lost its subscription reads
 * those again too (resync()). Without, it only reads. */
static const char script[] =
	"local k, now = KEYS[1], tonumber(ARGV[1])\n"
	"for i = 4, #ARGV, 2 do\n"
	"  if ARGV[i + 1] == '' then redis.call('HDEL', k, ARGV[i])\n"
	"  else redis.call('HSET', k, ARGV[i], ARGV[i + 1]) end\n"
	"end\n"
	"local all, body, n, last, ver = redis.call('HGETALL', k), {}, 0, 0, ''\n"
	"for i = 1, #all, 2 do\n"
	"  local v, e = all[i + 1], 0\n"
	"  for j = 11, 4, -1 do e = e * 256 + (string.byte(v, j) or 0) end\n"
	"  if e <= now then redis.call('HDEL', k, all[i])\n"
	"  else n = n + 1; body[n] = string.sub(v, 4); ver = string.sub(v, 1, 1)\n"
	"    last = math.max(last, e) end\n"
	"end\n"
	"local rec = ''\n"
	"if n > 0 then\n"
	"  rec = ver .. string.char(n % 256, math.floor(n / 256)) ..\n"
	"        table.concat(body)\n"
	"  redis.call('EXPIREAT', k, last + 1)\n"
	"end\n"
	"if #ARGV > 3 then\n"
	"  if n == 0 then\n"
	"    redis.call('ZADD', KEYS[2], now, ARGV[3])\n"
	"    redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - "
	STORE_GONE_KEPT_S ")\n"
	"  end\n"
	"  redis.call('PUBLISH', '" CHANNEL "', 'b\\n' .. ARGV[2] .. '\\n' ..\n"
	"              ARGV[3] .. '\\n')\n"
	"end\n"
	"return rec\n";

/* Where an edit's answer goes, once EXEC came back. */
struct out {
	unsigned idx;        /* its reply in EXEC's */
	void **valp;
	size_t *lenp;
};

struct rd {
	char addr[CONF_PATH_LEN];
	redisContext *c;
	unsigned queued;     /* commands appended since MULTI */
	struct out *outs;
	unsigned n_outs, max_outs;
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
	if (r)
		free(r->outs);
	free(r);
}

static int rd_begin(void *h)
{
	struct rd *r = h;
	int err = rd_connected(r);

	r->queued = r->n_outs = 0;
	if (!err && redisAppendCommand(r->c, "MULTI") != REDIS_OK)
		err = ENOMEM;
	return err;
}

/* Only a deletion of a whole record comes here (one that cannot be
 * read, at start): changes are edits. */
static int rd_put(void *h, const char *key, const void *val, size_t len)
{
	struct rd *r = h;

	(void)val;
	if (len)
		return EINVAL;
	if (redisAppendCommand(r->c, "DEL " KEY_AOR "%s", key) != REDIS_OK)
		return ENOMEM;
	r->queued++;
	return 0;
}

/* The script's command for aor with n edits (argv and argl: 8 + 2n
 * entries); *keyp (malloc'd) the hash's name. */
static int script_argv(const char *aor, const struct store_edit *v,
		       unsigned n, char now[24], const char **argv,
		       size_t *argl, char **keyp)
{
	size_t klen = strlen(KEY_AOR) + strlen(aor) + 1;
	unsigned k = 0;

	if (!(*keyp = malloc(klen)))
		return ENOMEM;
	snprintf(*keyp, klen, KEY_AOR "%s", aor);
	snprintf(now, 24, "%lld", (long long)time(NULL));
	argv[k++] = "EVAL";
	argv[k++] = script;
	argv[k++] = "2";
	argv[k++] = *keyp;
	argv[k++] = KEY_GONE;
	argv[k++] = now;
	argv[k++] = self;
	argv[k++] = aor;
	for (unsigned i = 0; i < k; i++)
		argl[i] = strlen(argv[i]);
	for (unsigned i = 0; i < n; i++) {
		argl[k] = strlen(v[i].field);
		argv[k++] = v[i].field;
		argl[k] = v[i].val ? v[i].len : 0;
		argv[k++] = v[i].val ? (const char *)v[i].val : "";
	}
	return 0;
}

static int rd_edit(void *h, const char *key, const struct store_edit *v,
		   unsigned n, void **outp, size_t *outlenp)
{
	struct rd *r = h;
	const char **argv = NULL;
	size_t *argl = NULL;
	char now[24], *hkey = NULL;
	int err = ENOMEM;

	if (r->n_outs == r->max_outs) {
		unsigned max = r->max_outs ? 2 * r->max_outs : 64;
		struct out *o = realloc(r->outs, max * sizeof *o);

		if (!o)
			return ENOMEM;
		r->outs = o;
		r->max_outs = max;
	}
	if (!(argv = calloc(8 + 2 * (size_t)n, sizeof *argv)) ||
	    !(argl = calloc(8 + 2 * (size_t)n, sizeof *argl)) ||
	    (err = script_argv(key, v, n, now, argv, argl, &hkey)))
		goto out;
	err = redisAppendCommandArgv(r->c, (int)(8 + 2 * n), argv, argl) ==
	      REDIS_OK ? 0 : ENOMEM;
	if (!err)
		r->outs[r->n_outs++] = (struct out){r->queued++, outp, outlenp};
out:
	free(hkey);
	free(argv);
	free(argl);
	return err;
}

/* The script's answer: the record (malloc'd), NULL when "". */
static int take_record(const redisReply *rep, void **valp, size_t *lenp)
{
	if (rep->type != REDIS_REPLY_STRING)
		return EIO;
	*valp = NULL;
	*lenp = 0;
	if (!rep->len)
		return 0;
	if (!(*valp = malloc(rep->len)))
		return ENOMEM;
	memcpy(*valp, rep->str, rep->len);
	*lenp = rep->len;
	return 0;
}

/* EXEC's answers to the edits. */
static int take_outs(struct rd *r, const redisReply *exec)
{
	int err = 0;

	for (unsigned i = 0; !err && i < r->n_outs; i++) {
		const struct out *o = &r->outs[i];

		if (o->idx >= exec->elements)
			return EIO;
		if (exec->element[o->idx]->type == REDIS_REPLY_ERROR)
			log_err("store: redis %s: %s", r->addr,
				exec->element[o->idx]->str);
		err = take_record(exec->element[o->idx], o->valp, o->lenp);
	}
	for (unsigned i = 0; err && i < r->n_outs; i++) {
		free(*r->outs[i].valp);
		*r->outs[i].valp = NULL;
	}
	return err;
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
			log_warn("store: redis %s: %s", r->addr, r->c->errstr);
			return ECONNRESET; /* the next begin reconnects */
		}
		if (rep->type == REDIS_REPLY_ERROR) {
			log_err("store: redis %s: %s", r->addr, rep->str);
			err = EIO;
		}
		if (i == r->queued + 1)
			err = rep->type != REDIS_REPLY_ARRAY ? EIO /* aborted */
			      : err ? err : take_outs(r, rep);
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

/* The AoR's record, the script reading it (its expired contacts
 * dropped): ENOENT when none. */
static int read_record(redisContext *c, const char *aor, void **valp,
		       size_t *lenp)
{
	const char *argv[8];
	size_t argl[8];
	char now[24], *hkey;
	redisReply *rep;
	int err = script_argv(aor, NULL, 0, now, argv, argl, &hkey);

	if (err)
		return err;
	rep = redisCommandArgv(c, 8, argv, argl);
	free(hkey);
	if (!rep)
		return EIO;
	if (rep->type == REDIS_REPLY_ERROR)
		log_err("store: redis: reading %s: %s", aor, rep->str);
	err = take_record(rep, valp, lenp);
	freeReplyObject(rep);
	return !err && !*valp ? ENOENT : err;
}

static int rd_get(void *h, const char *key, void **valp, size_t *lenp)
{
	struct rd *r = h;
	int err = rd_connected(r);

	return err ? err : read_record(r->c, key, valp, lenp);
}

/* fn for each key of SCAN MATCH pattern (the prefix plen long taken off),
 * until it fails; cursor 0 ends it (bounded by the keys there are). */
static int scan_keys(redisContext *c, const char *pattern, size_t plen,
		     int (*fn)(const char *key, size_t klen, void *arg),
		     void *arg)
{
	char cursor[32] = "0";
	int err = 0;

	do {
		redisReply *rep = redisCommand(c, "SCAN %s MATCH %s COUNT 1000",
					       cursor, pattern);

		if (!rep || rep->type != REDIS_REPLY_ARRAY ||
		    rep->elements != 2 ||
		    rep->element[0]->type != REDIS_REPLY_STRING) {
			if (rep)
				freeReplyObject(rep);
			return EIO;
		}
		snprintf(cursor, sizeof cursor, "%s", rep->element[0]->str);
		for (size_t i = 0; !err && i < rep->element[1]->elements; i++) {
			const redisReply *k = rep->element[1]->element[i];

			if (k->type == REDIS_REPLY_STRING && k->len > plen)
				err = fn(k->str + plen, k->len - plen, arg);
		}
		freeReplyObject(rep);
	} while (!err && strcmp(cursor, "0"));
	return err;
}

struct each {
	struct rd *r;
	int (*fn)(const char *, size_t, const void *, size_t, void *);
	void *arg;
};

static int each_key(const char *key, size_t klen, void *arg)
{
	struct each *e = arg;
	char aor[klen + 1];
	void *val;
	size_t len;
	int err;

	memcpy(aor, key, klen);
	aor[klen] = '\0';
	err = read_record(e->r->c, aor, &val, &len);
	if (err == ENOENT) /* gone since the SCAN, or every contact expired */
		return 0;
	if (!err)
		err = e->fn(key, klen, val, len, e->arg);
	free(val);
	return err;
}

static int rd_each(void *h, int (*fn)(const char *key, size_t klen,
				      const void *val, size_t len, void *arg),
		   void *arg)
{
	struct each e = {h, fn, arg};
	int err = rd_connected(h);

	return err ? err : scan_keys(e.r->c, KEY_AOR "*", strlen(KEY_AOR),
				     each_key, &e);
}

static const struct store_engine store_redis_engine = {
	.name = "redis",
	.open = rd_open,
	.begin = rd_begin,
	.put = rd_put,
	.edit = rd_edit,
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
	int err = scan_keys(c, KEY_NODE "*", strlen(KEY_NODE), found_node, &f);

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
	redisContext *c = connect_to(s->addr);
	redisReply *rep = NULL;
	int err = c ? 0 : ECONNREFUSED;
	uint64_t one = 1;

	if (!err)
		err = scan_keys(c, KEY_AOR "*", strlen(KEY_AOR), resync_one, &r);
	if (!err && (!(rep = redisCommand(c, "ZRANGEBYSCORE " KEY_GONE
					  " %lld +inf", (long long)s->lost - 10)) ||
		     rep->type != REDIS_REPLY_ARRAY))
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
		redisContext *c = connect_to(s->addr);
		redisReply *rep;

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
		pthread_mutex_unlock(&s->lock);
		if (s->sub_fd >= 0 && !resync(s)) {
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
			log_warn("store: another node's change of %s not read: %s",
				 ch->aor, strerror(err));
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
	if ((err = conf_node_address(c, self, sizeof self)))
		goto out;
	/* its first subscription reads every AoR again: a change between the
	 * load and it is not lost */
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
