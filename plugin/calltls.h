/* pinhole-call over TLS: the certificate directory sofia-sip's TLS
 * transport reads (TPTAG_CERTIFICATE; Debian's sofia-sip 1.12.11 takes a
 * directory with fixed names). A client needs no certificate of its own,
 * only the CA to check the registrar's with: cafile.pem there. */
#ifndef PINHOLE_CALLTLS_H
#define PINHOLE_CALLTLS_H

#include <stddef.h>

#define CALLTLS_DIR_LEN 64

/* A new private directory in dir; with ca (a PEM file), cafile.pem in it
 * names that file. */
int calltls_dir_make(const char *ca, char *dir, size_t size);
/* Removes it once sofia has read it (nua_create() has returned). */
void calltls_dir_remove(const char *dir);

#endif
