/* Configuration keys, one table: name, parser, where the value goes.
 * Every key documented in conf/pinholed.conf has a row here, and the
 * defaults set by conf_defaults() are the ones that file shows. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"

typedef int (conf_parse_h)(struct pconf *c, const char *val, const char **why);

static int parse_uint(const char *val, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*val))
		return EINVAL;
	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || v < min || v > max)
		return EINVAL;
	*out = v;
	return 0;
}

#define UINT_KEY(field, min, max)                                           \
	static int set_##field(struct pconf *c, const char *v, const char **w) \
	{                                                                      \
		unsigned long n;                                               \
		if (parse_uint(v, min, max, &n)) {                             \
			*w = "expected a whole number from " #min " to " #max; \
			return EINVAL;                                         \
		}                                                              \
		c->field = n;                                                  \
		return 0;                                                      \
	}

UINT_KEY(sip_port, 1, 65535)
UINT_KEY(tls_port, 1, 65535)
UINT_KEY(stun_port, 1, 65526)
UINT_KEY(min_expires, 1, 86400)
UINT_KEY(max_expires, 1, 604800)
UINT_KEY(default_expires, 1, 604800)
UINT_KEY(max_contacts, 1, 1000)
UINT_KEY(max_bindings, 1, 100000000)
UINT_KEY(stun_memory, 16, 16777216)
UINT_KEY(max_bindings_per_source, 0, 100000000)
UINT_KEY(max_tcp_per_source, 0, 1000000)
UINT_KEY(max_requests_per_source, 0, 1000000)
UINT_KEY(tcp_idle_timeout, 1, 86400)
UINT_KEY(flow_timer, 0, 3600)
UINT_KEY(tcp_message_timeout, 1, 3600)
UINT_KEY(sip_max_message_size, 4096, 16777216)
UINT_KEY(stun_memory_per_prefix, 1, 16777216)
UINT_KEY(udp_buffer, 65536, 268435456)
UINT_KEY(overload_queue, 0, 100)
UINT_KEY(overload_calls, 0, 10000000)
UINT_KEY(overload_retry_after, 1, 3600)
UINT_KEY(stun_memory_seconds, 1, 86400)
UINT_KEY(relay_idle, 5, 86400)
UINT_KEY(relay_threads, 1, 16)
UINT_KEY(nonce_lifetime, 10, 86400)
UINT_KEY(auth_ban_failures, 1, 1000000)
UINT_KEY(auth_ban_window, 1, 86400)
UINT_KEY(auth_ban_time, 0, 604800)
UINT_KEY(relay_streams_per_source, 0, 1000000)
UINT_KEY(relay_streams_per_user, 0, 1000000)

/* Split a comma-separated list in place; calls h for each trimmed item. */
static int each_item(const char *val, int (*h)(void *, const char *, size_t),
		     void *arg)
{
	const char *p = val;

	while (*p) {
		const char *end = strchr(p, ',');
		size_t n;

		if (!end)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		n = (size_t)(end - p);
		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n) {
			int err = h(arg, p, n);
			if (err)
				return err;
		}
		p = *end ? end + 1 : end;
	}
	return 0;
}

static int add_listen(void *arg, const char *s, size_t n)
{
	struct pconf *c = arg;

	if (c->n_listen == CONF_MAX_LISTEN)
		return E2BIG;
	return ph_addr_set_n(&c->listen[c->n_listen++], s, n, 0);
}

static int set_listen(struct pconf *c, const char *v, const char **why)
{
	struct pconf tmp = *c;
	int err;

	tmp.n_listen = 0;
	err = each_item(v, add_listen, &tmp);
	if (err || !tmp.n_listen) {
		*why = err == E2BIG ? "too many addresses (at most 8)"
				    : "expected numeric IP addresses, comma-separated";
		return EINVAL;
	}
	memcpy(c->listen, tmp.listen, sizeof c->listen);
	c->n_listen = tmp.n_listen;
	return 0;
}

static int add_transport(void *arg, const char *s, size_t n)
{
	struct pconf *c = arg;

	if (n == 3 && !strncasecmp(s, "udp", 3))
		c->udp = true;
	else if (n == 3 && !strncasecmp(s, "tcp", 3))
		c->tcp = true;
	else if (n == 3 && !strncasecmp(s, "tls", 3))
		c->tls = true;
	else
		return EINVAL;
	return 0;
}

static int set_transports(struct pconf *c, const char *v, const char **why)
{
	struct pconf tmp = *c;

	tmp.udp = tmp.tcp = tmp.tls = false;
	if (each_item(v, add_transport, &tmp) ||
	    (!tmp.udp && !tmp.tcp && !tmp.tls)) {
		*why = "expected udp, tcp, tls or several, comma-separated";
		return EINVAL;
	}
	c->udp = tmp.udp;
	c->tcp = tmp.tcp;
	c->tls = tmp.tls;
	return 0;
}

static int add_domain(void *arg, const char *s, size_t n)
{
	struct pconf *c = arg;

	if (c->n_domains == CONF_MAX_DOMAINS || n >= CONF_DOMAIN_LEN)
		return E2BIG;
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)s[i]) || s[i] == ';' || s[i] == '@')
			return EINVAL;
	memcpy(c->domains[c->n_domains], s, n);
	c->domains[c->n_domains++][n] = '\0';
	return 0;
}

static int set_domains(struct pconf *c, const char *v, const char **why)
{
	struct pconf tmp = *c;

	tmp.n_domains = 0;
	if (each_item(v, add_domain, &tmp)) {
		*why = "expected host names, comma-separated (at most 16)";
		return EINVAL;
	}
	memcpy(c->domains, tmp.domains, sizeof c->domains);
	c->n_domains = tmp.n_domains;
	return 0;
}

static int set_stun_alt_address(struct pconf *c, const char *v,
				const char **why)
{
	if (!*v) {
		memset(&c->stun_alt, 0, sizeof c->stun_alt);
		return 0;
	}
	if (ph_addr_set(&c->stun_alt, v, 0)) {
		*why = "expected a numeric IP address";
		return EINVAL;
	}
	return 0;
}

/* "ng:IP:PORT, ng:IP:PORT, ...": relays on other hosts (doc/RELAY-NG.md);
 * an IPv6 address in brackets. */
static int set_relay_ng(struct pconf *c, const char *v, const char **why)
{
	struct ph_addr a[CONF_MAX_RELAYS];
	size_t end = strlen(v);
	unsigned n = 0;

	while (end && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	if (end && v[end - 1] == ',')
		end = 0; /* "ng:IP:PORT," names no last relay */
	while (end && *v) {
		size_t len = strcspn(v, ",");
		const char *e = v + len;

		while (len && (*v == ' ' || *v == '\t'))
			v++, len--;
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (n == CONF_MAX_RELAYS || len < 4 || strncmp(v, "ng:", 3) ||
		    ph_addr_parse(&a[n], v + 3, len - 3, 0) || !ph_addr_port(&a[n])) {
			*why = n == CONF_MAX_RELAYS ? "at most 8 relays"
				: "expected internal, off, or ng:IP:PORT, ng:IP:PORT, ...";
			return EINVAL;
		}
		n++;
		v = *e ? e + 1 : e;
	}
	if (!n) {
		*why = "expected internal, off, or ng:IP:PORT, ng:IP:PORT, ...";
		return EINVAL;
	}
	memcpy(c->relay_ng, a, n * sizeof *a);
	c->n_relay_ng = n;
	c->relay = false;
	return 0;
}

static int set_relay(struct pconf *c, const char *v, const char **why)
{
	if (!strcmp(v, "internal") || !strcmp(v, "off")) {
		c->relay = !strcmp(v, "internal");
		c->n_relay_ng = 0;
		return 0;
	}
	return set_relay_ng(c, v, why);
}

static int set_relay_address(struct pconf *c, const char *v, const char **why)
{
	if (!*v) {
		memset(&c->relay_addr, 0, sizeof c->relay_addr);
		return 0;
	}
	if (ph_addr_set(&c->relay_addr, v, 0)) {
		*why = "expected a numeric IP address";
		return EINVAL;
	}
	return 0;
}

static int set_relay_ports(struct pconf *c, const char *v, const char **why)
{
	unsigned lo, hi;
	int n = 0;

	if (sscanf(v, "%5u-%5u%n", &lo, &hi, &n) != 2 || v[n] || lo < 1024 ||
	    hi > 65535 || hi < lo + 3) {
		*why = "expected FIRST-LAST, 1024..65535, at least 4 ports";
		return EINVAL;
	}
	c->relay_port_min = (uint16_t)lo;
	c->relay_port_max = (uint16_t)hi;
	return 0;
}

static int set_realm(struct pconf *c, const char *v, const char **why)
{
	if (strlen(v) >= sizeof c->realm || strpbrk(v, "\":\\")) {
		*why = "expected a name of at most 127 characters, without '\"', "
		       "':' or '\\'";
		return EINVAL;
	}
	strcpy(c->realm, v);
	return 0;
}

static int set_users(struct pconf *c, const char *v, const char **why)
{
	if (strlen(v) >= sizeof c->users) {
		*why = "path too long";
		return EINVAL;
	}
	strcpy(c->users, v);
	return 0;
}

static int set_log(struct pconf *c, const char *v, const char **why)
{
	if (!strcmp(v, "stderr"))
		c->log_syslog = false;
	else if (!strcmp(v, "syslog"))
		c->log_syslog = true;
	else {
		*why = "expected stderr or syslog";
		return EINVAL;
	}
	return 0;
}

static int set_log_level(struct pconf *c, const char *v, const char **why)
{
	int l = log_level_parse(v);

	if (l < 0) {
		*why = "expected error, warning, notice, info or debug";
		return EINVAL;
	}
	c->log_level = l;
	return 0;
}

/* upstream = sip:IP[:PORT][;transport=udp|tcp]: the PBX pinholed stands
 * in front of (doc/PROTOCOL.md, "Edge mode"). Empty: none. */
static int set_upstream(struct pconf *c, const char *v, const char **why)
{
	const char *host, *semi;
	size_t n;

	memset(&c->upstream, 0, sizeof c->upstream);
	c->upstream_tcp = false;
	if (!*v)
		return 0;
	*why = "expected sip:IP[:PORT][;transport=udp|tcp] (a numeric IP)";
	if (strncasecmp(v, "sip:", 4))
		return EINVAL;
	host = v + 4;
	semi = strchr(host, ';');
	n = semi ? (size_t)(semi - host) : strlen(host);
	if (ph_addr_parse(&c->upstream, host, n, 5060))
		return EINVAL;
	if (semi && !strcasecmp(semi, ";transport=tcp"))
		c->upstream_tcp = true;
	else if (semi && strcasecmp(semi, ";transport=udp")) {
		memset(&c->upstream, 0, sizeof c->upstream);
		return EINVAL;
	}
	return 0;
}

static int set_path(char *dst, size_t size, const char *v, const char **why)
{
	if (strlen(v) >= size) {
		*why = "path too long";
		return EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

#define PATH_KEY(field)                                                     \
	static int set_##field(struct pconf *c, const char *v, const char **w) \
	{                                                                      \
		return set_path(c->field, sizeof c->field, v, w);              \
	}

PATH_KEY(pid_file)
PATH_KEY(tls_certificate)
PATH_KEY(tls_key)
PATH_KEY(tls_ca)

static int set_store(struct pconf *c, const char *v, const char **why)
{
	if (!strcmp(v, "file") || !strcmp(v, "memory") || !strcmp(v, "redis")) {
		c->store_file = !strcmp(v, "file");
		c->store_redis = !strcmp(v, "redis");
		return 0;
	}
	*why = "expected file, memory or redis";
	return EINVAL;
}

static int set_store_path(struct pconf *c, const char *v, const char **why)
{
	if (!*v || strlen(v) >= sizeof c->store_path) {
		*why = *v ? "path too long" : "expected a path";
		return EINVAL;
	}
	strcpy(c->store_path, v);
	return 0;
}

/* The key of the MACs in pinholed's Record-Route and Via (sign.h). */
static int set_route_secret(struct pconf *c, const char *v, const char **why)
{
	size_t n = strlen(v);

	if (n && n < 16) {
		*why = "at least 16 characters, or empty for a random one";
		return EINVAL;
	}
	if (n >= sizeof c->route_secret) {
		*why = "too long";
		return EINVAL;
	}
	strcpy(c->route_secret, v);
	return 0;
}

/* HOST:PORT, an IP or a name (resolved when connecting) */
static int set_hostport(char *dst, size_t size, const char *v,
			const char **why)
{
	const char *colon = strrchr(v, ':');

	if (!*v) {
		*dst = '\0';
		return 0;
	}
	if (!colon || colon == v || !colon[1] || strlen(v) >= size ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
	    atoi(colon + 1) < 1 || atoi(colon + 1) > 65535) {
		*why = "expected HOST:PORT";
		return EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int set_redis(struct pconf *c, const char *v, const char **why)
{
	return set_hostport(c->redis, sizeof c->redis, v, why);
}

/* IP:PORT: it goes in Route URIs and is compared with the bindings' */
static int set_node_address(struct pconf *c, const char *v, const char **why)
{
	struct ph_addr a;

	if (*v && (ph_addr_parse(&a, v, strlen(v), 0) || !ph_addr_port(&a))) {
		*why = "expected IP:PORT ([IPv6]:PORT)";
		return EINVAL;
	}
	return set_hostport(c->node_address, sizeof c->node_address, v, why);
}

static const struct {
	const char *name;
	conf_parse_h *set;
	const char *def;
} keys[] = {
	{"listen", set_listen, "0.0.0.0, ::"},
	{"sip_port", set_sip_port, "5060"},
	{"transports", set_transports, "udp, tcp"},
	{"tls_port", set_tls_port, "5061"},
	{"tls_certificate", set_tls_certificate, ""},
	{"tls_key", set_tls_key, ""},
	{"tls_ca", set_tls_ca, ""},
	{"domains", set_domains, ""},
	{"min_expires", set_min_expires, "60"},
	{"max_expires", set_max_expires, "7200"},
	{"default_expires", set_default_expires, "3600"},
	{"max_contacts", set_max_contacts, "10"},
	{"max_bindings", set_max_bindings, "1000000"},
	{"store", set_store, "file"},
	{"store_path", set_store_path, CONF_STORE_PATH},
	{"max_bindings_per_source", set_max_bindings_per_source, "1000"},
	{"max_tcp_per_source", set_max_tcp_per_source, "100"},
	{"max_requests_per_source", set_max_requests_per_source, "200"},
	{"tcp_idle_timeout", set_tcp_idle_timeout, "60"},
	{"flow_timer", set_flow_timer, "60"},
	{"tcp_message_timeout", set_tcp_message_timeout, "10"},
	{"sip_max_message_size", set_sip_max_message_size, "65536"},
	{"redis", set_redis, "127.0.0.1:6379"},
	{"redis_address", set_redis, "127.0.0.1:6379"},
	{"node_address", set_node_address, ""},
	{"udp_buffer", set_udp_buffer, "4194304"},
	{"overload_queue", set_overload_queue, "20"},
	{"overload_calls", set_overload_calls, "20000"},
	{"overload_retry_after", set_overload_retry_after, "5"},
	{"stun_port", set_stun_port, "3478"},
	{"stun_alt_address", set_stun_alt_address, ""},
	{"stun_memory", set_stun_memory, "65536"},
	{"stun_memory_seconds", set_stun_memory_seconds, "300"},
	{"stun_memory_per_prefix", set_stun_memory_per_prefix, "4096"},
	{"relay", set_relay, "internal"},
	{"relay_address", set_relay_address, ""},
	{"relay_ports", set_relay_ports, "22000-31999"},
	{"relay_idle", set_relay_idle, "60"},
	{"relay_threads", set_relay_threads, "1"},
	{"realm", set_realm, ""},
	{"users", set_users, ""},
	{"nonce_lifetime", set_nonce_lifetime, "300"},
	{"auth_ban_failures", set_auth_ban_failures, "10"},
	{"auth_ban_window", set_auth_ban_window, "60"},
	{"auth_ban_time", set_auth_ban_time, "600"},
	{"relay_streams_per_source", set_relay_streams_per_source, "250"},
	{"relay_streams_per_user", set_relay_streams_per_user, "16"},
	{"upstream", set_upstream, ""},
	{"log", set_log, "stderr"},
	{"log_level", set_log_level, "info"},
	{"pid_file", set_pid_file, ""},
	{"route_secret", set_route_secret, ""},
};

void conf_defaults(struct pconf *c)
{
	const char *why;

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		keys[i].set(c, keys[i].def, &why);
}

int conf_set(struct pconf *c, const char *key, const char *val,
	     const char **why)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!strcmp(keys[i].name, key))
			return keys[i].set(c, val, why);
	*why = "unknown key";
	return ENOENT;
}

/* Trim in place; returns the start. */
static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int set_line(struct pconf *c, char *line, const char **why)
{
	char *eq = strchr(line, '=');

	if (!eq) {
		*why = "expected key = value";
		return EINVAL;
	}
	*eq = '\0';
	return conf_set(c, trim(line), trim(eq + 1), why);
}

int conf_set_arg(struct pconf *c, const char *arg, const char **why)
{
	char buf[1024];

	if (strlen(arg) >= sizeof buf) {
		*why = "too long";
		return EINVAL;
	}
	strcpy(buf, arg);
	return set_line(c, buf, why);
}

int conf_load(struct pconf *c, const char *path, char *errbuf, size_t size)
{
	char line[1024];
	unsigned lineno = 0;
	struct pconf tmp = *c;
	FILE *f = fopen(path, "r");
	int err = 0;

	if (!f) {
		err = errno;
		snprintf(errbuf, size, "%s: %s", path, strerror(err));
		return err;
	}
	while (fgets(line, sizeof line, f)) {
		const char *why = "";
		char *s, *hash;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(errbuf, size, "%s:%u: line too long", path, lineno);
			err = EINVAL;
			break;
		}
		if ((hash = strchr(line, '#')))
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		err = set_line(&tmp, s, &why);
		if (err) {
			snprintf(errbuf, size, "%s:%u: %s: %s", path, lineno, s, why);
			break;
		}
	}
	fclose(f);
	if (!err)
		*c = tmp;
	return err;
}

/* A listen address of stun_alt's family that is every address (0.0.0.0,
 * ::): its STUN sockets take the ports stun_alt_address needs too. */
static bool alt_shadowed(const struct pconf *c)
{
	char ip[PH_ADDR_STRLEN];

	for (unsigned i = 0; ph_addr_isset(&c->stun_alt) && i < c->n_listen; i++)
		if (ph_addr_af(&c->listen[i]) == ph_addr_af(&c->stun_alt) &&
		    !ph_addr_ip_print(&c->listen[i], ip, sizeof ip) &&
		    (!strcmp(ip, "0.0.0.0") || !strcmp(ip, "::") ||
		     ph_addr_ip_eq(&c->listen[i], &c->stun_alt)))
			return true;
	return false;
}

int conf_node_address(const struct pconf *c, char *buf, size_t size)
{
	char ip[PH_ADDR_STRLEN];

	if (c->node_address[0])
		return snprintf(buf, size, "%s", c->node_address) < (int)size ?
			0 : ENOSPC;
	if (!c->n_listen || ph_addr_ip_print(&c->listen[0], ip, sizeof ip) ||
	    !strcmp(ip, "0.0.0.0") || !strcmp(ip, "::"))
		return EINVAL;
	return snprintf(buf, size, strchr(ip, ':') ? "[%s]:%u" : "%s:%u", ip,
			c->sip_port) < (int)size ? 0 : ENOSPC;
}

/* port within the ports STUN (stun_port .. + 9) or the relay takes */
static bool port_taken(const struct pconf *c, unsigned port)
{
	return (port >= c->stun_port && port <= c->stun_port + 9u) ||
	       (c->relay && port >= c->relay_port_min &&
		port <= c->relay_port_max);
}

static int check_tls(const struct pconf *c, const char **why)
{
	if (!c->tls)
		return 0;
	if (!*c->tls_certificate || !*c->tls_key) {
		*why = "transports has tls: set tls_certificate and tls_key "
		       "(PEM files) too";
		return EINVAL;
	}
	if (c->tls_port == c->sip_port && c->tcp) {
		*why = "tls_port is sip_port, which TCP takes";
		return EINVAL;
	}
	if (port_taken(c, c->tls_port)) {
		*why = "tls_port collides with stun_port .. stun_port + 9 or "
		       "relay_ports";
		return EINVAL;
	}
	return 0;
}

int conf_check(const struct pconf *c, const char **why)
{
	char node[CONF_PATH_LEN];

	if (c->min_expires > c->max_expires) {
		*why = "min_expires is above max_expires";
		return EINVAL;
	}
	if (c->default_expires < c->min_expires ||
	    c->default_expires > c->max_expires) {
		*why = "default_expires is outside min_expires..max_expires";
		return EINVAL;
	}
	if (c->sip_port >= c->stun_port && c->sip_port <= c->stun_port + 9) {
		*why = "sip_port collides with stun_port .. stun_port + 9";
		return EINVAL;
	}
	if (c->relay && ((c->sip_port >= c->relay_port_min &&
			  c->sip_port <= c->relay_port_max) ||
			 (c->stun_port + 9 >= c->relay_port_min &&
			  c->stun_port <= c->relay_port_max))) {
		*why = "relay_ports overlap sip_port or stun_port .. stun_port + 9";
		return EINVAL;
	}
	if (alt_shadowed(c)) {
		*why = "stun_alt_address needs listen to name this host's primary "
		       "address (listen = IP), not every address nor the alternate "
		       "one: STUN on the alternate address needs its ports free";
		return EINVAL;
	}
	/* a node's forward is a signed Route the other node must verify */
	if (c->store_redis && !c->route_secret[0]) {
		*why = "store = redis needs route_secret, the same on every node";
		return EINVAL;
	}
	if (c->store_redis && conf_node_address(c, node, sizeof node)) {
		*why = "store = redis needs node_address (IP:PORT other nodes "
		       "reach this one at), or listen to name an IP first";
		return EINVAL;
	}
	return check_tls(c, why);
}
