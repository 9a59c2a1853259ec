/* The Firewall-Window header value (PROTOCOL.md section 2) and the SDP
 * attributes a=fw-window, a=fw-local and a=fw-punch, plus the
 * Firewall-Punch header (section 4).
 *
 * Pure codecs: no allocation, no I/O, no globals. Decoders take a buffer
 * that need not be NUL-terminated and, on failure, point *why at a static
 * phrase naming the part that was wrong (for a SIP reason phrase). */
#ifndef PINHOLE_FWWIN_H
#define PINHOLE_FWWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pinhole/addr.h"

enum ph_mapping {
	PH_MAP_UNKNOWN = 0,
	PH_MAP_NONE,
	PH_MAP_EIM,
	PH_MAP_ADM,
	PH_MAP_APDM,
};

enum ph_filtering {
	PH_FILT_UNKNOWN = 0,
	PH_FILT_NONE,
	PH_FILT_EIF,
	PH_FILT_ADF,
	PH_FILT_APDF,
};

#define PH_FW_MAX_HOPS 99
#define PH_FW_MAX_LIFETIME 99999
#define PH_FW_DEFAULT_LIFETIME 30

/* Firewall-Window: host ;local= ;mapping= ;filtering= ;hops= ;lifetime= */
struct ph_fwwin {
	struct ph_addr host;      /* port 0 */
	struct ph_addr local;     /* port 0; unset when absent */
	struct ph_addr received;  /* set by the registrar; encoded if set */
	enum ph_mapping mapping;  /* UNKNOWN when absent */
	enum ph_filtering filtering;
	unsigned hops;            /* 0 when absent */
	unsigned lifetime;        /* 0 when absent */
};

/* Longest value ph_fwwin_encode() writes, with its NUL. */
#define PH_FWWIN_STRLEN 256

PH_API int ph_fwwin_decode(struct ph_fwwin *out, const char *buf, size_t len,
			   const char **why);
PH_API int ph_fwwin_encode(const struct ph_fwwin *w, char *buf, size_t size);

PH_API const char *ph_mapping_name(enum ph_mapping m);
PH_API const char *ph_filtering_name(enum ph_filtering f);

/* a=fw-window:IP PORT and a=fw-local:IP PORT (the attribute value only,
 * after the colon). */
PH_API int ph_sdp_addr_decode(struct ph_addr *out, const char *buf,
			      size_t len, const char **why);
PH_API int ph_sdp_addr_encode(const struct ph_addr *a, char *buf,
			      size_t size);

enum ph_role {
	PH_ROLE_NONE = 0,
	PH_ROLE_OPEN,
	PH_ROLE_TRANSMIT,
	PH_ROLE_RELAY,
	PH_ROLE_LOCAL,
};

/* Firewall-Punch: role;peer=IP:PORT[;relay=IP:PORT] and its SDP mirror
 * a=fw-punch:role IP PORT [relay=IP:PORT]. */
struct ph_punch {
	enum ph_role role;
	struct ph_addr peer;
	struct ph_addr relay;  /* unset when absent */
};

#define PH_PUNCH_STRLEN 160

PH_API int ph_punch_hdr_decode(struct ph_punch *out, const char *buf,
			       size_t len, const char **why);
PH_API int ph_punch_hdr_encode(const struct ph_punch *p, char *buf,
			       size_t size);
PH_API int ph_punch_sdp_decode(struct ph_punch *out, const char *buf,
			       size_t len, const char **why);
PH_API int ph_punch_sdp_encode(const struct ph_punch *p, char *buf,
			       size_t size);
PH_API const char *ph_role_name(enum ph_role r);

#endif
