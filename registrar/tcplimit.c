/* Connections per source IP. sofia-sip's tport_accept() has no hook, but
 * it makes each accepted connection with tport_alloc_secondary() and
 * frees each with tport_zap_secondary(), both reached through the PLT
 * from inside the library (checked with objdump on Debian 12's
 * libsofia-sip-ua.so.0; their prototypes are unchanged since 2006). As
 * sofiafix.c does, pinholed's executable defines them again and hands on
 * to the originals (dlsym RTLD_NEXT): the first shuts a connection past
 * the source's limit down as it is made, the second gives the source its
 * share back. (Not by returning NULL: Debian's tport_accept() then leaks
 * the socket; a connection shut down both ways reads as closed at once,
 * and sofia closes and frees it by its usual path.) Issue 14: 20,000 connections
 * from one address reached the fd limit and stopped all TCP service. */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <sofia-sip/tport.h>

#include "countmap.h"
#include "log.h"
#include "ratelog.h"
#include "stunsock.h"
#include "tcplimit.h"

struct tport_primary_s;

tport_t *tport_alloc_secondary(struct tport_primary_s *pri, int socket,
			       int accepted, char const **return_reason);
void tport_zap_secondary(tport_t *self);

#define CONN_BUCKETS 4096

/* An accepted connection we count: which source it holds a share of. */
struct conn {
	struct conn *next;
	const tport_t *tp;
	size_t klen;
	uint8_t key[COUNTMAP_IPKEY_LEN];
};

static unsigned max_per_source;
static struct countmap *by_src;
static struct conn *conns[CONN_BUCKETS];
static struct ratelog refused_log;

void tcplimit_setup(unsigned max)
{
	max_per_source = max;
	if (max && !by_src && countmap_alloc(&by_src))
		log_warn("sip: no memory to count TCP connections per source: "
			 "max_tcp_per_source is not enforced");
}

static struct conn **conn_find(const tport_t *tp)
{
	struct conn **pp = &conns[((uintptr_t)tp >> 4) % CONN_BUCKETS];

	while (*pp && (*pp)->tp != tp)
		pp = &(*pp)->next;
	return pp;
}

/* The source of an accepted socket, as a countmap key; 0 if unknown. */
static size_t peer_key(int socket, uint8_t key[COUNTMAP_IPKEY_LEN])
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct ph_addr a;

	if (getpeername(socket, (struct sockaddr *)&ss, &len) ||
	    ph_addr_from_sa(&a, (struct sockaddr *)&ss, len))
		return 0;
	return countmap_ipkey(&a, key);
}

static void refused(int socket, unsigned long held)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char ip[PH_ADDR_STRLEN] = "?";
	unsigned long skipped;
	struct ph_addr a;

	if (!ratelog_ok(&refused_log, stunsock_now_ms(), &skipped))
		return;
	if (!getpeername(socket, (struct sockaddr *)&ss, &len) &&
	    !ph_addr_from_sa(&a, (struct sockaddr *)&ss, len))
		ph_addr_print(&a, ip, sizeof ip);
	log_warn("sip: connection from %s refused: it holds %lu, "
		 "max_tcp_per_source is %u (%lu more refusals not logged)",
		 ip, held, max_per_source, skipped);
}

/* The share the source of an accepted socket would take: NULL when it is
 * not counted (no limit, unknown source, no memory) or, shut down, when
 * it is over its limit. */
static struct conn *take_share(int socket)
{
	struct conn *c;
	unsigned long held;

	if (!max_per_source || !by_src || !(c = calloc(1, sizeof *c)))
		return NULL;
	c->klen = peer_key(socket, c->key);
	if (!c->klen)
		goto none;
	held = countmap_get(by_src, c->key, c->klen);
	if (held >= max_per_source) {
		refused(socket, held);
		shutdown(socket, SHUT_RDWR);
		goto none;
	}
	if (!countmap_add(by_src, c->key, c->klen, 1))
		return c;
 none:
	free(c);
	return NULL;
}

tport_t *tport_alloc_secondary(struct tport_primary_s *pri, int socket,
			       int accepted, char const **return_reason)
{
	static tport_t *(*next)(struct tport_primary_s *, int, int,
				char const **);
	struct conn *c = NULL, **pp;
	tport_t *tp;

	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "tport_alloc_secondary");
	if (!next)
		return NULL;
	if (accepted)
		c = take_share(socket);
	tp = next(pri, socket, accepted, return_reason);
	if (!tp || !accepted) {
		if (c)
			countmap_sub(by_src, c->key, c->klen, 1);
		free(c);
		return tp;
	}
	/* A fresh connection holds no reference (tp_refs -1) until a message
	 * takes one, and sofia's idle timer closes only those at 0: one that
	 * never sends would stay open for ever (issue 14: 300 held 420 s).
	 * A reference taken and dropped brings it to 0 and arms the timer
	 * (TPTAG_IDLE: tcp_idle_timeout). */
	tport_unref(tport_ref(tp));
	if (c) {
		pp = conn_find(tp);
		c->tp = tp;
		c->next = *pp;
		*pp = c;
	}
	return tp;
}

void tport_zap_secondary(tport_t *self)
{
	static void (*next)(tport_t *);
	struct conn **pp = conn_find(self), *c = *pp;

	if (c) {
		countmap_sub(by_src, c->key, c->klen, 1);
		*pp = c->next;
		free(c);
	}
	if (!next)
		*(void **)&next = dlsym(RTLD_NEXT, "tport_zap_secondary");
	if (next)
		next(self);
}
