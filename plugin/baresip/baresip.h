/* What the pinhole module uses of baresip 1.0.0. Debian ships no
 * baresip.h, so these declarations follow the ABI of Debian 12's
 * /usr/bin/baresip, as checked in ABI.md beside this file;
 * configure builds the module only where baresip 1.0.x and libre are. */
#ifndef PINHOLE_BARESIP_H
#define PINHOLE_BARESIP_H

#include <re.h>

struct account;
struct call;
struct dnsc;
struct mnat;
struct mnat_media;
struct mnat_sess;
struct sdp_media;
struct sdp_session;
struct ua;

enum stun_scheme {
	STUN_SCHEME_STUN,
	STUN_SCHEME_STUNS,
	STUN_SCHEME_TURN,
	STUN_SCHEME_TURNS,
};

struct stun_uri {
	enum stun_scheme scheme;
	char *host;
	uint16_t port;
};

typedef void (mnat_estab_h)(int err, uint16_t scode, const char *reason,
			    void *arg);
typedef void (mnat_connected_h)(const struct sa *raddr1,
				const struct sa *raddr2, void *arg);
typedef int (mnat_sess_h)(struct mnat_sess **sessp, const struct mnat *mnat,
			  struct dnsc *dnsc, int af,
			  const struct stun_uri *srv, const char *user,
			  const char *pass, struct sdp_session *sdp,
			  bool offerer, mnat_estab_h *estabh, void *arg);
typedef int (mnat_media_h)(struct mnat_media **mp, struct mnat_sess *sess,
			   struct udp_sock *sock1, struct udp_sock *sock2,
			   struct sdp_media *sdpm, mnat_connected_h *connh,
			   void *arg);
typedef int (mnat_update_h)(struct mnat_sess *sess);

/* 1.0.0's layout: 80 bytes, no attrh (that came in 2.x). */
struct mnat {
	struct le le;
	const char *id;
	const char *ftag;
	bool wait_connected;
	mnat_sess_h *sessh;
	mnat_media_h *mediah;
	mnat_update_h *updateh;
};

void mnat_register(struct list *mnatl, struct mnat *mnat);
void mnat_unregister(struct mnat *mnat);
struct list *baresip_mnatl(void);

struct conf *conf_cur(void);
void info(const char *fmt, ...);
void warning(const char *fmt, ...);
void debug(const char *fmt, ...);

int call_set_custom_hdrs(struct call *call, const struct list *hdrs);
struct ua *call_get_ua(const struct call *call);
/* an outgoing call's Request-URI, as its INVITE's request line has it */
const char *call_peeruri(const struct call *call);
/* a re-INVITE with the call's SDP as it now stands */
int call_modify(struct call *call);
int custom_hdrs_add(struct list *hdrs, const char *name, const char *fmt, ...);

/* 1.0.0's numbering (include/baresip.h there); the module only listens
 * for CALL_ESTABLISHED, which follows a caller's final answer. */
enum ua_event {
	UA_EVENT_REGISTERING = 0,
	UA_EVENT_REGISTER_OK,
	UA_EVENT_REGISTER_FAIL,
	UA_EVENT_UNREGISTERING,
	UA_EVENT_MWI_NOTIFY,
	UA_EVENT_SHUTDOWN,
	UA_EVENT_EXIT,
	UA_EVENT_CALL_INCOMING,
	UA_EVENT_CALL_RINGING,
	UA_EVENT_CALL_PROGRESS,
	UA_EVENT_CALL_ESTABLISHED,
	UA_EVENT_CALL_CLOSED,
	UA_EVENT_CALL_TRANSFER,
	UA_EVENT_CALL_TRANSFER_FAILED,
	UA_EVENT_CALL_DTMF_START,
	UA_EVENT_CALL_DTMF_END,
	UA_EVENT_CALL_RTPESTAB,
	UA_EVENT_CALL_RTCP,
	UA_EVENT_CALL_MENC,
	UA_EVENT_VU_TX,
	UA_EVENT_VU_RX,
	UA_EVENT_AUDIO_ERROR,
	UA_EVENT_CALL_LOCAL_SDP,
	UA_EVENT_CALL_REMOTE_SDP,
	UA_EVENT_MAX,
};

typedef void (ua_event_h)(struct ua *ua, enum ua_event ev, struct call *call,
			  const char *prm, void *arg);
int uag_event_register(ua_event_h *eh, void *arg);
void uag_event_unregister(ua_event_h *eh);

struct list *uag_list(void);
struct sip *uag_sip(void);
struct account *ua_account(const struct ua *ua);
const char *ua_cuser(const struct ua *ua);
const char *ua_aor(const struct ua *ua);
struct uri *account_luri(const struct account *acc);
const char *account_medianat(const struct account *acc);
const char *account_outbound(const struct account *acc, unsigned ix);
/* The accounts file's auth_user and auth_pass (NULL when absent: 1.0.0's
 * own digest, account_auth, then takes the AoR's user). */
const char *account_auth_user(const struct account *acc);
const char *account_auth_pass(const struct account *acc);

#endif
