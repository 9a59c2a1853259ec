/* The store's file in SQLite, WAL mode: one table, key the AoR, value its
 * record. synchronous = FULL: in WAL mode each commit syncs the WAL, so a
 * commit that returned is on disk (NORMAL would not sync it). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"

struct sq {
	sqlite3 *db;
	sqlite3_stmt *put, *del, *get, *all, *begin, *commit, *rollback;
};

static int sq_err(int rc)
{
	switch (rc) {
	case SQLITE_OK: case SQLITE_DONE: case SQLITE_ROW: return 0;
	case SQLITE_FULL: return ENOSPC;
	case SQLITE_NOMEM: return ENOMEM;
	case SQLITE_CORRUPT: case SQLITE_NOTADB: return EBADMSG;
	case SQLITE_CANTOPEN: case SQLITE_PERM: case SQLITE_READONLY: return EACCES;
	default: return EIO;
	}
}

static void sq_close(void *h)
{
	struct sq *q = h;
	sqlite3_stmt *all[] = {q->put, q->del, q->get, q->all, q->begin,
			       q->commit, q->rollback};

	for (unsigned i = 0; i < sizeof all / sizeof *all; i++)
		sqlite3_finalize(all[i]);
	sqlite3_close(q->db);
	free(q);
}

static int prep(struct sq *q, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(q->db, sql, -1, st, NULL);
}

static int sq_open(void **hp, const char *path, size_t max_bytes)
{
	struct sq *q = calloc(1, sizeof *q);
	int rc;

	if (!q)
		return ENOMEM;
	rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (!rc)
		rc = sqlite3_exec(q->db, "PRAGMA journal_mode = WAL;"
				  "PRAGMA synchronous = FULL;"
				  "CREATE TABLE IF NOT EXISTS bindings (aor TEXT "
				  "PRIMARY KEY, rec BLOB NOT NULL) WITHOUT ROWID;",
				  NULL, NULL, NULL);
	if (!rc)
		rc = prep(q, "INSERT OR REPLACE INTO bindings VALUES (?, ?)", &q->put);
	if (!rc)
		rc = prep(q, "DELETE FROM bindings WHERE aor = ?", &q->del);
	if (!rc)
		rc = prep(q, "SELECT rec FROM bindings WHERE aor = ?", &q->get);
	if (!rc)
		rc = prep(q, "SELECT aor, rec FROM bindings", &q->all);
	if (!rc)
		rc = prep(q, "BEGIN", &q->begin);
	if (!rc)
		rc = prep(q, "COMMIT", &q->commit);
	if (!rc)
		rc = prep(q, "ROLLBACK", &q->rollback);
	if (rc) {
		rc = sq_err(rc);
		sq_close(q);
		return rc;
	}
	*hp = q;
	return 0;
}

/* one step of a statement that returns no row, then reset */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sq_err(rc);
}

static int sq_begin(void *h)
{
	return run(((struct sq *)h)->begin);
}

static int sq_put(void *h, const char *key, const void *val, size_t len)
{
	struct sq *q = h;
	sqlite3_stmt *st = len ? q->put : q->del;

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (len)
		sqlite3_bind_blob(st, 2, val, (int)len, SQLITE_STATIC);
	return run(st);
}

static int sq_commit(void *h)
{
	struct sq *q = h;
	int err = run(q->commit);

	if (err)
		run(q->rollback);
	return err;
}

static void sq_abort(void *h)
{
	run(((struct sq *)h)->rollback);
}

static int sq_get(void *h, const char *key, void **valp, size_t *lenp)
{
	struct sq *q = h;
	int rc, err = 0;

	sqlite3_bind_text(q->get, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(q->get);
	if (rc == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(q->get, 0);

		if ((*valp = malloc(n ? n : 1))) {
			memcpy(*valp, sqlite3_column_blob(q->get, 0), n);
			*lenp = n;
		} else {
			err = ENOMEM;
		}
	} else {
		err = rc == SQLITE_DONE ? ENOENT : sq_err(rc);
	}
	sqlite3_reset(q->get);
	return err;
}

static int sq_each(void *h, int (*fn)(const char *key, size_t klen,
				      const void *val, size_t len, void *arg),
		   void *arg)
{
	struct sq *q = h;
	int rc, err = 0;

	while (!err && (rc = sqlite3_step(q->all)) == SQLITE_ROW)
		err = fn((const char *)sqlite3_column_text(q->all, 0),
			 (size_t)sqlite3_column_bytes(q->all, 0),
			 sqlite3_column_blob(q->all, 1),
			 (size_t)sqlite3_column_bytes(q->all, 1), arg);
	sqlite3_reset(q->all);
	return err ? err : rc == SQLITE_DONE ? 0 : sq_err(rc);
}

const struct store_engine store_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.begin = sq_begin,
	.put = sq_put,
	.commit = sq_commit,
	.abort = sq_abort,
	.get = sq_get,
	.each = sq_each,
	.close = sq_close,
};
