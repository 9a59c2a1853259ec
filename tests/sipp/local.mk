# SIPp integration tests: the real pinholed on loopback, driven by SIPp.
sipp_tests = \
	tests/sipp/register.sh \
	tests/sipp/rules.sh \
	tests/sipp/fwwin.sh \
	tests/sipp/stun.sh \
	tests/sipp/amplify.sh \
	tests/sipp/stunflood.sh \
	tests/sipp/floods_sip.sh \
	tests/sipp/floods_tcp.sh \
	tests/sipp/keepalive.sh \
	tests/sipp/call.sh \
	tests/sipp/relay.sh \
	tests/sipp/relayports.sh \
	tests/sipp/relay_ng.sh \
	tests/sipp/kamailio_ng.sh \
	tests/sipp/fork.sh \
	tests/sipp/onepacket.sh \
	tests/sipp/device.sh \
	tests/sipp/expiry.sh \
	tests/sipp/overload.sh \
	tests/sipp/auth.sh \
	tests/sipp/sipvicious.sh \
	tests/sipp/durable.sh \
	tests/sipp/redis.sh \
	tests/sipp/sigterm.sh \
	tests/sipp/relaykeep.sh \
	tests/sipp/outbound.sh \
	tests/sipp/openrelay.sh \
	tests/sipp/txnlife.sh \
	tests/sipp/proceed.sh \
	tests/sipp/phones.sh \
	tests/sipp/upstream.sh \
	tests/sipp/sipcheck.sh \
	tests/sipp/tls.sh
TESTS += $(sipp_tests)
check_PROGRAMS += tests/sipp/netcheck
tests_sipp_netcheck_LDADD = media/libpinhole.la
EXTRA_DIST += $(sipp_tests) tests/sipp/lib.sh tests/sipp/upstream.py \
	tests/sipp/txnlife.py tests/sipp/proceed.py \
	tests/sipp/register.xml tests/sipp/rules.xml tests/sipp/fwwin.xml \
	tests/sipp/fwwin_bad.xml tests/sipp/plain_503_norelay.xml tests/sipp/plain_reg.xml tests/sipp/plain_uac_rtp.xml \
	tests/sipp/plain_uas_rtp.xml tests/sipp/plain_hold_uac.xml \
	tests/sipp/plain_hold_uas.xml tests/sipp/plain_503.xml \
	tests/sipp/methods.xml tests/sipp/call_uac.xml tests/sipp/call_uas.xml \
	tests/sipp/register_user.xml tests/sipp/call_refused.xml \
	tests/sipp/uas_ring.xml tests/sipp/uas_answer.xml tests/sipp/uac_cancel.xml \
	tests/sipp/uac_fork.xml tests/sipp/uac_busy.xml tests/sipp/onepacket.py tests/sipp/amplify.py tests/sipp/stunflood.py \
	tests/sipp/floods.py tests/sipp/floodlib.sh tests/sipp/device.py tests/sipp/expiry.py tests/sipp/sipsock.py \
	tests/sipp/auth.py tests/sipp/auth_register.xml \
	tests/sipp/durable.py tests/sipp/sigterm.py tests/sipp/relaykeep.py \
	tests/sipp/outbound.py \
	tests/sipp/openrelay.py tests/sipp/redis.py tests/sipp/redisrace.py tests/sipp/tcpcut.py tests/sipp/reg.py \
	tests/sipp/overload.py \
	tests/sipp/tls.py
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

# The floods of issue 14 at the sizes it measured (tests/sipp/floods_*.sh
# with FLOOD_SCALE=10: 1,500 reserving INVITEs, 4,000 REGISTERs, INVITEs
# at 2,000/s for 30 s, 10,000 connections, 2,000 slowloris connections of
# 1 MB), and the STUN flood; a few minutes.
# (stunflood.sh is at the issue's size already.)
flood_tests = tests/sipp/floods_sip.sh tests/sipp/floods_tcp.sh \
	tests/sipp/stunflood.sh
check-floods: all $(check_PROGRAMS) $(check_LTLIBRARIES)
	@for t in $(flood_tests); do \
		echo "== $$t (FLOOD_SCALE=10)"; \
		top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
		FLOOD_SCALE=10 $(SHELL) $(top_srcdir)/$$t || exit 1; \
	done
.PHONY: check-floods
