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
/* store_path's default: where pinholed falls back to memory, saying so,
 * when it cannot be used (conf/pinholed.conf) */
#define CONF_STORE_PATH "/var/lib/pinhole/bindings.db"
#define CONF_SECRET_LEN 256
#define CONF_MAX_RELAYS 8

struct pconf {
	struct ph_addr listen[CONF_MAX_LISTEN];  /* port 0 */
	unsigned n_listen;
	uint16_t sip_port;
	bool udp, tcp, tls;
	uint16_t tls_port;
	char tls_certificate[CONF_PATH_LEN];  /* PEM: ours, then intermediates */
	char tls_key[CONF_PATH_LEN];          /* PEM, unencrypted */
	char tls_ca[CONF_PATH_LEN];           /* set: clients must show a cert */
	char domains[CONF_MAX_DOMAINS][CONF_DOMAIN_LEN];
	unsigned n_domains;
	unsigned min_expires, max_expires, default_expires;
	unsigned max_contacts, max_bindings;
	bool store_file;             /* store = file (else memory) */
	bool store_redis;            /* store = redis */
	char redis[CONF_PATH_LEN];   /* HOST:PORT of the shared store */
	char node_address[CONF_PATH_LEN]; /* IP:PORT other nodes reach us at;
					     empty: listen[0]:sip_port */
	char store_path[CONF_PATH_LEN];
	unsigned max_bindings_per_source;  /* per source IP; 0: no limit */
	unsigned max_tcp_per_source;       /* connections; 0: no limit */
	unsigned max_requests_per_source;  /* per second; 0: no limit */
	unsigned tcp_idle_timeout;         /* s, a connection no flow holds */
	unsigned flow_timer;               /* s, RFC 5626 Flow-Timer; 0: none */
	unsigned tcp_message_timeout;      /* s, no byte of an unfinished one */
	unsigned sip_max_message_size;     /* bytes */
	unsigned udp_buffer;         /* SO_RCVBUF/SO_SNDBUF of UDP sockets */
	unsigned overload_queue;     /* % of a receive buffer; 0: not watched */
	unsigned overload_calls;     /* calls being set up at once; 0: no limit */
	unsigned overload_retry_after;
	uint16_t stun_port;          /* +1 alternate, +2..+9 hop test */
	struct ph_addr stun_alt;     /* unset: no change-IP */
	unsigned stun_memory, stun_memory_seconds;
	unsigned stun_memory_per_prefix;   /* per /24 (IPv4) or /64 (IPv6) */
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
	unsigned relay_streams_per_source, relay_streams_per_user; /* 0: none */
	struct ph_addr upstream;     /* the PBX (edge mode); unset: standalone */
	bool upstream_tcp;           /* ;transport=tcp */
	bool log_syslog;
	int log_level;
	char pid_file[CONF_PATH_LEN];
	char route_secret[CONF_SECRET_LEN]; /* empty: random per process */
};

/* The hop-test port for TTL k (1..8), PROTOCOL.md section 1. */
#define CONF_HOP_PORTS 8
#define conf_hop_port(c, k) ((uint16_t)((c)->stun_port + 1 + (k)))

void conf_defaults(struct pconf *c);
/* store = redis: IP:PORT other nodes send this one's requests to
 * (node_address, else the first listen address:sip_port); EINVAL when
 * that is a wildcard. */
int conf_node_address(const struct pconf *c, char *buf, size_t size);
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
