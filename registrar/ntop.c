/* inet_ntop() for IPv4 written by hand. glibc's writes the four numbers
 * with sprintf(), 1.7k instructions, and sofia-sip calls it twice for
 * each message it receives (tport_deliver() names the source, and nta's
 * Via check through tport_hostport()): 3.4k of a REGISTER's 51k
 * (callgrind, store = file). As sofiafix.c does, pinholed's executable
 * defines it again, and sofia-sip's calls reach it through the PLT
 * (objdump: 35 calls to inet_ntop@plt in Debian 12's
 * libsofia-sip-ua.so.0): the same text and the same error (ENOSPC) for
 * IPv4, every other family handed on to glibc's (dlsym RTLD_NEXT). */
#include "config.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>

static const char *(*glibc_ntop)(int, const void *, char *, socklen_t);

static void find_glibc_ntop(void)
{
	*(void **)&glibc_ntop = dlsym(RTLD_NEXT, "inet_ntop");
}

const char *inet_ntop(int af, const void *restrict src, char *restrict dst,
		      socklen_t size)
{
	/* found once, whichever thread asks first (the store's writer, the
	 * relay's threads and Redis's print addresses too) */
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const unsigned char *b = src;
	char text[INET_ADDRSTRLEN], *p = text;

	if (af != AF_INET) {
		pthread_once(&once, find_glibc_ntop);
		if (!glibc_ntop) {
			errno = EAFNOSUPPORT;
			return NULL;
		}
		return glibc_ntop(af, src, dst, size);
	}
	for (int i = 0; i < 4; i++) { /* "%u.%u.%u.%u" */
		if (b[i] >= 100)
			*p++ = (char)('0' + b[i] / 100);
		if (b[i] >= 10)
			*p++ = (char)('0' + b[i] / 10 % 10);
		*p++ = (char)('0' + b[i] % 10);
		*p++ = i < 3 ? '.' : '\0';
	}
	if ((socklen_t)(p - text) > size) { /* as glibc: ENOSPC, dst untouched */
		errno = ENOSPC;
		return NULL;
	}
	return memcpy(dst, text, (size_t)(p - text));
}
