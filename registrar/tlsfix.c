/* The TLS transport type of sofia-sip with TCP's message timeout
 * (tlsfix.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <sofia-sip/tport.h>

#include "log.h"
#include "tlsfix.h"

/* sofia-sip 1.12.11's struct tport_vtable (tport_internal.h, which it
 * does not install): what a transport type does, one function each. Only
 * the last two are changed; the rest is copied as it is. */
struct tport_vtable_1_12 {
	const char *name;
	int public_;
	size_t pri_size;
	void *init_primary, *deinit_primary, *wakeup_pri, *connect;
	size_t secondary_size;
	void *init_secondary, *deinit_secondary, *shutdown, *set_events,
	     *wakeup, *recv, *send, *deliver, *prepare, *keepalive,
	     *stun_response;
	int (*next_secondary_timer)(tport_t *self, su_time_t *target,
				    char const **why);
	void (*secondary_timer)(tport_t *self, su_time_t now);
};

/* Exported by libsofia-sip-ua, declared only in its private headers. */
extern const struct tport_vtable_1_12 tport_tls_vtable;
int tport_register_type(const struct tport_vtable_1_12 *vtp);
int tport_next_recv_timeout(tport_t *self, su_time_t *target,
			    char const **why);
void tport_recv_timeout_timer(tport_t *self, su_time_t now);
void tport_base_timer(tport_t *self, su_time_t now);

/* TCP's timers less its keepalive ping, which writes to the socket
 * itself, past TLS (pinholed sets no TPTAG_KEEPALIVE anyway). */
static int tls_next_timer(tport_t *self, su_time_t *target, char const **why)
{
	return tport_next_recv_timeout(self, target, why);
}

static void tls_timer(tport_t *self, su_time_t now)
{
	tport_recv_timeout_timer(self, now);
	tport_base_timer(self, now);
}

static struct tport_vtable_1_12 tls_type;

int tlsfix_timers(void)
{
	if (tls_type.name)
		return 0;
	/* the type this was written against: named tls, no timers */
	if (!tport_tls_vtable.name || strcmp(tport_tls_vtable.name, "tls") ||
	    tport_tls_vtable.next_secondary_timer ||
	    tport_tls_vtable.secondary_timer) {
		log_err("sip: sofia-sip's TLS transport is not the one of "
			"1.12.11: its message timeout cannot be set");
		return EPROTO;
	}
	tls_type = tport_tls_vtable;
	tls_type.next_secondary_timer = tls_next_timer;
	tls_type.secondary_timer = tls_timer;
	if (tport_register_type(&tls_type)) {
		memset(&tls_type, 0, sizeof tls_type);
		return errno ? errno : ENOMEM;
	}
	return 0;
}
