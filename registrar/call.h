/* One call: what pinholed knows of both sides, the route it decides for
 * each branch (PROTOCOL.md section 5), the edits it makes to each message
 * (Firewall-Punch and a=fw-punch, or the SDP moved to the relay: sections
 * 3, 4 and 9), the relay streams it holds (section 6), and its reports.
 * Nothing here knows SIP transactions: the proxy forks and forwards, and
 * tells the call what it saw; the call tells it what to change.
 *
 * Calls are kept by Call-ID from the INVITE until a BYE, a failed INVITE
 * or the relay freeing their streams as idle. A call with no relay
 * streams is forgotten as soon as its INVITE transaction lets go of it. */
#ifndef PINHOLED_CALL_H
#define PINHOLED_CALL_H

#include <stdbool.h>
#include <stddef.h>

#include <pinhole/fwwin.h>

#include "flow.h"
#include "location.h"
#include "relayctl.h"
#include "route.h"
#include "sdpfw.h"
#include "stund.h"

#define CALL_MAX_BRANCHES 10

/* An SDP body and what sdpfw_read() read of it. */
struct call_sdp {
	const char *body;
	size_t len;
	struct sdpfw fw;
};

/* What the proxy changes in the message it forwards: a Firewall-Punch
 * header (punch[0] != 0) and the SDP body (body != NULL, malloc'd). */
struct call_edit {
	char punch[PH_PUNCH_STRLEN];
	char *body;
};

void call_edit_reset(struct call_edit *e);

struct calls;
struct call;

/* relay: NULL when off. */
int calls_alloc(struct calls **cp, struct relayctl *relay, struct stund *stund,
		struct loc_store *store);
void calls_free(struct calls *cs);
/* Relay streams one source IP and one caller AoR may hold at once
 * (relay_streams_per_source, relay_streams_per_user); 0: no limit. */
void calls_set_limits(struct calls *cs, unsigned per_source,
		      unsigned per_user);
/* At start, with the store = file: the relayed calls in progress when
 * the pinholed before stopped (killed or not) get their relay ports back
 * and their media flows again; from now on answered relayed calls are
 * kept in the store (PROTOCOL.md section 6). idle_s: relay_idle. Does
 * nothing with another store; a call whose ports cannot be bound again
 * is logged and dropped. */
void calls_restore(struct calls *cs, unsigned idle_s);
/* Once a second: forget calls whose streams the relay freed as idle. */
void calls_tick(struct calls *cs);
unsigned calls_count(const struct calls *cs);

/* err: 0 with relay streams, or why there are none (relayctl.h). */
typedef void (call_ready_h)(int err, void *arg);

/* An initial INVITE from `caller` (its flow; a Firewall-Window value on
 * the INVITE, or NULL, and then the one it registered over this flow
 * under from_aor counts; nat_seen: its Via shows a NAT) with its offer
 * (NULL: none). Relay streams are reserved for the offer; `ready` runs
 * once with the outcome, maybe before this returns. *cp is a reference
 * for the INVITE's transaction. */
int call_offer(struct calls *cs, const char *call_id, const char *from_aor,
	       const struct flow *caller, const char *fwwin, bool nat_seen,
	       const struct call_sdp *offer, call_ready_h *ready, void *arg,
	       struct call **cp);
void call_unref(struct call *c);

/* Edge mode (PROTOCOL.md section 11), before the first branch: the PBX's
 * side is an outside transmitter. to_pbx: the call goes to the PBX (its
 * caller is the INVITE's sender, a phone). Else the INVITE came from the
 * PBX, and its caller is the phone whose call to the PBX has the Call-ID
 * leg1_id when there is one (the PBX passed its SDP through: the route is
 * decided between the two phones), or else the PBX itself. */
void call_edge(struct call *c, bool to_pbx, const char *leg1_id);
/* The key a call from the PBX is kept under: its Call-ID is also that of
 * the phone's call it passes on, kept under the Call-ID itself. */
#define CALL_ID_IN_MAX 512
int call_in_key(const char *call_id, char *buf, size_t size);

/* A branch to one binding (registered over `flow` with Firewall-Window
 * `fwwin` or NULL; its requests go to `hop`): the route decided on what it
 * registered, and the edits of the INVITE (its offer again) for it. 0
 * with *bp its index; else the relay's error when the route needs the
 * relay and there is none (the branch is not to be sent), E2BIG with too
 * many branches, EBADMSG when the offer cannot be rewritten. */
int call_branch(struct call *c, const struct flow *flow,
		const struct ph_addr *hop, const char *fwwin,
		const struct call_sdp *offer, struct call_edit *e, unsigned *bp);
/* A 2xx on branch b (fwwin: a Firewall-Window on it, or NULL) with its
 * answer (NULL: none that reads): the caller's edits, and the report. */
void call_answer(struct call *c, unsigned b, int status, const char *fwwin,
		 const struct call_sdp *ans, struct call_edit *e);
/* The INVITE's final answer when no branch answered 2xx: the report
 * (b: the branch whose answer it is, or -1) and the end of its media. */
void call_failed(struct call *c, int b, int status);

/* In a dialog, an offer or an answer from leg `leg` (0: the caller, 1:
 * the callee) at `src`: on a relayed call its media stays on the relay,
 * latched anew if it moved, and the SDP going to the other leg names that
 * leg's relay port. No edits for a call that is not relayed; EBADMSG when
 * the SDP cannot be rewritten. */
int call_resdp(struct calls *cs, const char *call_id, unsigned leg,
	       const struct ph_addr *src, const struct call_sdp *sdp,
	       struct call_edit *e);
/* A BYE: the media's report, the streams freed. */
void call_bye(struct calls *cs, const char *call_id);

/* The report line of branch b (-1: none) with a final status, as logged;
 * for tests and the log alike. */
void call_report(const struct call *c, int b, int status, char *buf,
		 size_t size);

#endif
