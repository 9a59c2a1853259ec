/* Digest authentication of pinholed's users (RFC 3261 section 22, RFC 8760):
 * the users file, stateless nonces, the check of a response, nonce-count
 * replay and the ban of sources that keep failing. No SIP stack here
 * (authsip.c reads the headers and sends the answers), no I/O but the
 * users file, a clock passed in: what tests/unit/test_auth.c drives. */
#ifndef PINHOLED_AUTH_H
#define PINHOLED_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <pinhole/addr.h>

#define AUTH_USER_MAX 64
#define AUTH_REALM_MAX 128
/* base64 of 4 bytes of time, 2 of a counter, 12 of HMAC-SHA-256 */
#define AUTH_NONCE_LEN 24

enum auth_alg { AUTH_MD5 = 0, AUTH_SHA256 = 1 };

struct auth_conf {
	char realm[AUTH_REALM_MAX];
	unsigned nonce_lifetime;     /* seconds a nonce is taken */
	unsigned fail_max;           /* failures that start a ban */
	unsigned fail_window;        /* ... within this many seconds */
	unsigned ban_time;           /* seconds a ban lasts */
};

/* What a request's Authorization or Proxy-Authorization says (unquoted). */
struct auth_cred {
	const char *username, *realm, *nonce, *uri, *response;
	const char *algorithm;       /* NULL: MD5 (RFC 2617 3.2.2) */
	const char *cnonce, *qop, *nc;
};

enum auth_result {
	AUTH_OK = 0,
	AUTH_FAIL,      /* unknown user or wrong password: a fresh challenge */
	AUTH_STALE,     /* right password, nonce expired, not ours or replayed */
	AUTH_BAD,       /* not a digest we take (no qop=auth, algorithm) */
};

struct auth;

/* users: "user:realm:HA1-MD5:HA1-SHA256" lines of realm (others are
 * skipped); on error errbuf says which line. A random secret keys the
 * nonces: they last as long as the process. */
int auth_alloc(struct auth **ap, const struct auth_conf *c, const char *users,
	       char *errbuf, size_t size);
void auth_free(struct auth *a);
/* Reads the users file again; on error the users stay as they were. */
int auth_reload(struct auth *a, const char *users, char *errbuf, size_t size);
unsigned auth_user_count(const struct auth *a);

/* A nonce for src at now (AUTH_NONCE_LEN + 1 bytes). */
void auth_nonce(struct auth *a, const struct ph_addr *src, time_t now,
		char *buf);

/* Checks cred for a request of method from src (on AUTH_OK the user is
 * cred->username). Failures count toward a ban of src. */
enum auth_result auth_check(struct auth *a, const struct auth_cred *cred,
			    const char *method, const struct ph_addr *src,
			    time_t now);

/* src is banned: its requests go unanswered. */
bool auth_banned(struct auth *a, const struct ph_addr *src, time_t now);
/* Ends the bans that are over (logging each); once a second. */
void auth_tick(struct auth *a, time_t now);

/* The HA1 of user:realm:password, as hex (33 or 65 bytes). */
int auth_ha1(enum auth_alg alg, const char *user, const char *realm,
	     const char *password, char *hex, size_t size);

#endif
