/* endpoint: a lab test endpoint on libpinhole, told its role by hand.
 *
 *   endpoint --server IP[:PORT] --role open|transmit --dir DIR --name N
 *            --peer P [--hops K] [--count C] [--timeout S]
 *
 * Learns its window by STUN, publishes it as DIR/N.window, reads the peer's
 * from DIR/P.window, then plays its part (PROTOCOL.md section 4): the opener
 * sends the hop-limited null packet and publishes DIR/N.opened; the
 * transmitter waits for that and sends; the opener sends once it has
 * latched. Each sends C datagrams 10 ms apart. Prints one JSON line and
 * exits 0 when C datagrams arrived. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pinhole.h>

struct opts {
	struct ph_addr server;
	enum ph_role role;
	const char *dir, *name, *peer;
	unsigned hops, count, timeout_s;
};

static int fd = -1;
static uint64_t end_ms;

static void die(const char *what)
{
	fprintf(stderr, "endpoint: %s\n", what);
	exit(2);
}

static void path_of(char *buf, size_t size, const struct opts *o,
		    const char *name, const char *what)
{
	snprintf(buf, size, "%s/%s.%s", o->dir, name, what);
}

static void publish(const struct opts *o, const char *what, const char *text)
{
	char path[512], tmp[520];
	FILE *f;

	path_of(path, sizeof path, o, o->name, what);
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	if (!(f = fopen(tmp, "w")) || fputs(text, f) < 0 || fclose(f) ||
	    rename(tmp, path))
		die("cannot publish");
}

/* Wait (bounded) for the peer's file; returns its first line. */
static void await(const struct opts *o, const char *what, char *buf, size_t size)
{
	char path[512];

	path_of(path, sizeof path, o, o->peer, what);
	while (ph_now_ms() < end_ms) {
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(buf, (int)size, f))
				buf[0] = '\0';
			fclose(f);
			return;
		}
		usleep(10000);
	}
	die("timed out waiting for the peer");
}

static void discover(const struct opts *o, struct ph_addr *window)
{
	struct ph_stunc t;
	uint8_t buf[1500];
	struct ph_addr src;
	struct ph_stun_msg m;
	ssize_t n;

	if (ph_stunc_start(&t, &ph_stunc_rfc8489, &o->server, 0, 0, ph_sock_send,
			   &fd, ph_now_ms()))
		die("STUN");
	while (t.state == PH_STUNC_PENDING && ph_now_ms() < end_ms) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		poll(&p, 1, 20);
		while ((n = ph_sock_recv(fd, &src, buf, sizeof buf)) >= 0)
			if (!ph_stun_decode(&m, buf, (size_t)n))
				ph_stunc_recv(&t, &src, &m);
		ph_stunc_tick(&t, ph_sock_send, &fd, ph_now_ms());
	}
	if (t.state != PH_STUNC_DONE ||
	    !(t.resp.present & PH_STUN_HAS_XOR_MAPPED))
		die("no window: the STUN server did not answer");
	*window = t.resp.xor_mapped;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"server", 1, NULL, 's'}, {"role", 1, NULL, 'r'},
		{"dir", 1, NULL, 'd'}, {"name", 1, NULL, 'n'},
		{"peer", 1, NULL, 'p'}, {"hops", 1, NULL, 'k'},
		{"count", 1, NULL, 'c'}, {"timeout", 1, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*o = (struct opts){.hops = 2, .count = 100, .timeout_s = 10};
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': if (ph_addr_set(&o->server, optarg, 3478)) die("bad --server"); break;
		case 'r': o->role = !strcmp(optarg, "open") ? PH_ROLE_OPEN :
				    !strcmp(optarg, "transmit") ? PH_ROLE_TRANSMIT : PH_ROLE_NONE; break;
		case 'd': o->dir = optarg; break;
		case 'n': o->name = optarg; break;
		case 'p': o->peer = optarg; break;
		case 'k': o->hops = (unsigned)atoi(optarg); break;
		case 'c': o->count = (unsigned)atoi(optarg); break;
		case 't': o->timeout_s = (unsigned)atoi(optarg); break;
		default: die("usage: see the comment at the top of endpoint.c");
		}
	}
	if (!ph_addr_isset(&o->server) || o->role == PH_ROLE_NONE || !o->dir ||
	    !o->name || !o->peer || !o->count || o->count > 100000)
		die("missing or bad arguments");
}

/* Media until both counts are reached or time is up; the opener answers
 * only once it latched on the transmitter. The first packet's source. */
static void exchange(const struct opts *o, struct ph_path *path,
		     struct ph_addr *first_src)
{
	uint64_t next_tx = 0;

	while (ph_now_ms() < end_ms &&
	       (path->stats.sent < o->count || path->stats.received < o->count)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		uint8_t buf[1500];
		struct ph_addr src;
		ssize_t n;
		uint64_t now = ph_now_ms();

		if (path->stats.sent < o->count && now >= next_tx &&
		    (o->role == PH_ROLE_TRANSMIT || path->state == PH_PATH_LATCHED)) {
			memset(buf, 0x55, 160);
			ph_path_send(path, buf, 160, now);
			next_tx = now + 10;
		}
		poll(&p, 1, 5);
		while ((n = ph_sock_recv(fd, &src, buf, sizeof buf)) >= 0)
			if (ph_path_recv(path, &src, (size_t)n, ph_now_ms()) &&
			    path->stats.received == 1)
				*first_src = src;
	}
}

static void report(const struct opts *o, const struct ph_addr *window,
		   const struct ph_punch *punch, const struct ph_path *path,
		   const struct ph_addr *first_src)
{
	char w[PH_ADDR_STRLEN], pw[PH_ADDR_STRLEN], fs[PH_ADDR_STRLEN] = "-",
	     tg[PH_ADDR_STRLEN] = "-";

	ph_addr_print(window, w, sizeof w);
	ph_addr_print(&punch->peer, pw, sizeof pw);
	if (ph_addr_isset(first_src))
		ph_addr_print(first_src, fs, sizeof fs);
	if (ph_path_target(path))
		ph_addr_print(ph_path_target(path), tg, sizeof tg);
	printf("{\"name\":\"%s\",\"role\":\"%s\",\"window\":\"%s\",\"peer_window\":\"%s\","
	       "\"first_src\":\"%s\",\"target\":\"%s\",\"sent\":%lu,\"received\":%lu,"
	       "\"dropped\":%lu}\n", o->name, ph_role_name(o->role), w, pw, fs, tg,
	       path->stats.sent, path->stats.received, path->stats.dropped);
}

int main(int argc, char **argv)
{
	struct opts o;
	struct ph_addr any, window, first_src = {0};
	struct ph_punch punch = {0};
	struct ph_path path;
	char text[128];
	const char *why;

	parse_args(argc, argv, &o);
	end_ms = ph_now_ms() + o.timeout_s * 1000ULL;
	ph_addr_set(&any, "0.0.0.0", 0);
	if (ph_sock_open(&fd, &any))
		die("socket");
	discover(&o, &window);
	ph_sdp_addr_encode(&window, text, sizeof text);
	publish(&o, "window", text);
	await(&o, "window", text, sizeof text);
	text[strcspn(text, "\n")] = '\0';
	if (ph_sdp_addr_decode(&punch.peer, text, strlen(text), &why))
		die("bad peer window");
	punch.role = o.role;
	if (o.role == PH_ROLE_TRANSMIT)
		await(&o, "opened", text, sizeof text);
	ph_path_start(&path, &punch, o.hops, 30, ph_sock_send, &fd, ph_now_ms());
	if (o.role == PH_ROLE_OPEN)
		publish(&o, "opened", "1\n");
	exchange(&o, &path, &first_src);
	report(&o, &window, &punch, &path, &first_src);
	close(fd);
	return path.stats.received >= o.count ? 0 : 1;
}
