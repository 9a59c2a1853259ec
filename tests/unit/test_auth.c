/* Digest authentication's pure parts: HA1, the users file, responses in
 * MD5 and SHA-256, stale and forged nonces, nonce-count replay in a
 * bounded table, and bans, on a clock of the test's. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "auth.h"

static const struct auth_conf conf = {
	.realm = "example.com", .nonce_lifetime = 300, .fail_max = 3,
	.fail_window = 60, .ban_time = 600,
};
static char path[64];
static struct ph_addr src, other;

/* hex(H(a:b:...)), written independently of auth.c */
static void h(const EVP_MD *md, char *hex, const char *const *p, unsigned n)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned len;

	EVP_DigestInit_ex(ctx, md, NULL);
	for (unsigned i = 0; i < n; i++) {
		if (i)
			EVP_DigestUpdate(ctx, ":", 1);
		EVP_DigestUpdate(ctx, p[i], strlen(p[i]));
	}
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", out[i]);
}

struct req {
	char nonce[AUTH_NONCE_LEN + 1], nc[9], resp[65];
	struct auth_cred c;
};

/* What a phone sends: user's response with password pw to nonce. */
static const struct auth_cred *cred(struct req *r, const char *alg,
				    const char *user, const char *pw,
				    const char *nonce, unsigned nc)
{
	const EVP_MD *md = strcmp(alg, "MD5") ? EVP_sha256() : EVP_md5();
	char ha1[65], ha2[65];
	const char *p1[] = {user, "example.com", pw};
	const char *p2[] = {"REGISTER", "sip:example.com"};

	snprintf(r->nonce, sizeof r->nonce, "%s", nonce);
	snprintf(r->nc, sizeof r->nc, "%08x", nc);
	h(md, ha1, p1, 3);
	h(md, ha2, p2, 2);
	const char *p3[] = {ha1, r->nonce, r->nc, "c0ffee", "auth", ha2};
	h(md, r->resp, p3, 6);
	r->c = (struct auth_cred){user, "example.com", r->nonce, "sip:example.com",
				  r->resp, alg, "c0ffee", "auth", r->nc};
	return &r->c;
}

static struct auth *make(const struct auth_conf *c, const char *text)
{
	struct auth *a;
	char err[256] = "";
	FILE *f;

	strcpy(path, "/tmp/test_auth.XXXXXX");
	close(mkstemp(path));
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	cr_assert_eq(auth_alloc(&a, c, path, err, sizeof err), 0, "%s", err);
	unlink(path);
	return a;
}

static char users[512];

static void setup(void)
{
	char md5[33], sha[65], md5b[33], shab[65];

	ph_addr_set(&src, "198.51.100.7", 5060);
	ph_addr_set(&other, "203.0.113.9", 5060);
	auth_ha1(AUTH_MD5, "alice", "example.com", "s3cret", md5, sizeof md5);
	auth_ha1(AUTH_SHA256, "alice", "example.com", "s3cret", sha, sizeof sha);
	auth_ha1(AUTH_MD5, "bob", "example.com", "b0b", md5b, sizeof md5b);
	auth_ha1(AUTH_SHA256, "bob", "example.com", "b0b", shab, sizeof shab);
	snprintf(users, sizeof users,
		 "# comment\n\nalice:example.com:%s:%s\n"
		 "bob:other.org:%s:%s\nbob:example.com:%s:%s\n",
		 md5, sha, md5b, shab, md5b, shab);
}

TestSuite(auth, .init = setup);

Test(auth, ha1_vectors)
{
	char hex[65];

	/* RFC 7616 3.9.1's user, by Python's hashlib */
	cr_assert_eq(auth_ha1(AUTH_MD5, "Mufasa", "http-auth@example.org",
			      "Circle of Life", hex, sizeof hex), 0);
	cr_assert_str_eq(hex, "3d78807defe7de2157e2b0b6573a855f");
	cr_assert_eq(auth_ha1(AUTH_SHA256, "Mufasa", "http-auth@example.org",
			      "Circle of Life", hex, sizeof hex), 0);
	cr_assert_str_eq(hex, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
	cr_assert_eq(auth_ha1(AUTH_SHA256, "a", "b", "c", hex, 33), ENOSPC);
}

Test(auth, users_file)
{
	struct auth *a = make(&conf, users);
	char err[256] = "";

	cr_assert_eq(auth_user_count(a), 2, "bob of other.org is not ours");
	auth_free(a);

	strcpy(path, "/tmp/test_auth.XXXXXX");
	close(mkstemp(path));
	FILE *f = fopen(path, "w");
	fputs("alice:example.com:plaintext-password\n", f);
	fclose(f);
	cr_assert_eq(auth_alloc(&a, &conf, path, err, sizeof err), EINVAL);
	cr_assert(strstr(err, ":1: expected"), "%s", err);
	unlink(path);
	cr_assert_eq(auth_alloc(&a, &conf, "/nonexistent/users", err, sizeof err),
		     ENOENT);
}

Test(auth, md5_and_sha256)
{
	struct auth *a = make(&conf, users);
	char nonce[AUTH_NONCE_LEN + 1];
	struct req r;

	auth_nonce(a, &src, 1000, nonce);
	cr_assert_eq(strlen(nonce), AUTH_NONCE_LEN);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 1),
				"REGISTER", &src, 1001), AUTH_OK);
	cr_assert_eq(auth_check(a, cred(&r, "SHA-256", "alice", "s3cret", nonce, 2),
				"REGISTER", &src, 1002), AUTH_OK);
	/* RFC 2617 3.2.2: no algorithm is MD5 */
	cred(&r, "MD5", "bob", "b0b", nonce, 3);
	r.c.algorithm = NULL;
	cr_assert_eq(auth_check(a, &r.c, "REGISTER", &src, 1002), AUTH_OK);
	/* the method is in the digest */
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 4),
				"INVITE", &src, 1002), AUTH_FAIL);
	auth_free(a);
}

Test(auth, wrong_unknown_unusable)
{
	struct auth *a = make(&conf, users);
	char nonce[AUTH_NONCE_LEN + 1];
	struct req r;

	auth_nonce(a, &src, 1000, nonce);
	cr_assert_eq(auth_check(a, cred(&r, "SHA-256", "alice", "guess", nonce, 1),
				"REGISTER", &src, 1000), AUTH_FAIL);
	cr_assert_eq(auth_check(a, cred(&r, "SHA-256", "mallory", "s3cret", nonce, 1),
				"REGISTER", &other, 1000), AUTH_FAIL,
		     "an unknown user: the same as a wrong password");
	cred(&r, "MD5", "alice", "s3cret", nonce, 1);
	r.c.qop = NULL;
	cr_assert_eq(auth_check(a, &r.c, "REGISTER", &other, 1000), AUTH_BAD,
		     "RFC 2069 digests (no qop, no nc) are refused");
	cred(&r, "SHA-512-256", "alice", "s3cret", nonce, 1);
	cr_assert_eq(auth_check(a, &r.c, "REGISTER", &other, 1000), AUTH_BAD);
	auth_free(a);
}

Test(auth, stale_and_forged_nonces)
{
	struct auth *a = make(&conf, users);
	char nonce[AUTH_NONCE_LEN + 1], forged[AUTH_NONCE_LEN + 1];
	struct req r;

	auth_nonce(a, &src, 1000, nonce);
	/* right password, old nonce: stale (RFC 7616 3.3), no failure */
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 1),
				"REGISTER", &src, 1300), AUTH_STALE);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 1),
				"REGISTER", &src, 1299), AUTH_OK);
	/* a nonce from the future, one given to another address, a forged
	 * one, one of another process (another secret) */
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 2),
				"REGISTER", &src, 999), AUTH_STALE);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 3),
				"REGISTER", &other, 1001), AUTH_STALE);
	strcpy(forged, nonce);
	forged[AUTH_NONCE_LEN - 2] = forged[AUTH_NONCE_LEN - 2] == 'A' ? 'B' : 'A';
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", forged, 1),
				"REGISTER", &src, 1001), AUTH_STALE);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", "short", 1),
				"REGISTER", &src, 1001), AUTH_STALE);
	struct auth *b = make(&conf, users);
	cr_assert_eq(auth_check(b, cred(&r, "MD5", "alice", "s3cret", nonce, 9),
				"REGISTER", &src, 1001), AUTH_STALE);
	auth_free(b);
	auth_free(a);
}

Test(auth, nonce_count_replay)
{
	struct auth *a = make(&conf, users);
	char n1[AUTH_NONCE_LEN + 1], n2[AUTH_NONCE_LEN + 1];
	struct req r;

	auth_nonce(a, &src, 1000, n1);
	auth_nonce(a, &src, 1000, n2);
	cr_assert_str_neq(n1, n2, "two phones behind one address, one second");
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", n1, 1),
				"REGISTER", &src, 1000), AUTH_OK);
	cr_assert_eq(auth_check(a, &r.c, "REGISTER", &src, 1000), AUTH_STALE,
		     "the same request again");
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "bob", "b0b", n2, 1),
				"REGISTER", &src, 1000), AUTH_OK);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", n1, 2),
				"REGISTER", &src, 1001), AUTH_OK);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", n1, 2),
				"REGISTER", &src, 1001), AUTH_STALE);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", n1, 0),
				"REGISTER", &src, 1001), AUTH_BAD);
	auth_free(a);
}

/* A flood of nonces in use fills the table; one pushed out is stale, not
 * taken again: replay stays impossible, and memory fixed. */
Test(auth, nonce_table_bounded)
{
	struct auth *a = make(&conf, users);
	char first[AUTH_NONCE_LEN + 1], n[AUTH_NONCE_LEN + 1];
	struct req r;
	unsigned stale = 0;

	auth_nonce(a, &src, 1000, first);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", first, 1),
				"REGISTER", &src, 1000), AUTH_OK);
	for (unsigned i = 0; i < 40000; i++) {
		auth_nonce(a, &src, 1001 + i / 1000, n);
		if (auth_check(a, cred(&r, "MD5", "alice", "s3cret", n, 1),
			       "REGISTER", &src, 1001 + i / 1000) != AUTH_OK)
			stale++;
	}
	cr_assert_eq(stale, 0, "fresh nonces are taken: %u were not", stale);
	cr_assert_eq(auth_check(a, cred(&r, "MD5", "alice", "s3cret", first, 1),
				"REGISTER", &src, 1040), AUTH_STALE,
		     "a replay of a nonce pushed out");
	auth_free(a);
}

Test(auth, bans)
{
	struct auth *a = make(&conf, users);
	char nonce[AUTH_NONCE_LEN + 1];
	struct req r;

	auth_nonce(a, &src, 1000, nonce);
	/* two failures, then the window passes: no ban */
	for (int i = 0; i < 2; i++)
		auth_check(a, cred(&r, "MD5", "alice", "x", nonce, 1), "REGISTER",
			   &src, 1000);
	cr_assert_not(auth_banned(a, &src, 1000));
	auth_check(a, cred(&r, "MD5", "alice", "x", nonce, 1), "REGISTER", &src,
		   1061);
	cr_assert_not(auth_banned(a, &src, 1061), "the window had passed");
	/* three within the window: banned, others not */
	auth_check(a, cred(&r, "MD5", "alice", "x", nonce, 1), "REGISTER", &src, 1062);
	auth_check(a, cred(&r, "MD5", "alice", "x", nonce, 1), "REGISTER", &src, 1063);
	cr_assert(auth_banned(a, &src, 1063));
	cr_assert_not(auth_banned(a, &other, 1063));
	/* stale is no failure */
	auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 1), "REGISTER",
		   &other, 1064);
	auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 1), "REGISTER",
		   &other, 1064);
	auth_check(a, cred(&r, "MD5", "alice", "s3cret", nonce, 1), "REGISTER",
		   &other, 1064);
	cr_assert_not(auth_banned(a, &other, 1064));
	/* the ban ends */
	cr_assert(auth_banned(a, &src, 1662));
	auth_tick(a, 1663);
	cr_assert_not(auth_banned(a, &src, 1663));
	auth_free(a);
}

Test(auth, ban_time_zero_bans_nobody)
{
	struct auth_conf c = conf;
	struct auth *a;
	char nonce[AUTH_NONCE_LEN + 1];
	struct req r;

	c.ban_time = 0;
	a = make(&c, users);
	auth_nonce(a, &src, 1000, nonce);
	for (int i = 0; i < 10; i++)
		auth_check(a, cred(&r, "MD5", "alice", "x", nonce, 1), "REGISTER",
			   &src, 1000);
	cr_assert_not(auth_banned(a, &src, 1000));
	auth_free(a);
}

Test(auth, reload_keeps_users_on_error)
{
	struct auth *a = make(&conf, users);
	char err[256] = "", p[] = "/tmp/test_auth.XXXXXX";
	FILE *f;

	close(mkstemp(p));
	f = fopen(p, "w");
	fputs("alice:example.com:00:00\n", f);
	fclose(f);
	cr_assert_eq(auth_reload(a, p, err, sizeof err), EINVAL);
	cr_assert_eq(auth_user_count(a), 2, "the users as they were");
	f = fopen(p, "w");
	fputs(strchr(users, '\n') + 2, f);   /* without the comment */
	fclose(f);
	cr_assert_eq(auth_reload(a, p, err, sizeof err), 0, "%s", err);
	cr_assert_eq(auth_user_count(a), 2);
	f = fopen(p, "w");
	fclose(f);
	cr_assert_eq(auth_reload(a, p, err, sizeof err), 0);
	cr_assert_eq(auth_user_count(a), 0, "an empty file: nobody");
	unlink(p);
	auth_free(a);
}
