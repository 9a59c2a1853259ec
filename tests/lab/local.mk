# The NAT lab: network namespaces with nftables firewalls (needs root; the
# tests say so and skip without it).
lab_tests = tests/lab/probe.sh tests/lab/direct.sh tests/lab/calls.sh tests/lab/relay.sh \
	tests/lab/multiaddr.sh tests/lab/baresip.sh tests/lab/baresip_race.sh \
	tests/lab/linphone.sh tests/lab/relay_ng.sh
TESTS += $(lab_tests)

# The opener's null packet first, over many baresip calls: `make check`
# makes a few (the script's defaults, about 45 s); `make check-race` the
# LAB_RACE_CALLS calls answered at once that a rare race needs (about 3 min).
LAB_RACE_CALLS = 50
check-race: all
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	LAB_RACE_CALLS='$(LAB_RACE_CALLS)' $(SHELL) $(top_srcdir)/tests/lab/baresip_race.sh
.PHONY: check-race
EXTRA_DIST += $(lab_tests) tests/lab/lab.sh tests/lab/README tests/lab/demo
check_PROGRAMS += tests/lab/endpoint
tests_lab_endpoint_LDADD = media/libpinhole.la
