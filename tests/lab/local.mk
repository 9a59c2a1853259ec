# The NAT lab: network namespaces with nftables firewalls (needs root; the
# tests say so and skip without it).
lab_tests = tests/lab/probe.sh tests/lab/direct.sh tests/lab/calls.sh tests/lab/relay.sh \
	tests/lab/baresip.sh tests/lab/linphone.sh
TESTS += $(lab_tests)
EXTRA_DIST += $(lab_tests) tests/lab/lab.sh tests/lab/README tests/lab/demo
check_PROGRAMS += tests/lab/endpoint
tests_lab_endpoint_LDADD = media/libpinhole.la
