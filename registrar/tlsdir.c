/* pinholed's TLS files made into the directory sofia-sip reads
 * (tlsdir.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "log.h"
#include "tlsdir.h"

/* An encrypted key would make OpenSSL ask on the terminal: refuse it. */
static int no_passphrase(char *buf, int size, int rw, void *u)
{
	return 0;
}

static const char *ssl_why(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	return r ? r : "no PEM data";
}

static BIO *open_pem(const char *key, const char *path)
{
	BIO *b;

	errno = 0;
	if (!(b = BIO_new_file(path, "r")))
		log_err("tls: %s = %s: cannot read it: %s", key, path,
			errno ? strerror(errno) : ssl_why());
	return b;
}

/* Every certificate of a PEM file, in order; at least one. */
static STACK_OF(X509) *read_certs(const char *key, const char *path)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *b = open_pem(key, path);
	bool opened = b != NULL;
	X509 *x;

	while (b && sk && (x = PEM_read_bio_X509(b, NULL, no_passphrase, NULL)))
		if (!sk_X509_push(sk, x))
			X509_free(x);
	ERR_clear_error(); /* the end of the file */
	BIO_free(b);
	if (sk && !sk_X509_num(sk)) {
		if (opened)
			log_err("tls: %s = %s: no PEM certificate in it", key, path);
		sk_X509_free(sk);
		sk = NULL;
	}
	return sk;
}

static EVP_PKEY *read_key(const char *path)
{
	BIO *b = open_pem("tls_key", path);
	EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL)
			: NULL;

	if (b && !k)
		log_err("tls: tls_key = %s: no unencrypted PEM private key in it "
			"(%s)", path, ssl_why());
	BIO_free(b);
	return k;
}

/* A new file in dir, readable by us only. */
static BIO *create(const char *dir, const char *name)
{
	char path[TLSDIR_LEN + 16];
	int fd;
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		log_err("tls: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return BIO_new_fp(f, BIO_CLOSE);
}

static int write_certs(BIO *b, STACK_OF(X509) *sk, int from)
{
	for (int i = from; i < sk_X509_num(sk); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(sk, i)))
			return EIO;
	return 0;
}

/* agent.pem: key and certificate (sofia reads both from it). cafile.pem:
 * tls_ca, and the intermediate certificates of tls_certificate, from
 * which OpenSSL builds the chain it sends (sofia loads one certificate
 * from agent.pem, no chain). */
static int write_dir(const char *dir, EVP_PKEY *key, STACK_OF(X509) *own,
		     STACK_OF(X509) *ca)
{
	BIO *b = create(dir, "agent.pem");
	int err = b ? 0 : EIO;

	if (!err && (!PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL,
					       NULL) ||
		     !PEM_write_bio_X509(b, sk_X509_value(own, 0))))
		err = EIO;
	if (BIO_free(b) != 1 && !err)
		err = EIO;
	if (err || (!ca && sk_X509_num(own) < 2))
		return err;
	b = create(dir, "cafile.pem");
	err = b ? 0 : EIO;
	if (!err && ca)
		err = write_certs(b, ca, 0);
	if (!err)
		err = write_certs(b, own, 1);
	if (BIO_free(b) != 1 && !err)
		err = EIO;
	return err;
}

static void check_dates(const char *path, X509 *x)
{
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
		log_warn("tls: tls_certificate = %s: it has expired", path);
	else if (X509_cmp_current_time(X509_get0_notBefore(x)) > 0)
		log_warn("tls: tls_certificate = %s: it is not valid yet", path);
}

int tlsdir_make(const struct pconf *c, char *dir, size_t size)
{
	const char *tmp = getenv("TMPDIR");
	STACK_OF(X509) *own = read_certs("tls_certificate", c->tls_certificate);
	STACK_OF(X509) *ca = NULL;
	EVP_PKEY *key = own ? read_key(c->tls_key) : NULL;
	int err = EINVAL;

	*dir = '\0';
	if (!key || (*c->tls_ca && !(ca = read_certs("tls_ca", c->tls_ca))))
		goto out;
	if (X509_check_private_key(sk_X509_value(own, 0), key) != 1) {
		log_err("tls: tls_key = %s does not belong to tls_certificate = %s",
			c->tls_key, c->tls_certificate);
		ERR_clear_error();
		goto out;
	}
	check_dates(c->tls_certificate, sk_X509_value(own, 0));
	if (snprintf(dir, size, "%s/pinholed-tls.XXXXXX",
		     tmp && *tmp && strlen(tmp) < size - 24 ? tmp : "/tmp") >=
	    (int)size || !mkdtemp(dir)) {
		log_err("tls: cannot make a private directory: %s", strerror(errno));
		*dir = '\0';
		goto out;
	}
	if ((err = write_dir(dir, key, own, ca)))
		tlsdir_remove(dir);
 out:
	EVP_PKEY_free(key);
	sk_X509_pop_free(own, X509_free);
	sk_X509_pop_free(ca, X509_free);
	return err ? EINVAL : 0;
}

void tlsdir_remove(const char *dir)
{
	const char *names[] = {"agent.pem", "cafile.pem"};
	char path[TLSDIR_LEN + 16];

	if (!dir || !*dir)
		return;
	for (unsigned i = 0; i < sizeof names / sizeof *names; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}
