/* The durable store: its record codec (round trip, and every damaged
 * record refused), and the file store over a real LMDB file on the real
 * su_root loop: a change answered once on disk and back after a reopen, a
 * commit that fails (the file full) answered with its error and undone in
 * memory. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#include "store.h"

#define NOW 1000
#define OFF 1700000000 /* wall clock minus the monotonic clock */

/* The file store reads the real clocks (store.h: CLOCK_MONOTONIC) */
static time_t mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static struct loc_contact contact(const char *uri, time_t expires,
				  enum flow_transport t)
{
	struct loc_contact c = {
		.uri = uri, .call_id = "cid@host", .cseq = 7, .q = 500,
		.expires = expires, .flow = {.transport = t, .id = 42},
		.fwwin = "none;local=10.0.0.2:5060",
	};

	ph_addr_set(&c.flow.src, "198.51.100.7", 5062);
	return c;
}

static void encode(const struct loc_contact *v, unsigned n,
		   unsigned char **buf, size_t *len)
{
	cr_assert_eq(store_encode(v, n, OFF, buf, len), 0);
}

Test(store_codec, round_trip)
{
	struct loc_contact c[3] = {contact("sip:a@10.0.0.1", NOW + 60, FLOW_UDP),
				   contact("sip:a@10.0.0.2", NOW + 90, FLOW_TCP),
				   contact("sip:gone@10.0.0.3", NOW, FLOW_UDP)};
	struct loc_contact v[4];
	unsigned char *buf;
	size_t len;
	unsigned n;

	ph_addr_set(&c[0].flow.local, "192.0.2.1", 5060);
	c[1].fwwin = NULL;
	c[1].q = -1;
	c[1].node = "203.0.113.1:5060";
	encode(c, 3, &buf, &len);
	/* read back an hour later by the monotonic clock of another boot:
	 * the expiry is wall-clock time */
	cr_assert_eq(store_decode(buf, len, OFF - 3600, NOW + 3600, v, 4, &n), 0);
	cr_assert_eq(n, 2, "the expired contact left out");
	cr_assert_str_eq(v[0].uri, "sip:a@10.0.0.1");
	cr_assert_eq(v[0].expires, NOW + 60 + 3600);
	cr_assert_eq(v[0].cseq, 7);
	cr_assert_eq(v[0].q, 500);
	cr_assert_str_eq(v[0].call_id, "cid@host");
	cr_assert_str_eq(v[0].fwwin, "none;local=10.0.0.2:5060");
	cr_assert(ph_addr_eq(&v[0].flow.src, &c[0].flow.src));
	cr_assert(ph_addr_eq(&v[0].flow.local, &c[0].flow.local));
	cr_assert_eq(v[1].flow.transport, FLOW_TCP);
	cr_assert_eq(v[1].flow.id, 0, "a TCP flow died with its process");
	cr_assert_null(v[1].fwwin);
	cr_assert_eq(v[1].q, -1);
	cr_assert(!ph_addr_isset(&v[1].flow.local));
	cr_assert_null(v[0].node, "this node's own flow");
	cr_assert_str_eq(v[1].node, "203.0.113.1:5060");
	free(buf);
}

/* A file written before store = redis (version 1: no node) still loads. */
Test(store_codec, version_1_read)
{
	struct loc_contact c = contact("sip:a@10.0.0.1", NOW + 60, FLOW_UDP);
	struct loc_contact v[1];
	unsigned char *buf;
	size_t len;
	unsigned n;

	encode(&c, 1, &buf, &len);
	/* version 2 ends each contact with its node: absent, 2 bytes */
	cr_assert_eq(buf[len - 2], 0xff);
	cr_assert_eq(buf[len - 1], 0xff);
	buf[0] = 1;
	cr_assert_eq(store_decode(buf, len - 2, OFF, NOW, v, 1, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].uri, "sip:a@10.0.0.1");
	cr_assert_null(v[0].node);
	free(buf);
}

Test(store_codec, damaged_records_refused)
{
	struct loc_contact c[2] = {contact("sip:a@10.0.0.1", NOW + 60, FLOW_UDP),
				   contact("sip:b@10.0.0.1", NOW + 60, FLOW_TCP)};
	struct loc_contact v[2];
	unsigned char *buf, *copy;
	size_t len;
	unsigned n;

	encode(c, 2, &buf, &len);
	for (size_t cut = 0; cut < len; cut++)
		cr_assert_eq(store_decode(buf, cut, OFF, NOW, v, 2, &n), EBADMSG,
			     "cut at %zu of %zu", cut, len);
	copy = malloc(len + 1);
	memcpy(copy, buf, len);
	copy[len] = 0;
	cr_assert_eq(store_decode(copy, len + 1, OFF, NOW, v, 2, &n), EBADMSG,
		     "a byte too many");
	copy[0] = 99;
	cr_assert_eq(store_decode(copy, len, OFF, NOW, v, 2, &n), EBADMSG,
		     "another version");
	cr_assert_eq(store_decode(buf, len, OFF, NOW, v, 1, &n), EBADMSG,
		     "more contacts than room");
	/* every byte changed in turn: refused or read, never past the end */
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, buf, len);
		copy[i] ^= 0xff;
		store_decode(copy, len, OFF, NOW, v, 2, &n);
	}
	/* a string's NUL moved inside it */
	memcpy(copy, buf, len);
	copy[len - 2] = 0;
	cr_assert_eq(store_decode(copy, len, OFF, NOW, v, 2, &n), EBADMSG);
	free(copy);
	free(buf);
}

/* ---- the file store over LMDB on a real loop ------------------------ */

static char dir[] = "/tmp/ph-test-store.XXXXXX";
static char path[sizeof dir + 16];
static su_root_t *root;

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/b.db", dir);
	su_init();
	root = su_root_create(NULL);
	cr_assert_not_null(root);
}

static void teardown(void)
{
	char lock[sizeof path + 8];

	su_root_destroy(root);
	su_deinit();
	snprintf(lock, sizeof lock, "%s-lock", path);
	unlink(path);
	unlink(lock);
	rmdir(dir);
}

struct done {
	bool called;
	int err;
};

static void on_done(int err, void *arg)
{
	struct done *d = arg;

	d->called = true;
	d->err = err;
}

static struct loc_store *open_store(size_t max_bytes)
{
	struct loc_store *mem, *st;

	cr_assert_eq(loc_mem_alloc(&mem, 1000, mono()), 0);
	cr_assert_eq(store_file_alloc(&st, mem, &store_lmdb, path, max_bytes,
				      root, mono()), 0);
	return st;
}

/* a put, and its answer once the loop has run the writer's completion */
static int put_synced(struct loc_store *st, const char *aor,
		      const struct loc_contact *v, unsigned n)
{
	struct done d = {false, -1};
	struct loc_wait w = {NULL, on_done, &d};

	cr_assert_eq(loc_put(st, aor, v, n), 0);
	loc_sync(st, &w);
	for (int i = 0; i < 500 && !d.called; i++)
		su_root_step(root, 10);
	cr_assert(d.called, "no answer within 5 s");
	return d.err;
}

Test(store_file, answered_on_disk_and_back_after_reopen,
     .init = setup, .fini = teardown)
{
	struct loc_contact c = contact("sip:a@10.0.0.1", mono() + 60, FLOW_UDP);
	const struct loc_contact *v;
	struct loc_store *st = open_store(1 << 20);
	unsigned n;

	cr_assert_eq(put_synced(st, "alice@example.com", &c, 1), 0);
	cr_assert_eq(put_synced(st, "bob@example.com", &c, 1), 0);
	cr_assert_eq(put_synced(st, "bob@example.com", NULL, 0), 0);
	loc_destroy(st);

	st = open_store(1 << 20);
	loc_get(st, "alice@example.com", &v, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].uri, "sip:a@10.0.0.1");
	cr_assert_str_eq(v[0].fwwin, c.fwwin);
	loc_get(st, "bob@example.com", &v, &n);
	cr_assert_eq(n, 0, "a removal is durable too");
	loc_destroy(st);
}

Test(store_file, failed_commit_answered_and_undone,
     .init = setup, .fini = teardown)
{
	static char uri[1000];
	struct loc_contact c[10];
	struct loc_contact first = contact("sip:a@10.0.0.1", mono() + 60, FLOW_UDP);
	const struct loc_contact *v;
	struct loc_store *st = open_store(64 << 10); /* a file of 64 KiB */
	char aor[32];
	unsigned n;
	int err = 0, i;

	cr_assert_eq(put_synced(st, "alice@example.com", &first, 1), 0);
	memset(uri, 'x', sizeof uri - 1);
	memcpy(uri, "sip:", 4);
	for (i = 0; i < 10; i++)
		c[i] = contact(uri, mono() + 60, FLOW_UDP);
	/* ~10 kB a record: the file is full within a few */
	for (i = 0; i < 100 && !err; i++) {
		snprintf(aor, sizeof aor, "u%d@example.com", i);
		err = put_synced(st, aor, c, 10);
	}
	cr_assert_eq(err, ENOSPC, "the full file's error, got %d", err);
	loc_get(st, aor, &v, &n);
	cr_assert_eq(n, 0, "the failed change undone in memory");
	/* a change of an AoR already on disk: undone to what the file has */
	err = put_synced(st, "alice@example.com", c, 10);
	cr_assert_eq(err, ENOSPC);
	loc_get(st, "alice@example.com", &v, &n);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(v[0].uri, "sip:a@10.0.0.1", "back to what was answered");
	loc_destroy(st);
}

/* A binding made over TLS stays one: after a restart it is reached over
 * TLS again (once its phone has a connection), never over UDP. */
Test(store_codec, a_tls_flow_stays_tls)
{
	struct loc_contact c = contact("sip:t@10.0.0.4;transport=tls", NOW + 60,
				       FLOW_TLS);
	struct loc_contact v[1];
	unsigned char *buf;
	size_t len;
	unsigned n;

	encode(&c, 1, &buf, &len);
	cr_assert_eq(store_decode(buf, len, OFF, NOW, v, 1, &n), 0);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].flow.transport, FLOW_TLS);
	cr_assert_eq(v[0].flow.id, 0, "a TLS flow died with its process");
	free(buf);
}

/* Records beside the bindings (relayed calls kept across a restart):
 * back after a reopen, not taken for an AoR, handed over once; a
 * deletion is durable; keys without the prefix are refused. */
struct taken {
	unsigned n;
	char key[64], val[64];
};

static void on_kept(const char *key, const void *val, size_t len, void *arg)
{
	struct taken *t = arg;

	t->n++;
	snprintf(t->key, sizeof t->key, "%s", key);
	snprintf(t->val, sizeof t->val, "%.*s", (int)len, (const char *)val);
}

Test(store_file, kept_records_back_after_reopen, .init = setup,
     .fini = teardown)
{
	struct loc_contact c = contact("sip:a@10.0.0.1", mono() + 60, FLOW_UDP);
	struct loc_store *st = open_store(1 << 20), *mem;
	struct taken t = {0};
	unsigned long aors, contacts;

	cr_assert(store_keeps(st));
	cr_assert_eq(store_keep(st, "call x", "v", 1), EINVAL, "no prefix");
	cr_assert_eq(store_keep(st, "#call 1", "one", 3), 0);
	cr_assert_eq(store_keep(st, "#call 2", "two", 3), 0);
	cr_assert_eq(put_synced(st, "alice@example.com", &c, 1), 0);
	cr_assert_eq(store_keep(st, "#call 2", NULL, 0), 0);
	loc_destroy(st); /* writes what is queued */

	st = open_store(1 << 20);
	loc_count(st, &aors, &contacts);
	cr_assert_eq(aors, 1, "a kept record is no AoR");
	store_kept_take(st, on_kept, &t);
	cr_assert_eq(t.n, 1, "the deleted one stays deleted");
	cr_assert_str_eq(t.key, "#call 1");
	cr_assert_str_eq(t.val, "one");
	store_kept_take(st, on_kept, &t);
	cr_assert_eq(t.n, 1, "handed over once");
	loc_destroy(st);

	cr_assert_eq(loc_mem_alloc(&mem, 10, mono()), 0);
	cr_assert_not(store_keeps(mem));
	cr_assert_eq(store_keep(mem, "#call 1", "one", 3), ENOTSUP);
	loc_destroy(mem);
}
