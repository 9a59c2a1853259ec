/* The UDP sockets of the STUN service and the hop test, on the su_root
 * loop: stun_port, stun_port + 1 and the eight hop-test ports on every
 * listen address (and the alternate address, where configured). */
#ifndef PINHOLED_STUNSOCK_H
#define PINHOLED_STUNSOCK_H

#include <sofia-sip/su_wait.h>

#include "conf.h"
#include "stund.h"

struct stunsock;

int stunsock_alloc(struct stunsock **ssp, su_root_t *root,
		   const struct pconf *conf, struct stund *stund);
void stunsock_free(struct stunsock *ss);

/* Send from the socket bound to from's port (and IP, or the wildcard with
 * from's IP as the source). ENOENT when we have no such socket. */
int stunsock_send(struct stunsock *ss, const struct ph_addr *from,
		  const struct ph_addr *dst, const void *buf, size_t len);

/* Send on a given socket, with from's IP as source when it is set. */
int stunsock_sendfd(int fd, const struct ph_addr *from,
		    const struct ph_addr *dst, const void *buf, size_t len);

uint64_t stunsock_now_ms(void);

#endif
