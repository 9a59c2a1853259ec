/* Digest authentication: users, nonces, responses, replay, bans.
 * Hashes are OpenSSL's (EVP, HMAC): sofia-sip's auth module knows MD5
 * only, and RFC 8760 adds SHA-256. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "auth.h"
#include "log.h"

#define HEX_MD5 32
#define HEX_SHA256 64
/* 4 bytes of time, 2 of a counter (phones behind one address, challenged
 * in the same second, get nonces of their own, each with its own
 * nonce-count), 12 of HMAC-SHA-256 (96 bits to guess within
 * nonce_lifetime; short, because a challenge carries two nonces and must
 * not outgrow the request it answers) */
#define NONCE_RAW 18
#define NONCE_SIGNED 6
#define MAC_LEN 12
/* Bounded tables, whatever floods come: NC_SLOTS nonces in use (each
 * phone holds one, for nonce_lifetime), BAN_SLOTS failing sources;
 * looked up in WAYS neighbouring slots. */
#define NC_SLOTS 16384
#define BAN_SLOTS 4096
#define WAYS 8

struct user {
	char name[AUTH_USER_MAX];
	char ha1[2][HEX_SHA256 + 1];     /* by enum auth_alg, hex */
};

struct nc_slot {
	uint8_t nonce[NONCE_RAW];
	uint32_t nc;
	uint32_t t;                     /* the nonce's time; 0: free */
};

struct ban_slot {
	uint8_t ip[16];
	unsigned fails;
	time_t first, until;            /* first failure; end of the ban */
	bool used;
};

struct auth {
	struct auth_conf c;
	uint8_t secret[32];
	uint16_t counter;
	struct user *users;
	unsigned n_users;
	struct nc_slot *nc;
	/* The newest nonce time whose entry was pushed out of a full table:
	 * a nonce as old or older that is not found may have been used, so
	 * it is taken as stale; a newer one not found was never used. */
	uint32_t nc_evicted;
	struct ban_slot *ban;
};

static const char *const alg_name[] = {"MD5", "SHA-256"};

/* ---- hashing ---------------------------------------------------------- */

static void to_hex(const uint8_t *b, size_t n, char *hex)
{
	static const char d[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		hex[2 * i] = d[b[i] >> 4];
		hex[2 * i + 1] = d[b[i] & 15];
	}
	hex[2 * n] = '\0';
}

/* hex(H(p[0] ":" p[1] ":" ...)) */
static int hash_hex(enum auth_alg alg, const char *const *p, unsigned n,
		    char *hex)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, alg == AUTH_SHA256 ? EVP_sha256()
							       : EVP_md5(), NULL);

	for (unsigned i = 0; ok && i < n; i++)
		ok = (!i || EVP_DigestUpdate(ctx, ":", 1)) &&
		     EVP_DigestUpdate(ctx, p[i], strlen(p[i]));
	ok = ok && EVP_DigestFinal_ex(ctx, md, &len);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ENOMEM;
	to_hex(md, len, hex);
	return 0;
}

int auth_ha1(enum auth_alg alg, const char *user, const char *realm,
	     const char *password, char *hex, size_t size)
{
	const char *p[] = {user, realm, password};

	if (size < (alg == AUTH_SHA256 ? HEX_SHA256 : HEX_MD5) + 1u)
		return ENOSPC;
	return hash_hex(alg, p, 3, hex);
}

/* ---- users ------------------------------------------------------------ */

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct user *)a)->name,
		      ((const struct user *)b)->name);
}

/* One line: 0 and *u filled, ENOENT for another realm, EINVAL. */
static int parse_user(char *line, const char *realm, struct user *u)
{
	char *f[4], *save = NULL;
	unsigned n = 0;

	for (char *t = strtok_r(line, ":\r\n", &save); t && n < 4;
	     t = strtok_r(NULL, ":\r\n", &save))
		f[n++] = t;
	if (n != 4 || strtok_r(NULL, ":\r\n", &save) ||
	    strlen(f[0]) >= sizeof u->name || !is_hex(f[2], HEX_MD5) ||
	    !is_hex(f[3], HEX_SHA256))
		return EINVAL;
	if (strcmp(f[1], realm))
		return ENOENT;
	strcpy(u->name, f[0]);
	strcpy(u->ha1[AUTH_MD5], f[2]);
	strcpy(u->ha1[AUTH_SHA256], f[3]);
	for (char *h = u->ha1[0]; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	for (char *h = u->ha1[1]; *h; h++)
		*h = (char)tolower((unsigned char)*h);
	return 0;
}

/* The users of realm in the file at path, sorted, into *up (malloc'd)
 * and *np, only when all of it reads right. */
static int load_users(const char *realm, const char *path, struct user **up,
		      unsigned *np, char *errbuf, size_t size)
{
	FILE *f = fopen(path, "r");
	char line[512];
	unsigned lineno = 0, cap = 0, n = 0;
	struct user *u = NULL;
	int err = 0;

	if (!f) {
		err = errno;
		snprintf(errbuf, size, "%s: %s", path, strerror(err));
		return err;
	}
	while (!err && fgets(line, sizeof line, f)) {
		lineno++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (n == cap) {
			void *p = realloc(u, (cap = cap ? 2 * cap : 64) * sizeof *u);
			if (!p) {
				snprintf(errbuf, size, "%s: %s", path, strerror(ENOMEM));
				err = ENOMEM;
				break;
			}
			u = p;
		}
		err = parse_user(line, realm, &u[n]);
		if (!err)
			n++;
		else if (err == ENOENT)
			err = 0;
		else
			snprintf(errbuf, size, "%s:%u: expected "
				 "user:realm:HA1-MD5:HA1-SHA-256 (hex)", path, lineno);
	}
	fclose(f);
	if (err) {
		free(u);
		return err;
	}
	qsort(u, n, sizeof *u, user_cmp);
	*up = u;
	*np = n;
	return 0;
}

int auth_reload(struct auth *a, const char *users, char *errbuf, size_t size)
{
	struct user *u = NULL;
	unsigned n = 0;
	int err = load_users(a->c.realm, users, &u, &n, errbuf, size);

	if (err)
		return err;
	free(a->users);
	a->users = u;
	a->n_users = n;
	return 0;
}

static const struct user *find_user(const struct auth *a, const char *name)
{
	struct user key;

	if (!name || strlen(name) >= sizeof key.name)
		return NULL;
	strcpy(key.name, name);
	return bsearch(&key, a->users, a->n_users, sizeof *a->users, user_cmp);
}

unsigned auth_user_count(const struct auth *a)
{
	return a->n_users;
}

/* ---- nonces ----------------------------------------------------------- */

/* The IP as 16 bytes (IPv4 as IPv4-mapped IPv6): what a nonce and a ban
 * are bound to. The port is not: a phone's NAT may change it. */
static void ip_key(const struct ph_addr *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (ph_addr_af(a) == AF_INET6) {
		memcpy(out, &a->u.in6.sin6_addr, 16);
		return;
	}
	out[10] = out[11] = 0xff;
	memcpy(out + 12, &a->u.in.sin_addr, 4);
}

static void nonce_mac(const struct auth *a, const uint8_t head[NONCE_SIGNED],
		      const struct ph_addr *src, uint8_t mac[MAC_LEN])
{
	uint8_t in[NONCE_SIGNED + 16], md[EVP_MAX_MD_SIZE];
	unsigned len = 0;

	memcpy(in, head, NONCE_SIGNED);
	ip_key(src, in + NONCE_SIGNED);
	HMAC(EVP_sha256(), a->secret, sizeof a->secret, in, sizeof in, md, &len);
	memcpy(mac, md, MAC_LEN);
}

void auth_nonce(struct auth *a, const struct ph_addr *src, time_t now,
		char *buf)
{
	uint8_t raw[NONCE_RAW];
	uint32_t t = (uint32_t)now;

	raw[0] = (uint8_t)(t >> 24), raw[1] = (uint8_t)(t >> 16);
	raw[2] = (uint8_t)(t >> 8), raw[3] = (uint8_t)t;
	a->counter++;
	raw[4] = (uint8_t)(a->counter >> 8), raw[5] = (uint8_t)a->counter;
	nonce_mac(a, raw, src, raw + NONCE_SIGNED);
	EVP_EncodeBlock((unsigned char *)buf, raw, NONCE_RAW);
}

/* 0 for a nonce of ours for src, still fresh, raw filled; ESTALE. */
static int nonce_check(const struct auth *a, const char *nonce,
		       const struct ph_addr *src, time_t now,
		       uint8_t raw[NONCE_RAW])
{
	uint8_t buf[NONCE_RAW + 3], mac[MAC_LEN];
	uint32_t t;

	if (strlen(nonce) != AUTH_NONCE_LEN ||
	    EVP_DecodeBlock(buf, (const unsigned char *)nonce,
			    AUTH_NONCE_LEN) != NONCE_RAW)
		return ESTALE;
	nonce_mac(a, buf, src, mac);
	if (CRYPTO_memcmp(mac, buf + NONCE_SIGNED, MAC_LEN))
		return ESTALE;
	t = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if ((time_t)t > now || now - (time_t)t >= (time_t)a->c.nonce_lifetime)
		return ESTALE;
	memcpy(raw, buf, NONCE_RAW);
	return 0;
}

static uint32_t hash32(const uint8_t *b, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *b++) * 16777619u;
	return h;
}

/* RFC 7616 3.4: the server checks that nc grows with each request on a
 * nonce, so that a request seen on the wire cannot be sent again. 0 when
 * nc is new for this nonce (and remembered), ESTALE otherwise. */
static int nc_take(struct auth *a, const uint8_t raw[NONCE_RAW], uint32_t nc,
		   time_t now)
{
	uint32_t t = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
		     (uint32_t)raw[2] << 8 | raw[3];
	uint32_t h = hash32(raw, NONCE_RAW) % NC_SLOTS;
	struct nc_slot *victim = NULL;

	for (unsigned i = 0; i < WAYS; i++) {
		struct nc_slot *s = &a->nc[(h + i) % NC_SLOTS];
		bool live = s->t && now - (time_t)s->t < (time_t)a->c.nonce_lifetime;

		if (live && !memcmp(s->nonce, raw, NONCE_RAW)) {
			if (nc <= s->nc)
				return ESTALE;
			s->nc = nc;
			return 0;
		}
		if (!live)
			s->t = 0;
		if (!victim || (victim->t && (!s->t || s->t < victim->t)))
			victim = s;
	}
	if (t <= a->nc_evicted)
		return ESTALE;
	if (victim->t && victim->t > a->nc_evicted)
		a->nc_evicted = victim->t;
	memcpy(victim->nonce, raw, NONCE_RAW);
	victim->nc = nc;
	victim->t = t;
	return 0;
}

/* ---- bans ------------------------------------------------------------- */

static struct ban_slot *ban_find(struct auth *a, const uint8_t ip[16],
				 bool add)
{
	uint32_t h = hash32(ip, 16) % BAN_SLOTS;
	struct ban_slot *victim = NULL;

	for (unsigned i = 0; i < WAYS; i++) {
		struct ban_slot *s = &a->ban[(h + i) % BAN_SLOTS];

		if (s->used && !memcmp(s->ip, ip, 16))
			return s;
		/* an empty slot, else the one whose last news is oldest */
		if (!victim || (victim->used &&
				(!s->used || (s->until ? s->until : s->first) <
				 (victim->until ? victim->until : victim->first))))
			victim = s;
	}
	if (!add)
		return NULL;
	memset(victim, 0, sizeof *victim);
	memcpy(victim->ip, ip, 16);
	victim->used = true;
	return victim;
}

static void ban_fail(struct auth *a, const struct ph_addr *src, time_t now)
{
	uint8_t ip[16];
	struct ban_slot *s;
	char str[PH_ADDR_STRLEN];

	if (!a->c.ban_time)
		return;
	ip_key(src, ip);
	s = ban_find(a, ip, true);
	if (s->until)
		return;
	if (!s->fails || now - s->first >= (time_t)a->c.fail_window) {
		s->fails = 0;
		s->first = now;
	}
	if (++s->fails < a->c.fail_max)
		return;
	s->until = now + (time_t)a->c.ban_time;
	ph_addr_ip_print(src, str, sizeof str);
	log_warn("auth: %s banned for %u s: %u failed authentications in %ld s",
		 str, a->c.ban_time, s->fails, (long)(now - s->first));
}

bool auth_banned(struct auth *a, const struct ph_addr *src, time_t now)
{
	uint8_t ip[16];
	struct ban_slot *s;

	ip_key(src, ip);
	s = ban_find(a, ip, false);
	return s && s->until && now < s->until;
}

void auth_tick(struct auth *a, time_t now)
{
	for (unsigned i = 0; i < BAN_SLOTS; i++) {
		struct ban_slot *s = &a->ban[i];
		struct ph_addr p = {0};
		char str[PH_ADDR_STRLEN];

		if (!s->used || !s->until || now < s->until)
			continue;
		if (s->ip[10] == 0xff && s->ip[11] == 0xff && !s->ip[0]) {
			p.u.in.sin_family = AF_INET;
			memcpy(&p.u.in.sin_addr, s->ip + 12, 4);
		} else {
			p.u.in6.sin6_family = AF_INET6;
			memcpy(&p.u.in6.sin6_addr, s->ip, 16);
		}
		ph_addr_ip_print(&p, str, sizeof str);
		log_notice("auth: ban of %s ended", str);
		memset(s, 0, sizeof *s);
	}
}

/* ---- responses -------------------------------------------------------- */

static int parse_alg(const char *s, enum auth_alg *alg)
{
	if (!s || !strcasecmp(s, "MD5"))
		*alg = AUTH_MD5;
	else if (!strcasecmp(s, "SHA-256"))
		*alg = AUTH_SHA256;
	else
		return EINVAL;
	return 0;
}

/* nc: 8 hex digits (RFC 7616 3.4), not 0 */
static int parse_nc(const char *s, uint32_t *nc)
{
	char *end;
	unsigned long v;

	if (!s || !is_hex(s, 8))
		return EINVAL;
	v = strtoul(s, &end, 16);
	if (!v)
		return EINVAL;
	*nc = (uint32_t)v;
	return 0;
}

/* RFC 7616 3.4.1: H(HA1:nonce:nc:cnonce:qop:H(method:uri)) equals the
 * response, compared in constant time. An unknown user's response is
 * checked against a made-up HA1 all the same, so that it takes as long. */
static bool response_ok(const struct user *u, enum auth_alg alg,
			const struct auth_cred *c, const char *method)
{
	static const char zero[HEX_SHA256 + 1] =
		"0000000000000000000000000000000000000000000000000000000000000000";
	char ha2[HEX_SHA256 + 1], want[HEX_SHA256 + 1];
	const char *p2[] = {method, c->uri};
	const char *ha1 = u ? u->ha1[alg] : zero + (alg == AUTH_MD5 ? HEX_MD5 : 0);
	const char *p[] = {ha1, c->nonce, c->nc, c->cnonce, c->qop, ha2};
	size_t len = alg == AUTH_SHA256 ? HEX_SHA256 : HEX_MD5;
	bool same;

	if (hash_hex(alg, p2, 2, ha2) || hash_hex(alg, p, 6, want))
		return false;
	same = strlen(c->response) == len &&
	       !CRYPTO_memcmp(want, c->response, len);
	return same && u;
}

enum auth_result auth_check(struct auth *a, const struct auth_cred *cred,
			    const char *method, const struct ph_addr *src,
			    time_t now)
{
	const struct user *u;
	uint8_t raw[NONCE_RAW];
	enum auth_alg alg;
	uint32_t nc;

	/* RFC 7616: qop is required; without it nc, and so replay, is lost */
	if (!cred->username || !cred->nonce || !cred->uri || !cred->response ||
	    !cred->cnonce || !cred->qop || strcmp(cred->qop, "auth") ||
	    parse_alg(cred->algorithm, &alg) || parse_nc(cred->nc, &nc)) {
		/* a guesser that cannot do qop=auth fails as surely */
		ban_fail(a, src, now);
		return AUTH_BAD;
	}
	u = find_user(a, cred->username);
	if (!response_ok(u, alg, cred, method)) {
		ban_fail(a, src, now);
		return AUTH_FAIL;
	}
	/* the password is right: whatever is wrong with the nonce, the
	 * phone only needs a fresh one (RFC 7616 3.3, stale) */
	if (nonce_check(a, cred->nonce, src, now, raw) ||
	    nc_take(a, raw, nc, now))
		return AUTH_STALE;
	log_debug("auth: %s authenticated (%s)", u->name, alg_name[alg]);
	return AUTH_OK;
}

/* ---- set-up ----------------------------------------------------------- */

int auth_alloc(struct auth **ap, const struct auth_conf *c, const char *users,
	       char *errbuf, size_t size)
{
	struct auth *a = calloc(1, sizeof *a);
	int err = 0;

	if (!a)
		return ENOMEM;
	a->c = *c;
	a->nc = calloc(NC_SLOTS, sizeof *a->nc);
	a->ban = calloc(BAN_SLOTS, sizeof *a->ban);
	if (!a->nc || !a->ban)
		err = ENOMEM;
	else if (RAND_bytes(a->secret, sizeof a->secret) != 1)
		err = EIO;
	else if (users && *users)
		err = auth_reload(a, users, errbuf, size);
	if (err) {
		if (!a->nc || !a->ban || err == EIO)
			snprintf(errbuf, size, "auth: %s", strerror(err));
		auth_free(a);
		return err;
	}
	*ap = a;
	return 0;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	OPENSSL_cleanse(a->secret, sizeof a->secret);
	free(a->users);
	free(a->nc);
	free(a->ban);
	free(a);
}
