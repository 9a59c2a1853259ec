/* plugin/digest.c: the phones' digest answers, against RFC 7616's
 * examples (section 3.9.1) and a SIP REGISTER computed by hand. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "../../plugin/digest.h"

/* RFC 7616 section 3.9.1 */
static const struct digest_cred rfc = {
	.user = "Mufasa", .pass = "Circle of Life", .method = "GET",
	.uri = "/dir/index.html", .nc = 1,
	.cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
};
#define RFC_REALM "http-auth@example.org"
#define RFC_NONCE "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"

Test(digest, rfc7616_md5)
{
	char hex[DIGEST_HEX_MAX + 1];

	cr_assert_eq(digest_response(hex, sizeof hex, DIGEST_MD5, RFC_REALM,
				     RFC_NONCE, 1, &rfc), 0);
	cr_assert_str_eq(hex, "8ca523f5e9506fed4657c9700eebdbec");
}

Test(digest, rfc7616_sha256)
{
	char hex[DIGEST_HEX_MAX + 1];

	cr_assert_eq(digest_response(hex, sizeof hex, DIGEST_SHA256, RFC_REALM,
				     RFC_NONCE, 1, &rfc), 0);
	cr_assert_str_eq(hex, "753927fa0e85d155564e2e272a28d18"
			      "02ca10daf4496794697cf8db5856cb6c1");
}

/* Without qop (RFC 2069's form): RFC 2617 section 3.5's values, the
 * response MD5(H(A1) ":" nonce ":" H(A2)) computed with Python's hashlib. */
Test(digest, no_qop)
{
	struct digest_cred c = {.user = "Mufasa", .pass = "Circle Of Life",
				.method = "GET", .uri = "/dir/index.html"};
	char hex[DIGEST_HEX_MAX + 1];

	cr_assert_eq(digest_response(hex, sizeof hex, DIGEST_MD5,
				     "testrealm@host.com",
				     "dcd98b7102dd2f0e8b11d0f600bfb0c093", 0,
				     &c), 0);
	cr_assert_str_eq(hex, "670fd8c2df070c60b045671b8b24ff02");
}

Test(digest, credentials)
{
	struct digest_chall ch = {.alg = DIGEST_SHA256, .realm = RFC_REALM,
				  .nonce = RFC_NONCE, .qop_auth = 1,
				  .opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"};
	char buf[512];

	cr_assert_eq(digest_credentials(buf, sizeof buf, &ch, &rfc), 0);
	cr_assert_str_eq(buf, "Digest username=\"Mufasa\", "
		"realm=\"http-auth@example.org\", nonce=\"" RFC_NONCE "\", "
		"uri=\"/dir/index.html\", response=\"753927fa0e85d155564e2e27"
		"2a28d1802ca10daf4496794697cf8db5856cb6c1\", algorithm=SHA-256, "
		"cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
		"qop=auth, nc=00000001, "
		"opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"");
	/* too small: an error, never a cut header */
	cr_assert_eq(digest_credentials(buf, 100, &ch, &rfc), ENOSPC);
}

Test(digest, algorithms)
{
	enum digest_alg a;
	struct digest_cred c = rfc;
	char hex[DIGEST_HEX_MAX + 1];

	cr_assert_eq(digest_alg_parse(NULL, &a), 0);
	cr_assert_eq(a, DIGEST_MD5);
	cr_assert_eq(digest_alg_parse("sha-256", &a), 0);
	cr_assert_eq(a, DIGEST_SHA256);
	cr_assert_eq(digest_alg_parse("SHA-512-256", &a), ENOTSUP);
	cr_assert_eq(digest_alg_parse("MD5-sess", &a), ENOTSUP);
	cr_assert(digest_qop_auth("\"auth\"", 6));
	cr_assert(digest_qop_auth("auth-int, auth", 14));
	cr_assert(digest_qop_auth("auth,auth-int", 13));
	cr_assert(!digest_qop_auth("\"auth-int\"", 10));
	cr_assert(!digest_qop_auth("xauth", 5));
	/* qop=auth needs a cnonce and a count */
	c.cnonce = NULL;
	cr_assert_eq(digest_response(hex, sizeof hex, DIGEST_MD5, "r", "n", 1,
				     &c), EINVAL);
	cr_assert_eq(digest_response(hex, 10, DIGEST_SHA256, RFC_REALM,
				     RFC_NONCE, 1, &rfc), ENOSPC);
}
