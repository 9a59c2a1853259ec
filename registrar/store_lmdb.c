/* The store's file in LMDB: one database, key the AoR, value its record.
 * MDB_NOSUBDIR: store_path names the file itself (LMDB adds PATH-lock).
 * Commits are synced (no MDB_NOSYNC or MDB_NOMETASYNC): a commit that
 * returned is on disk. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "store.h"

struct lm {
	MDB_env *env;
	MDB_dbi dbi;
	MDB_txn *txn;
};

/* LMDB's own codes are negative or above errno's range: as errno */
static int lm_err(int rc)
{
	switch (rc) {
	case 0: return 0;
	case MDB_MAP_FULL: return ENOSPC;
	case MDB_NOTFOUND: return ENOENT;
	case MDB_CORRUPTED: case MDB_INVALID: case MDB_VERSION_MISMATCH:
		return EBADMSG;
	default: return rc > 0 ? rc : EIO;
	}
}

static void lm_close(void *h)
{
	struct lm *l = h;

	if (!l)
		return;
	if (l->txn)
		mdb_txn_abort(l->txn);
	if (l->env)
		mdb_env_close(l->env);
	free(l);
}

static int lm_open(void **hp, const char *path, size_t max_bytes)
{
	struct lm *l = calloc(1, sizeof *l);
	MDB_txn *txn = NULL;
	int rc;

	if (!l)
		return ENOMEM;
	rc = mdb_env_create(&l->env);
	if (!rc)
		rc = mdb_env_set_mapsize(l->env, max_bytes);
	if (!rc)
		rc = mdb_env_open(l->env, path, MDB_NOSUBDIR | MDB_NOTLS, 0600);
	if (!rc)
		rc = mdb_txn_begin(l->env, NULL, 0, &txn);
	if (!rc)
		rc = mdb_dbi_open(txn, NULL, 0, &l->dbi);
	if (!rc)
		rc = mdb_txn_commit(txn);
	else if (txn)
		mdb_txn_abort(txn);
	if (rc) {
		lm_close(l);
		return lm_err(rc);
	}
	*hp = l;
	return 0;
}

static int lm_begin(void *h)
{
	struct lm *l = h;

	return lm_err(mdb_txn_begin(l->env, NULL, 0, &l->txn));
}

static int lm_put(void *h, const char *key, const void *val, size_t len)
{
	struct lm *l = h;
	MDB_val k = {strlen(key), (void *)key}, v = {len, (void *)val};
	int rc;

	if (!len) {
		rc = mdb_del(l->txn, l->dbi, &k, NULL);
		return rc == MDB_NOTFOUND ? 0 : lm_err(rc);
	}
	return lm_err(mdb_put(l->txn, l->dbi, &k, &v, 0));
}

static int lm_commit(void *h)
{
	struct lm *l = h;
	int rc = mdb_txn_commit(l->txn);

	l->txn = NULL; /* freed, committed or not */
	return lm_err(rc);
}

static void lm_abort(void *h)
{
	struct lm *l = h;

	if (l->txn)
		mdb_txn_abort(l->txn);
	l->txn = NULL;
}

static int lm_get(void *h, const char *key, void **valp, size_t *lenp)
{
	struct lm *l = h;
	MDB_val k = {strlen(key), (void *)key}, v;
	MDB_txn *txn;
	int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn);

	if (rc)
		return lm_err(rc);
	rc = mdb_get(txn, l->dbi, &k, &v);
	if (!rc && !(*valp = malloc(v.mv_size ? v.mv_size : 1)))
		rc = ENOMEM;
	if (!rc) {
		memcpy(*valp, v.mv_data, v.mv_size);
		*lenp = v.mv_size;
	}
	mdb_txn_abort(txn);
	return lm_err(rc);
}

static int lm_each(void *h, int (*fn)(const char *key, size_t klen,
				      const void *val, size_t len, void *arg),
		   void *arg)
{
	struct lm *l = h;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &txn), err = 0;

	if (rc)
		return lm_err(rc);
	if ((rc = mdb_cursor_open(txn, l->dbi, &cur))) {
		mdb_txn_abort(txn);
		return lm_err(rc);
	}
	while (!err && !(rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)))
		err = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return err ? err : rc == MDB_NOTFOUND ? 0 : lm_err(rc);
}

const struct store_engine store_lmdb = {
	.name = "lmdb",
	.open = lm_open,
	.begin = lm_begin,
	.put = lm_put,
	.commit = lm_commit,
	.abort = lm_abort,
	.get = lm_get,
	.each = lm_each,
	.close = lm_close,
};
