/* The durable location store: the in-memory store stays the read path, and
 * every change is written ahead to a file (store = file) by a writer
 * thread that commits all the changes waiting at that moment in one
 * transaction, one sync for all of them (group commit). A REGISTER is
 * answered once its change is on disk: loc_sync(). */
#ifndef PINHOLED_STORE_H
#define PINHOLED_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <sofia-sip/su_wait.h>

#include "location.h"

/* A key-value file with transactions (store_lmdb.c). Values are whole
 * contact sets of an AoR (store_codec). Called from one thread at a time. */
struct store_engine {
	const char *name;
	/* max_bytes: the most the file may hold */
	int (*open)(void **hp, const char *path, size_t max_bytes);
	int (*begin)(void *h);
	/* len 0: delete key */
	int (*put)(void *h, const char *key, const void *val, size_t len);
	/* Durable when it returns 0; else nothing of the transaction is. */
	int (*commit)(void *h);
	void (*abort)(void *h);
	/* outside a transaction; *valp malloc'd; ENOENT when none */
	int (*get)(void *h, const char *key, void **valp, size_t *lenp);
	/* every record, in a read transaction; stops at fn's first error */
	int (*each)(void *h, int (*fn)(const char *key, size_t klen,
				       const void *val, size_t len, void *arg),
		    void *arg);
	void (*close)(void *h);
};

extern const struct store_engine store_lmdb;

/* Opens (creating) path, loads every unexpired binding of it into mem,
 * and takes mem over (destroyed with the store; on error the caller's
 * still). The caller's clock is
 * CLOCK_MONOTONIC seconds (now); the file keeps wall-clock expiries. */
int store_file_alloc(struct loc_store **sp, struct loc_store *mem,
		     const struct store_engine *e, const char *path,
		     size_t max_bytes, su_root_t *root, time_t now);

/* Another node's record of aor (len 0: none) into memory only. */
int store_file_apply(struct loc_store *s, const char *aor, const void *val,
		     size_t len);

/* Records beside the bindings, under keys that begin with
 * STORE_KEEP_PREFIX (no AoR does: '#' is no character of a SIP URI's
 * user or host): relayed calls' reservations (calls_restore()). Only
 * store = file keeps them (store_keeps()); store_keep() is ENOTSUP
 * elsewhere. Written behind, like expiries: nobody waits, and a kill -9
 * loses what was not yet committed (the writer commits at once, so that
 * is the last milliseconds' changes). len 0 deletes. */
#define STORE_KEEP_PREFIX "#"
#define STORE_KEEP_KEY_MAX 400
bool store_keeps(const struct loc_store *s);
int store_keep(struct loc_store *s, const char *key, const void *val,
	       size_t len);
/* Each record the store loaded at start under STORE_KEEP_PREFIX, handed
 * to fn once (fn NULL: dropped from memory), then forgotten in memory;
 * the file keeps it until store_keep(key, NULL, 0). */
void store_kept_take(struct loc_store *s,
		     void (*fn)(const char *key, const void *val, size_t len,
				void *arg), void *arg);

/* store = redis (store_redis.c): the file store over a Redis server
 * shared by every node, each node's memory kept current by Redis
 * pub/sub. Takes mem over, even on error. ENOTSUP when built without
 * hiredis. */
struct pconf;
int store_redis_alloc(struct loc_store **sp, struct loc_store *mem,
		      const struct pconf *c, su_root_t *root, time_t now);
/* A node other than this one whose heartbeat key (set each second, with
 * a TTL of STORE_NODE_DEAD_S seconds) was there a moment ago. */
bool store_node_alive(const char *node);
#define STORE_NODE_DEAD_S 3

/* The record of one AoR's contacts on disk; *bufp malloc'd. wall_off:
 * wall-clock minus the caller's clock, in seconds. */
int store_encode(const struct loc_contact *v, unsigned n, time_t wall_off,
		 unsigned char **bufp, size_t *lenp);
/* The contacts of a record, their strings pointing into buf (which must
 * outlive them); expired ones (at `now`, the caller's clock) left out.
 * A TCP flow's connection died with the process that stored it: its id
 * comes back 0, a connection no longer open (flow.h). EBADMSG. */
int store_decode(const unsigned char *buf, size_t len, time_t wall_off,
		 time_t now, struct loc_contact *v, unsigned max, unsigned *np);
#define STORE_MAX_CONTACTS 1000

#endif
