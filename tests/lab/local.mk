# The NAT lab: network namespaces with nftables firewalls (needs root; the
# tests say so and skip without it).
lab_tests = tests/lab/probe.sh tests/lab/direct.sh tests/lab/calls.sh tests/lab/relay.sh \
	tests/lab/multiaddr.sh tests/lab/multiaddr_auth.sh tests/lab/multiaddr_edge.sh tests/lab/baresip.sh tests/lab/baresip_race.sh \
	tests/lab/linphone.sh tests/lab/pbx.sh tests/lab/pbx_pairs.sh tests/lab/relay_ng.sh tests/lab/redis.sh \
	tests/lab/tls.sh tests/lab/auth.sh tests/lab/pbx_sha256.sh tests/lab/flowtimer.sh
TESTS += $(lab_tests)

# The opener's null packet first, over many baresip calls: `make check`
# makes a few (the script's defaults, about 45 s); `make check-race` the
# LAB_RACE_CALLS calls answered at once that a rare race needs (about 3 min).
LAB_RACE_CALLS = 50
check-race: all
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	LAB_RACE_CALLS='$(LAB_RACE_CALLS)' $(SHELL) $(top_srcdir)/tests/lab/baresip_race.sh
.PHONY: check-race

# pinholed in front of Kamailio (issue 13): `make check` runs pbx.sh for
# nat phones (pinhole-call and the baresip module) against the IVR both
# ways, and pbx_pairs.sh for sym x sym through the PBX (about 55 s and
# 20 s); `make check-pbx` every phone kind (fw, nat, natopen, sym) and
# every pair of kinds through the PBX (about 10 min).
check-pbx: all
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	LAB_PBX_KINDS=all $(SHELL) $(top_srcdir)/tests/lab/pbx.sh
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	LAB_PBX_PAIRS=all $(SHELL) $(top_srcdir)/tests/lab/pbx_pairs.sh
.PHONY: check-pbx
EXTRA_DIST += $(lab_tests) tests/lab/lab.sh tests/lab/README tests/lab/demo \
	tests/lab/pbxlab.sh
check_PROGRAMS += tests/lab/endpoint
tests_lab_endpoint_LDADD = media/libpinhole.la
