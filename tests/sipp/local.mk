# SIPp integration tests: the real pinholed on loopback, driven by SIPp.
sipp_tests = \
	tests/sipp/register.sh \
	tests/sipp/rules.sh \
	tests/sipp/fwwin.sh \
	tests/sipp/stun.sh \
	tests/sipp/keepalive.sh \
	tests/sipp/call.sh \
	tests/sipp/relay.sh \
	tests/sipp/relay_ng.sh \
	tests/sipp/kamailio_ng.sh \
	tests/sipp/fork.sh \
	tests/sipp/onepacket.sh \
	tests/sipp/device.sh \
	tests/sipp/expiry.sh \
	tests/sipp/sipcheck.sh \
	tests/sipp/auth.sh \
	tests/sipp/sipvicious.sh
TESTS += $(sipp_tests)
check_PROGRAMS += tests/sipp/netcheck
tests_sipp_netcheck_LDADD = media/libpinhole.la
EXTRA_DIST += $(sipp_tests) tests/sipp/lib.sh \
	tests/sipp/register.xml tests/sipp/rules.xml tests/sipp/fwwin.xml \
	tests/sipp/fwwin_bad.xml tests/sipp/plain_503_norelay.xml tests/sipp/plain_reg.xml tests/sipp/plain_uac_rtp.xml \
	tests/sipp/plain_uas_rtp.xml tests/sipp/plain_hold_uac.xml \
	tests/sipp/plain_hold_uas.xml tests/sipp/plain_503.xml \
	tests/sipp/methods.xml tests/sipp/call_uac.xml tests/sipp/call_uas.xml \
	tests/sipp/register_user.xml tests/sipp/call_refused.xml \
	tests/sipp/uas_ring.xml tests/sipp/uas_answer.xml tests/sipp/uac_cancel.xml \
	tests/sipp/uac_fork.xml tests/sipp/uac_busy.xml tests/sipp/onepacket.py tests/sipp/device.py tests/sipp/expiry.py tests/sipp/sipsock.py \
	tests/sipp/auth.py tests/sipp/auth_register.xml
# sipcheck: every message pinholed sent (recorded by sendcap), read by
# libosip2 and sofia-sip; lib.sh runs it at the end of every test above.
check_PROGRAMS += tests/sipp/sipcheck
tests_sipp_sipcheck_SOURCES = tests/sipp/sipcheck.c tests/sipp/sipcheck_cmp.c \
	tests/sipp/sipcheck.h media/relay/bencode.c
tests_sipp_sipcheck_CFLAGS = $(AM_CFLAGS) $(SOFIA_CFLAGS) $(OSIP_CFLAGS)
tests_sipp_sipcheck_LDADD = $(SOFIA_LIBS) $(OSIP_LIBS)
# sendcap: the LD_PRELOAD library that records what pinholed sends; a
# module with an -rpath so that libtool builds it shared though not installed
check_LTLIBRARIES += tests/sipp/sendcap.la
tests_sipp_sendcap_la_SOURCES = tests/sipp/sendcap.c
tests_sipp_sendcap_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_sipp_sendcap_la_LIBADD = -ldl
