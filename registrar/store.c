/* The durable location store (store.h): memory for reads, a file written
 * ahead by one writer thread with group commit.
 *
 * The loop thread changes memory at once (so that the next request sees
 * the change) and queues the AoR's new record; the writer takes every
 * queued record at once, writes them in one transaction and syncs once,
 * then hands the batch back through an eventfd; the loop thread answers
 * whoever waits on it. A batch that could not be committed is undone in
 * memory: each of its AoRs gets back what the file holds, unless a later
 * change of that AoR is still on its way.
 *
 * An engine that edits (store = redis, where other nodes write the same
 * AoRs) is given each change as the contacts it adds, changes or
 * removes, not as the whole set, and gives back the AoR's whole record as
 * it was after them: memory takes that, the other writers' contacts
 * included. Another node's change is read again the same way, in the
 * writer's order, so that memory never goes back to an older record. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "log.h"
#include "store.h"

#define BATCH_MAX 1024

struct op {
	struct op *qnext;         /* the queue or a batch (under lock) */
	struct op *unext, *uprev; /* not yet done, in order (loop only) */
	struct loc_wait *waiters; /* (loop only) */
	int err;                  /* the batch's, set by the writer */
	void *disk;               /* failed or edit: what the file holds */
	size_t disklen;
	unsigned char *val;       /* the record; NULL: delete */
	size_t len;
	bool kept;                /* a record beside the bindings (store_keep) */
	bool edit;                /* edits, not val (e->edit) */
	struct store_edit *edits; /* NULL, none: the record read */
	unsigned nedits;
	char aor[];               /* its key */
};

/* A record beside the bindings, as loaded at start. */
struct kept {
	struct kept *next;
	void *val;
	size_t len;
	char key[];
};

struct fstore {
	struct loc_store base;
	struct loc_store *mem;
	const struct store_engine *e;
	void *h;
	su_root_t *root;
	su_wait_t wait[1];
	int efd;
	struct op *ufirst, *ulast;  /* not yet done (loop only) */
	pthread_t writer;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct op *queue, **qtail;  /* for the writer */
	struct op *done, **dtail;   /* for the loop */
	bool stop;
	bool gather;                /* under load (writer only) */
	unsigned long batches;      /* commits, for the log */
	struct kept *kept;          /* loaded, not yet taken */
};

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static time_t wall_off(void)
{
	return time(NULL) - mono_now();
}

/* ---- the writer thread ---------------------------------------------- */

static int try_batch(struct fstore *s, struct op *batch)
{
	int err = s->e->begin(s->h);

	for (struct op *o = batch; o && !err; o = o->qnext)
		err = o->edit ? s->e->edit(s->h, o->aor, o->edits, o->nedits,
					   &o->disk, &o->disklen)
			      : s->e->put(s->h, o->aor, o->val,
					  o->val ? o->len : 0);
	if (!err)
		return s->e->commit(s->h);
	s->e->abort(s->h);
	return err;
}

/* ECONNRESET: the engine's connection was found broken (store = redis:
 * one cut while idle shows only now); its writes are idempotent, so
 * once more over a new one whether they ran or not. */
static int write_batch(struct fstore *s, struct op *batch)
{
	int err = try_batch(s, batch);

	return err == ECONNRESET ? try_batch(s, batch) : err;
}

/* What is queued, up to BATCH_MAX changes (a node that resubscribed to
 * Redis reads every AoR again: one transaction each would hold Redis
 * for as long), *np of them; under lock. */
static struct op *take_batch(struct fstore *s, unsigned *np)
{
	struct op *batch = s->queue, **end = &s->queue;
	unsigned n = 0;

	for (; *end && n < BATCH_MAX; n++)
		end = &(*end)->qnext;
	*np = n;
	s->queue = *end;
	*end = NULL;
	if (!s->queue)
		s->qtail = &s->queue;
	return batch;
}

/* A commit costs its two device flushes (LMDB syncs the pages, then the
 * meta page that points to them) whatever it holds: under load, when the
 * last batch held more than one change, the writer gathers for 1 ms more
 * before it commits: at 15,000 REGISTER/s, 2.6x fewer commits (counted
 * with strace). perf had shown the flushes (block layer, virtio kicks,
 * context switches) the writer's whole cost, a third of pinholed's CPU
 * per REGISTER at 5,000/s (7 a commit). The answers wait that much
 * longer, a 500th of SIP's T1 (500 ms); an idle registrar commits at
 * once. */
static const struct timespec gather = {0, 1000000};

static void *writer_main(void *arg)
{
	struct fstore *s = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct op *batch;
		unsigned n;
		int err;

		while (!s->queue && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->queue)
			break;
		if (s->gather && !s->stop) {
			pthread_mutex_unlock(&s->lock);
			nanosleep(&gather, NULL);
			pthread_mutex_lock(&s->lock);
		}
		batch = take_batch(s, &n);
		pthread_mutex_unlock(&s->lock);

		err = write_batch(s, batch);
		s->gather = n > 1;
		for (struct op *o = batch; o; o = o->qnext) {
			o->err = err;
			if (!err)
				continue;
			free(o->disk);
			if (s->e->get(s->h, o->aor, &o->disk, &o->disklen))
				o->disk = NULL;
		}
		pthread_mutex_lock(&s->lock);
		*s->dtail = batch;
		while (*s->dtail)
			s->dtail = &(*s->dtail)->qnext;
		s->batches++;
		if (write(s->efd, &one, sizeof one) < 0) {
			/* the counter is full: the loop has a wake-up coming */
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- back on the loop ----------------------------------------------- */

static bool later_change(const struct op *o)
{
	for (const struct op *n = o->unext; n; n = n->unext)
		if (!strcmp(n->aor, o->aor))
			return true;
	return false;
}

static const struct loc_contact *find_uri(const struct loc_contact *v,
					  unsigned n, const char *uri)
{
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(v[i].uri, uri))
			return &v[i];
	return NULL;
}

/* Memory gets what the file holds for o's AoR: back, after a failure;
 * others' contacts with ours, after an edit. A record names no
 * connection (store.h): a binding still over the flow memory has keeps
 * that flow's connection. */
static void take_stored(struct fstore *s, struct op *o)
{
	struct loc_contact v[STORE_MAX_CONTACTS];
	const struct loc_contact *cur = NULL, *c;
	unsigned n = 0, ncur = 0;
	int err;

	if (later_change(o))
		return;
	if (o->disk && store_decode(o->disk, o->disklen, wall_off(),
				    mono_now(), v, STORE_MAX_CONTACTS, &n))
		n = 0;
	if (s->mem->ops->get(s->mem, o->aor, &cur, &ncur))
		ncur = 0;
	for (unsigned i = 0; i < n; i++)
		if ((c = find_uri(cur, ncur, v[i].uri)) &&
		    c->flow.transport == v[i].flow.transport &&
		    ph_addr_eq(&c->flow.src, &v[i].flow.src))
			v[i].flow.id = c->flow.id;
	if ((err = s->mem->ops->put(s->mem, o->aor, v, n)))
		log_warn("store: the stored record of %s not taken: %s",
			 o->aor, strerror(err));
}

static void op_free(struct op *o)
{
	for (unsigned i = 0; i < o->nedits; i++) {
		free(o->edits[i].field);
		free(o->edits[i].val);
	}
	free(o->edits);
	free(o->disk);
	free(o->val);
	free(o);
}

static void finish(struct fstore *s, struct op *o)
{
	struct loc_wait *w = o->waiters, *next;
	bool reread = o->edit && !o->nedits;

	if (o->err && o->kept)
		log_warn("store: record %s not written: %s", o->aor,
			 strerror(o->err));
	else if (o->err && reread)
		log_warn("store: %s not read again: %s", o->aor,
			 strerror(o->err)); /* memory keeps what it has */
	else if (o->err)
		log_err("store: %s not written: %s; its REGISTER fails",
			o->aor, strerror(o->err));
	if (!o->kept && (o->err ? !reread : o->edit))
		take_stored(s, o);
	if (o->uprev)
		o->uprev->unext = o->unext;
	else
		s->ufirst = o->unext;
	if (o->unext)
		o->unext->uprev = o->uprev;
	else
		s->ulast = o->uprev;
	for (; w; w = next) {
		next = w->next;
		w->done(o->err, w->arg);
	}
	op_free(o);
}

static void take_done(struct fstore *s)
{
	struct op *o, *next;

	pthread_mutex_lock(&s->lock);
	o = s->done;
	s->done = NULL;
	s->dtail = &s->done;
	pthread_mutex_unlock(&s->lock);
	for (; o; o = next) {
		next = o->qnext;
		finish(s, o);
	}
}

static int on_done(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
	struct fstore *s = (struct fstore *)arg;
	uint64_t n;

	if (read(s->efd, &n, sizeof n) < 0) {
		/* nothing yet: a spurious wake-up */
	}
	take_done(s);
	return 0;
}

/* ---- the store's operations ----------------------------------------- */

static struct op *op_new(const char *aor)
{
	size_t alen = strlen(aor) + 1;
	struct op *o = calloc(1, sizeof *o + alen);

	if (o)
		memcpy(o->aor, aor, alen);
	return o;
}

/* val (malloc'd, NULL: removed) as o's next edit, of field uri. */
static int add_edit(struct op *o, const char *uri, unsigned char *val,
		    size_t len)
{
	struct store_edit *e = &o->edits[o->nedits];

	if (!(e->field = strdup(uri))) {
		free(val);
		return ENOMEM;
	}
	e->val = val;
	e->len = len;
	o->nedits++;
	return 0;
}

/* The contact's record alone, unless the one it replaces reads the same
 * (*bufp NULL then). */
static int encode_changed(const struct loc_contact *c,
			  const struct loc_contact *was, time_t off,
			  unsigned char **bufp, size_t *lenp)
{
	unsigned char *old;
	size_t olen;
	int err = store_encode(c, 1, off, bufp, lenp);

	if (err || !was || store_encode(was, 1, off, &old, &olen))
		return err;
	if (olen == *lenp && !memcmp(old, *bufp, olen)) {
		free(*bufp);
		*bufp = NULL;
	}
	free(old);
	return 0;
}

/* From the AoR's contacts in memory to v: the contacts new or changed,
 * each alone, and those gone (URIs name bindings, RFC 3261 10.3). */
static int diff(struct fstore *s, struct op *o, const struct loc_contact *v,
		unsigned n)
{
	const struct loc_contact *old = NULL;
	unsigned nold = 0;
	time_t off = wall_off();
	int err = 0;

	if (s->mem->ops->get(s->mem, o->aor, &old, &nold))
		nold = 0;
	o->edit = true;
	if (!(o->edits = calloc((size_t)n + nold + 1, sizeof *o->edits)))
		return ENOMEM;
	for (unsigned i = 0; !err && i < n; i++) {
		unsigned char *val;
		size_t len;

		err = encode_changed(&v[i], find_uri(old, nold, v[i].uri), off,
				     &val, &len);
		if (!err && val)
			err = add_edit(o, v[i].uri, val, len);
	}
	for (unsigned i = 0; !err && i < nold; i++)
		if (!find_uri(v, n, old[i].uri))
			err = add_edit(o, old[i].uri, NULL, 0);
	return err;
}

static int enqueue(struct fstore *s, const char *aor,
		   const struct loc_contact *v, unsigned n, struct op **op)
{
	struct op *o = op_new(aor);
	int err = 0;

	if (!o)
		return ENOMEM;
	if (s->e->edit)
		err = diff(s, o, v, n);
	else if (n)
		err = store_encode(v, n, wall_off(), &o->val, &o->len);
	if (err) {
		op_free(o);
		return err;
	}
	*op = o;
	return 0;
}

static void submit(struct fstore *s, struct op *o)
{
	o->uprev = s->ulast;
	if (s->ulast)
		s->ulast->unext = o;
	else
		s->ufirst = o;
	s->ulast = o;
	pthread_mutex_lock(&s->lock);
	*s->qtail = o;
	s->qtail = &o->qnext;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static int fs_put(struct loc_store *ls, const char *aor,
		  const struct loc_contact *v, unsigned n)
{
	struct fstore *s = (struct fstore *)ls;
	struct op *o;
	int err = enqueue(s, aor, v, n, &o);

	if (err)
		return err;
	if ((err = s->mem->ops->put(s->mem, aor, v, n))) {
		op_free(o);
		return err;
	}
	submit(s, o);
	return 0;
}

/* Expiry: the file follows, nobody waits. */
static void on_expired(const char *aor, const struct loc_contact *v,
		       unsigned n, void *arg)
{
	struct fstore *s = arg;
	struct op *o;

	/* an engine that edits drops expired contacts itself (store_redis) */
	if (!s->e->edit && !enqueue(s, aor, v, n, &o))
		submit(s, o);
}

static void fs_sync(struct loc_store *ls, struct loc_wait *w)
{
	struct fstore *s = (struct fstore *)ls;

	if (!s->ulast)
		return w->done(0, w->arg);
	w->next = s->ulast->waiters;
	s->ulast->waiters = w;
}

static int fs_get(struct loc_store *ls, const char *aor,
		  const struct loc_contact **vp, unsigned *np)
{
	struct fstore *s = (struct fstore *)ls;

	return s->mem->ops->get(s->mem, aor, vp, np);
}

static unsigned fs_expire(struct loc_store *ls, time_t now)
{
	struct fstore *s = (struct fstore *)ls;

	return s->mem->ops->expire(s->mem, now);
}

static void fs_count(const struct loc_store *ls, unsigned long *aors,
		     unsigned long *contacts)
{
	const struct fstore *s = (const struct fstore *)ls;

	s->mem->ops->count(s->mem, aors, contacts);
}

static unsigned long fs_source_count(const struct loc_store *ls,
				     const struct ph_addr *ip)
{
	const struct fstore *s = (const struct fstore *)ls;

	return s->mem->ops->source_count(s->mem, ip);
}

/* Everything queued is written and answered before the file closes. */
static void fs_destroy(struct loc_store *ls)
{
	struct fstore *s = (struct fstore *)ls;

	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->writer, NULL);
		take_done(s);
		log_info("store: closed after %lu commits", s->batches);
	}
	if (s->root && s->efd >= 0)
		su_root_unregister(s->root, s->wait, on_done,
				   (su_wakeup_arg_t *)s);
	if (s->efd >= 0)
		close(s->efd);
	if (s->h)
		s->e->close(s->h);
	loc_destroy(s->mem);
	store_kept_take(ls, NULL, NULL);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

static const struct loc_store_ops file_ops = {
	.name = "file",
	.get = fs_get,
	.put = fs_put,
	.expire = fs_expire,
	.count = fs_count,
	.source_count = fs_source_count,
	.destroy = fs_destroy,
	.sync = fs_sync,
};

/* An edit of the AoR not yet taken by the writer reads the change too. */
int store_file_refresh(struct loc_store *ls, const char *aor)
{
	struct fstore *s = (struct fstore *)ls;
	bool queued = false;
	struct op *o;

	pthread_mutex_lock(&s->lock);
	for (o = s->queue; o && !queued; o = o->qnext)
		queued = o->edit && !strcmp(o->aor, aor);
	pthread_mutex_unlock(&s->lock);
	if (queued)
		return 0;
	if (!(o = op_new(aor)))
		return ENOMEM;
	o->edit = true;
	submit(s, o);
	return 0;
}

/* ---- records beside the bindings ------------------------------------ */

bool store_keeps(const struct loc_store *ls)
{
	return ls && ls->ops == &file_ops;
}

int store_keep(struct loc_store *ls, const char *key, const void *val,
	       size_t len)
{
	struct fstore *s = (struct fstore *)ls;
	size_t klen = strlen(key) + 1;
	struct op *o;

	if (!store_keeps(ls))
		return ENOTSUP;
	/* LMDB's keys are at most 511 bytes, and one refused key fails its
	 * whole batch, bindings with it */
	if (strncmp(key, STORE_KEEP_PREFIX, strlen(STORE_KEEP_PREFIX)) ||
	    klen > STORE_KEEP_KEY_MAX)
		return EINVAL;
	if (!(o = calloc(1, sizeof *o + klen)))
		return ENOMEM;
	memcpy(o->aor, key, klen);
	o->kept = true;
	if (len && !(o->val = malloc(len))) {
		free(o);
		return ENOMEM;
	}
	if (len)
		memcpy(o->val, val, len);
	o->len = len;
	submit(s, o);
	return 0;
}

void store_kept_take(struct loc_store *ls,
		     void (*fn)(const char *key, const void *val, size_t len,
				void *arg), void *arg)
{
	struct fstore *s = (struct fstore *)ls;
	struct kept *k, *next;

	if (!store_keeps(ls))
		return;
	k = s->kept;
	s->kept = NULL;
	for (; k; k = next) {
		next = k->next;
		if (fn)
			fn(k->key, k->val, k->len, arg);
		free(k->val);
		free(k);
	}
}

/* ---- start: the file's bindings back into memory -------------------- */

struct load {
	struct fstore *s;
	time_t now, off;
	unsigned long aors, contacts, dropped;
	struct op *stale, **stail;   /* records to delete */
};

/* Held in memory for whoever takes it (store_kept_take()); the file
 * keeps it until its owner deletes it. */
static int load_kept(struct fstore *s, const char *key, const void *val,
		     size_t len)
{
	size_t klen = strlen(key) + 1;
	struct kept *k = calloc(1, sizeof *k + klen);

	if (!k || !(k->val = malloc(len ? len : 1))) {
		free(k);
		return ENOMEM;
	}
	memcpy(k->key, key, klen);
	memcpy(k->val, val, len);
	k->len = len;
	k->next = s->kept;
	s->kept = k;
	return 0;
}

static int load_one(const char *key, size_t klen, const void *val,
		    size_t len, void *arg)
{
	struct load *ld = arg;
	struct loc_contact v[STORE_MAX_CONTACTS];
	char aor[klen + 1];
	unsigned n = 0;
	struct op *o;
	int err;

	memcpy(aor, key, klen);
	aor[klen] = '\0';
	if (!strncmp(aor, STORE_KEEP_PREFIX, strlen(STORE_KEEP_PREFIX)))
		return load_kept(ld->s, aor, val, len);
	err = store_decode(val, len, ld->off, ld->now, v, STORE_MAX_CONTACTS, &n);
	if (err)
		log_warn("store: the record of %s cannot be read; dropped", aor);
	if (!err && n && (err = ld->s->mem->ops->put(ld->s->mem, aor, v, n)))
		return err; /* ENOSPC: more than max_bindings */
	if (!err && n) {
		ld->aors++;
		ld->contacts += n;
		return 0;
	}
	ld->dropped++;
	if ((o = op_new(aor))) { /* a deletion, of the whole record */
		*ld->stail = o;
		ld->stail = &o->qnext;
	}
	return 0;
}

static int load(struct fstore *s, const char *path, time_t now)
{
	struct load ld = {s, now, wall_off(), 0, 0, 0, NULL, NULL};
	int err;

	ld.stail = &ld.stale;
	err = s->e->each(s->h, load_one, &ld);
	if (!err && ld.stale)
		err = write_batch(s, ld.stale);
	for (struct op *o = ld.stale, *next; o; o = next) {
		next = o->qnext;
		op_free(o);
	}
	if (err) {
		log_err("store: cannot load %s: %s", path, strerror(err));
		return err;
	}
	log_notice("store: %s (%s): %lu AoRs, %lu bindings reloaded, %lu "
		   "expired records removed", path, s->e->name, ld.aors,
		   ld.contacts, ld.dropped);
	return 0;
}

static int start(struct fstore *s)
{
	int err;

	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0)
		return errno;
	if (su_wait_create(s->wait, s->efd, SU_WAIT_IN) < 0 ||
	    su_root_register(s->root, s->wait, on_done,
			     (su_wakeup_arg_t *)s, 0) < 0)
		return ENOMEM;
	if ((err = pthread_create(&s->writer, NULL, writer_main, s)))
		return err;
	s->started = true;
	return 0;
}

int store_file_alloc(struct loc_store **sp, struct loc_store *mem,
		     const struct store_engine *e, const char *path,
		     size_t max_bytes, su_root_t *root, time_t now)
{
	struct fstore *s = calloc(1, sizeof *s);
	int err;

	if (!s)
		return ENOMEM;
	s->base.ops = &file_ops;
	s->mem = mem;
	s->e = e;
	s->efd = -1;
	s->qtail = &s->queue;
	s->dtail = &s->done;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	err = e->open(&s->h, path, max_bytes);
	if (err)
		log_err("store: cannot open %s: %s", path, strerror(err));
	if (!err && !(err = load(s, path, now))) {
		s->root = root;
		err = start(s);
	}
	if (err) {
		s->mem = NULL; /* the caller's still */
		fs_destroy(&s->base);
		return err;
	}
	loc_mem_watch(mem, on_expired, s);
	*sp = &s->base;
	return 0;
}
