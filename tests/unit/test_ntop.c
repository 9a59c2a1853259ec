/* ntop.c's inet_ntop() writes what glibc's does, and fails as it does,
 * for IPv4 addresses of every width and buffers of every size; IPv6 is
 * glibc's own. glibc's is reached past ours (dlsym RTLD_NEXT), as in
 * pinholed. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static const char *(*glibc_ntop)(int, const void *, char *, socklen_t);

static void setup(void)
{
	*(void **)&glibc_ntop = dlsym(RTLD_NEXT, "inet_ntop");
	cr_assert(glibc_ntop);
	cr_assert_neq((void *)glibc_ntop, (void *)inet_ntop);
}

TestSuite(ntop, .init = setup);

Test(ntop, ipv4_as_glibc)
{
	static const unsigned char octets[] = {0, 1, 9, 10, 42, 99, 100, 199,
					       200, 255};
	unsigned n = sizeof octets;

	for (unsigned k = 0; k < n * n * n * n; k++) {
		unsigned char a[4] = {octets[k % n], octets[k / n % n],
				      octets[k / n / n % n],
				      octets[k / n / n / n]};

		for (socklen_t size = 0; size <= INET_ADDRSTRLEN + 1; size++) {
			char mine[32], theirs[32];
			const char *m, *t;
			int em, et;

			memset(mine, 'x', sizeof mine);
			memset(theirs, 'x', sizeof theirs);
			errno = 0;
			m = inet_ntop(AF_INET, a, mine, size);
			em = errno;
			errno = 0;
			t = glibc_ntop(AF_INET, a, theirs, size);
			et = errno;
			cr_assert_eq(!m, !t, "%u.%u.%u.%u in %u", a[0], a[1],
				     a[2], a[3], (unsigned)size);
			cr_assert(m ? m == mine : em == et);
			cr_assert_arr_eq(mine, theirs, sizeof mine);
		}
	}
}

Test(ntop, others_are_glibcs)
{
	struct in6_addr a6;
	char s[INET6_ADDRSTRLEN];

	cr_assert_eq(inet_pton(AF_INET6, "2001:db8::ffff:1.2.3.4", &a6), 1);
	cr_assert_str_eq(inet_ntop(AF_INET6, &a6, s, sizeof s),
			 "2001:db8::ffff:102:304");
	errno = 0;
	cr_assert_null(inet_ntop(12345, &a6, s, sizeof s));
	cr_assert_eq(errno, EAFNOSUPPORT);
}
