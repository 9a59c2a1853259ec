/* store = redis: the engine under the file store's writer (store.h,
 * store_redis.h): an AoR's contacts as a hash, edited and read by one
 * script, in one MULTI/EXEC per batch. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store_redis.h"

char store_redis_self[CONF_PATH_LEN];

redisContext *store_redis_connect(const char *hostport)
{
	char host[CONF_PATH_LEN];
	const char *colon = strrchr(hostport, ':');
	struct timeval tv = {STORE_REDIS_TIMEOUT_S, 0};
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
	"local all, body, n, last, ver = redis.call('HGETALL', k), {}, 0, 0,\n"
	"  ''\n"
	"for i = 1, #all, 2 do\n"
	"  local v, e = all[i + 1], 0\n"
	"  for j = 11, 4, -1 do e = e * 256 + (string.byte(v, j) or 0) end\n"
	"  if e <= now then redis.call('HDEL', k, all[i])\n"
	"  else n = n + 1; body[n] = string.sub(v, 4)\n"
	"    ver = string.sub(v, 1, 1)\n"
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
	char sha[48];        /* the script's SHA1, loaded on c */
	struct out *outs;
	unsigned n_outs, max_outs;
};

static int rd_connected(struct rd *r)
{
	redisReply *rep;

	if (r->c && r->c->err) {
		log_warn("store: redis %s: %s; reconnecting", r->addr,
			 r->c->errstr);
		redisFree(r->c);
		r->c = NULL;
	}
	if (r->c)
		return 0;
	if (!(r->c = store_redis_connect(r->addr)))
		return ECONNREFUSED;
	/* loaded on each connection (a Redis restarted has forgotten it):
	 * EVALSHA then sends its SHA, not its text, with each AoR */
	rep = redisCommand(r->c, "SCRIPT LOAD %s", script);
	if (rep && rep->type == REDIS_REPLY_STRING && rep->len < sizeof r->sha)
		snprintf(r->sha, sizeof r->sha, "%s", rep->str);
	else
		r->sha[0] = '\0'; /* EVAL then */
	if (rep)
		freeReplyObject(rep);
	return 0;
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
 * entries), by its sha when loaded; *keyp (malloc'd) the hash's name. */
static int script_argv(const char *sha, const char *aor,
		       const struct store_edit *v, unsigned n, char now[24],
		       const char **argv, size_t *argl, char **keyp)
{
	size_t klen = strlen(KEY_AOR) + strlen(aor) + 1;
	unsigned k = 0;

	if (!(*keyp = malloc(klen)))
		return ENOMEM;
	snprintf(*keyp, klen, KEY_AOR "%s", aor);
	snprintf(now, 24, "%lld", (long long)time(NULL));
	argv[k++] = sha && *sha ? "EVALSHA" : "EVAL";
	argv[k++] = sha && *sha ? sha : script;
	argv[k++] = "2";
	argv[k++] = *keyp;
	argv[k++] = KEY_GONE;
	argv[k++] = now;
	argv[k++] = store_redis_self;
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
	    (err = script_argv(r->sha, key, v, n, now, argv, argl, &hkey)))
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

		if (o->idx >= exec->elements) {
			err = EIO;
			break;
		}
		if (exec->element[o->idx]->type == REDIS_REPLY_ERROR &&
		    !strncmp(exec->element[o->idx]->str, "NOSCRIPT", 8)) {
			/* flushed (SCRIPT FLUSH): by its text, once more */
			r->sha[0] = '\0';
			err = ECONNRESET;
			break;
		}
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
	int err = script_argv(NULL, aor, NULL, 0, now, argv, argl, &hkey);

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

int store_redis_scan(redisContext *c, const char *pattern, size_t plen,
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

	return err ? err : store_redis_scan(e.r->c, KEY_AOR "*",
					    strlen(KEY_AOR), each_key, &e);
}

const struct store_engine store_redis_engine = {
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
