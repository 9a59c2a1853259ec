/* pinholed configuration: built-in defaults, a "key = value" file, and
 * -o key=value overrides, all through one table of keys. */
#ifndef PINHOLED_CONF_H
#define PINHOLED_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pinhole/addr.h>

#define CONF_MAX_LISTEN 8
#define CONF_MAX_DOMAINS 16
#define CONF_DOMAIN_LEN 128
#define CONF_PATH_LEN 256
#define CONF_MAX_RELAYS 8

struct pconf {
	struct ph_addr listen[CONF_MAX_LISTEN];  /* port 0 */
	unsigned n_listen;
	uint16_t sip_port;
	bool udp, tcp;
	char domains[CONF_MAX_DOMAINS][CONF_DOMAIN_LEN];
	unsigned n_domains;
	unsigned min_expires, max_expires, default_expires;
	unsigned max_contacts, max_bindings;
	unsigned udp_buffer;         /* SO_RCVBUF/SO_SNDBUF of UDP sockets */
	uint16_t stun_port;          /* +1 alternate, +2..+9 hop test */
	struct ph_addr stun_alt;     /* unset: no change-IP */
	unsigned stun_memory, stun_memory_seconds;
	bool relay;                  /* relay = internal (true), off or ng:... */
	struct ph_addr relay_ng[CONF_MAX_RELAYS]; /* relay = ng:IP:PORT, ... */
	unsigned n_relay_ng;         /* (relay false then) */
	struct ph_addr relay_addr;   /* unset: the wildcard, advertised per call */
	uint16_t relay_port_min, relay_port_max;
	unsigned relay_idle, relay_threads;
	char realm[CONF_DOMAIN_LEN]; /* empty: the first domain, or the host name */
	char users[CONF_PATH_LEN];   /* empty: no authentication */
	unsigned nonce_lifetime;
	unsigned auth_ban_failures, auth_ban_window, auth_ban_time;
	bool log_syslog;
	int log_level;
	char pid_file[CONF_PATH_LEN];
};

/* The hop-test port for TTL k (1..8), PROTOCOL.md section 1. */
#define CONF_HOP_PORTS 8
#define conf_hop_port(c, k) ((uint16_t)((c)->stun_port + 1 + (k)))

void conf_defaults(struct pconf *c);
/* One key; on error *why says what is wrong with the value. */
int conf_set(struct pconf *c, const char *key, const char *val,
	     const char **why);
/* "key=value" as given to -o. */
int conf_set_arg(struct pconf *c, const char *arg, const char **why);
/* A whole file; on error errbuf holds "FILE:LINE: message". */
int conf_load(struct pconf *c, const char *path, char *errbuf, size_t size);
/* Checks across keys (min <= default <= max, ports in range). */
int conf_check(const struct pconf *c, const char **why);

#endif
