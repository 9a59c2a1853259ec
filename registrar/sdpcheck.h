/* The SDP grammar of RFC 4566 section 9, checked before sofia-sip's SDP
 * parser sees a body. The parser in Debian's sofia-sip (1.12.11, 2011)
 * loops for ever, allocating, on an m= format that is not a token
 * ("m=audio 5m <"), reads past the end of a one-character line, and
 * dereferences NULL after some failed t=, e= or b= lines; it was fixed
 * upstream long after that release. pinholed hands it only bodies this
 * check passes, and answers the rest 400 with the reason it gives. */
#ifndef PINHOLED_SDPCHECK_H
#define PINHOLED_SDPCHECK_H

#include <stddef.h>

/* Larger SDP is refused: a phone's offer is well under 4 KiB. */
#define SDPCHECK_MAX 16384

/* 0, or EBADMSG with *why naming the first fault (a static string). Pure:
 * no allocation, no I/O. */
int sdpcheck(const char *body, size_t len, const char **why);

#endif
