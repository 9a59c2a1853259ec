/* libpinhole: export macro and shared conventions.
 *
 * Every fallible function returns 0 or a positive errno value (EINVAL,
 * ENOMEM, EBADMSG, EPROTO, ENOSPC; ENODATA for "need more bytes") and
 * writes its outputs only on success. */
#ifndef PINHOLE_API_H
#define PINHOLE_API_H

#if defined(__GNUC__)
#define PH_API __attribute__((visibility("default")))
#else
#define PH_API
#endif

#endif
