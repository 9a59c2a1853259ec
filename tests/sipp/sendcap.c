/* sendcap: an LD_PRELOAD library that records every byte a process sends on
 * its IPv4 and IPv6 sockets, for tests/sipp/sipcheck.
 *
 *   LD_PRELOAD=tests/sipp/.libs/sendcap.so SENDCAP_FILE=FILE pinholed ...
 *
 * sofia-sip's own dump (TPORT_DUMP) cannot be used: sofia-sip 1.12.11 writes
 * only the first iovec of each send, so the empty line and body of most
 * forwarded messages never reach it. This sits below sofia-sip instead, at
 * the calls it sends with: sendmsg() (UDP with msg_name, TCP without) and
 * sendto() (its start-up MSG_TRUNC probe); send() too, which costs nothing.
 * strace of pinholed in the SIPp tests shows no write() or writev() on a
 * socket. sendmmsg() is left alone on purpose: pinholed's relay threads
 * send media with it, which is not SIP and would only swell the file.
 *
 * A record is what sofia-sip's dump writes, with all the bytes sent (the
 * call's return value, not what was asked):
 *   sent N bytes to udp/[127.0.0.1]:5060 at HH:MM:SS.UUUUUU:\n
 *   the N bytes
 *   \v\n
 * The transport is tcp for a SOCK_STREAM socket, udp for SOCK_DGRAM; the
 * peer is the call's address or else the socket's peer (getpeername).
 * Sockets of other families or types are not recorded.
 *
 * The file is opened once, O_APPEND, when the library is loaded; records
 * are written with write(2) under one mutex, so threads never interleave,
 * and nothing here uses stdio or allocates. */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define HDR_SIZE 160
#define MAX_WRITES 1000	/* partial writes of one piece before giving up */

typedef ssize_t sendmsg_fn(int, const struct msghdr *, int);
typedef ssize_t sendto_fn(int, const void *, size_t, int,
			  const struct sockaddr *, socklen_t);
typedef ssize_t send_fn(int, const void *, size_t, int);

static int cap_fd = -1;
static pthread_mutex_t cap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Opened before main() so that the file exists as soon as the library is
 * loaded: a test can tell "sent nothing" from "not captured at all". */
__attribute__((constructor)) static void sendcap_open(void)
{
	const char *name = getenv("SENDCAP_FILE");

	if (name && *name)
		cap_fd = open(name, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

/* the next definition of name after this library's (libc's, or that of a
 * sanitizer runtime that intercepts it too); looked up on first use, as a
 * send may come before this library's constructor has run */
static void *real(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

static void put(char *buf, size_t *pos, const char *s)
{
	while (*s && *pos + 1 < HDR_SIZE)
		buf[(*pos)++] = *s++;
	buf[*pos] = '\0';
}

/* v in decimal, at least width digits */
static void put_num(char *buf, size_t *pos, unsigned long v, int width)
{
	char d[24];
	int n = 0;

	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v && n < (int)sizeof d - 1);
	while (n < width && n < (int)sizeof d - 1)
		d[n++] = '0';
	while (n > 0 && *pos + 1 < HDR_SIZE)
		buf[(*pos)++] = d[--n];
	buf[*pos] = '\0';
}

/* "udp/[ADDR]:PORT" into buf at *pos; -1 for a socket not recorded */
static int put_peer(char *buf, size_t *pos, int fd,
		    const struct sockaddr *to, socklen_t to_len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int type = 0;
	socklen_t tl = sizeof type;
	char ip[INET6_ADDRSTRLEN];
	const void *a;
	unsigned port;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) ||
	    (type != SOCK_STREAM && type != SOCK_DGRAM))
		return -1;
	if (!to || !to_len) {
		if (getpeername(fd, (struct sockaddr *)&ss, &sl))
			return -1;
		to = (const struct sockaddr *)&ss;
	}
	if (to->sa_family == AF_INET) {
		a = &((const struct sockaddr_in *)to)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)to)->sin_port);
	} else if (to->sa_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)to)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)to)->sin6_port);
	} else {
		return -1;
	}
	if (!inet_ntop(to->sa_family, a, ip, sizeof ip))
		return -1;
	put(buf, pos, type == SOCK_STREAM ? "tcp/[" : "udp/[");
	put(buf, pos, ip);
	put(buf, pos, "]:");
	put_num(buf, pos, port, 1);
	return 0;
}

/* the record's first line; the time of day is UTC, as only its order and
 * a reader's eye need it */
static int header(char *buf, int fd, size_t n, const struct sockaddr *to,
		  socklen_t to_len)
{
	struct timespec ts;
	unsigned long day_s;
	size_t pos = 0;

	buf[0] = '\0';
	put(buf, &pos, "sent ");
	put_num(buf, &pos, n, 1);
	put(buf, &pos, " bytes to ");
	if (put_peer(buf, &pos, fd, to, to_len))
		return -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	day_s = (unsigned long)ts.tv_sec % 86400;
	put(buf, &pos, " at ");
	put_num(buf, &pos, day_s / 3600, 2);
	put(buf, &pos, ":");
	put_num(buf, &pos, day_s / 60 % 60, 2);
	put(buf, &pos, ":");
	put_num(buf, &pos, day_s % 60, 2);
	put(buf, &pos, ".");
	put_num(buf, &pos, (unsigned long)ts.tv_nsec / 1000, 6);
	put(buf, &pos, ":\n");
	return (int)pos;
}

/* all of p, or as much as the file takes; write(2) may write less */
static void write_all(const char *p, size_t len)
{
	for (int i = 0; len && i < MAX_WRITES; i++) {
		ssize_t w = write(cap_fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		len -= (size_t)w;
	}
}

/* One record of the n bytes that iov (iovcnt pieces) starts with. errno is
 * the send's when this returns: its caller may yet read it. */
static void record(int fd, const struct iovec *iov, size_t iovcnt, size_t n,
		   const struct sockaddr *to, socklen_t to_len)
{
	int saved = errno, hl;
	char hdr[HDR_SIZE];

	if (cap_fd < 0)
		return;
	hl = header(hdr, fd, n, to, to_len);
	if (hl > 0) {
		pthread_mutex_lock(&cap_lock);
		write_all(hdr, (size_t)hl);
		for (size_t i = 0; i < iovcnt && n; i++) {
			size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;

			write_all(iov[i].iov_base, k);
			n -= k;
		}
		write_all("\v\n", 2);
		pthread_mutex_unlock(&cap_lock);
	}
	errno = saved;
}

ssize_t sendmsg(int fd, const struct msghdr *mh, int flags)
{
	static void *slot;
	sendmsg_fn *f = (sendmsg_fn *)real(&slot, "sendmsg");
	ssize_t r;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	r = f(fd, mh, flags);
	if (r >= 0)
		record(fd, mh->msg_iov, mh->msg_iovlen, (size_t)r,
		       mh->msg_name, mh->msg_namelen);
	return r;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *to, socklen_t to_len)
{
	static void *slot;
	sendto_fn *f = (sendto_fn *)real(&slot, "sendto");
	struct iovec iov = {(void *)buf, len};
	ssize_t r;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	r = f(fd, buf, len, flags, to, to_len);
	if (r >= 0)
		record(fd, &iov, 1, (size_t)r, to, to_len);
	return r;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
	static void *slot;
	send_fn *f = (send_fn *)real(&slot, "send");
	struct iovec iov = {(void *)buf, len};
	ssize_t r;

	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	r = f(fd, buf, len, flags);
	if (r >= 0)
		record(fd, &iov, 1, (size_t)r, NULL, 0);
	return r;
}
