/* One table for the SIP answer to an error of pinholed's own parts: each
 * errno that reaches a reply means one thing here, with one status and
 * reason phrase, so the registrar and the proxy answer it alike. */
#ifndef PINHOLED_ERRMAP_H
#define PINHOLED_ERRMAP_H

struct sipstatus {
	int status;
	const char *phrase;
};

/* The answer for err (0 or a positive errno); 500 for one not listed. */
struct sipstatus errmap(int err);

#endif
