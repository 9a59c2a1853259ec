/* The certificate directory sofia-sip's TLS transport reads. Debian's
 * sofia-sip (1.12.11) takes one directory (TPTAG_CERTIFICATE) with fixed
 * names: agent.pem, the private key and the certificate in one file, and
 * cafile.pem, the certificates it trusts. pinholed's keys name ordinary
 * PEM files (tls_certificate, tls_key, tls_ca): they are checked here with
 * OpenSSL, so that a bad one stops pinholed with a clear message (sofia
 * would only log it at debug level and serve TLS without a certificate),
 * and written into a private directory (0700, files 0600) that is removed
 * once sofia has read it. */
#ifndef PINHOLED_TLSDIR_H
#define PINHOLED_TLSDIR_H

#include <stddef.h>

#include "conf.h"

#define TLSDIR_LEN 64

/* Checks c's TLS files and writes them into a new directory, its path in
 * dir. EINVAL (logged) when a file is missing, unreadable or wrong. */
int tlsdir_make(const struct pconf *c, char *dir, size_t size);
/* Removes what tlsdir_make() wrote; an empty dir is ignored. */
void tlsdir_remove(const char *dir);

#endif
