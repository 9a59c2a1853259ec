/* errno -> SIP status and reason phrase. */
#include "config.h"

#include <errno.h>
#include <stddef.h>

#include "errmap.h"

static const struct {
	int err;
	struct sipstatus s;
} table[] = {
	{0, {200, "OK"}},
	{ENOMEM, {500, "Out of Memory"}},
	{EIO, {500, "Store Failure"}},
	{ENOSPC, {503, "Location Store Full"}},
	{EDQUOT, {503, "Service Unavailable: too many bindings from this address"}},
	{ENOTCONN, {480, "Temporarily Unavailable: connection closed"}},
	{EPROTONOSUPPORT, {480, "Temporarily Unavailable: no binding over TLS "
			       "for a sips: URI"}},
	{EHOSTUNREACH, {503, "Service Unavailable: no binding reachable"}},
	{EALREADY, {482, "Loop Detected: a call with this Call-ID is being set up"}},
	{EBADMSG, {500, "Server Internal Error: the SDP cannot be rewritten"}},
	{E2BIG, {500, "Server Internal Error: too many branches"}},
	/* the relay (a call's reservation): why a call has no relay ports */
	{EBUSY, {503, "Service Unavailable: relay ports exhausted"}},
	{EUSERS, {503, "Service Unavailable: this caller holds its share of "
		       "relay ports"}},
	{EAFNOSUPPORT, {503, "Service Unavailable: no direct media path, and "
			     "no relay for this address family"}},
	{ETIMEDOUT, {503, "Service Unavailable: no direct media path, and no "
			  "media relay answers"}},
	{ENOTSUP, {503, "Service Unavailable: no direct media path and the "
			"relay is off"}},
	{EMFILE, {503, "Service Unavailable: out of file descriptors"}},
	{ENFILE, {503, "Service Unavailable: out of file descriptors"}},
	{EPROTO, {500, "Server Internal Error: cannot forward"}},
};

struct sipstatus errmap(int err)
{
	for (size_t i = 0; i < sizeof table / sizeof *table; i++)
		if (table[i].err == err)
			return table[i].s;
	return (struct sipstatus){500, "Server Internal Error"};
}
