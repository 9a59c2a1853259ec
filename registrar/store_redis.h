/* Inside store = redis: the engine (store_rdengine.c) and the nodes'
 * threads around the file store (store_redis.c). */
#ifndef PINHOLED_STORE_REDIS_H
#define PINHOLED_STORE_REDIS_H

#include <hiredis/hiredis.h>

#include "conf.h"
#include "store.h"

#define CHANNEL "pinhole:loc"
#define KEY_AOR "pinhole:contacts:"
#define KEY_GONE "pinhole:gone"
#define STORE_GONE_KEPT_S "86400"
#define KEY_NODE "pinhole:node:"
/* seconds: connecting, and each command but the subscriber's wait */
#define STORE_REDIS_TIMEOUT_S 2

/* This node's node_address: one node per process, what the engine's
 * open() cannot be told. */
extern char store_redis_self[CONF_PATH_LEN];
extern const struct store_engine store_redis_engine;

/* HOST:PORT, with a timeout on connecting and on each command; NULL (and
 * a log line) when it cannot. */
redisContext *store_redis_connect(const char *hostport);
/* fn for each key of SCAN MATCH pattern (its prefix, plen long, taken
 * off), until fn fails; cursor 0 ends it (bounded by the keys there are).
 * EIO when a reply is not SCAN's. */
int store_redis_scan(redisContext *c, const char *pattern, size_t plen,
		     int (*fn)(const char *key, size_t klen, void *arg),
		     void *arg);

#endif
