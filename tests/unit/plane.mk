# Unit tests of libpinhole's media plane, on a fake clock.
if HAVE_CRITERION
plane_unit_tests = tests/unit/test_probe tests/unit/test_path tests/unit/test_sock \
	tests/unit/test_relay
check_PROGRAMS += $(plane_unit_tests)
TESTS += $(plane_unit_tests)
tests_unit_test_probe_CFLAGS = $(unit_cflags)
tests_unit_test_probe_LDADD = $(unit_ldadd)
tests_unit_test_path_CFLAGS = $(unit_cflags)
tests_unit_test_path_LDADD = $(unit_ldadd)
tests_unit_test_sock_CFLAGS = $(unit_cflags)
tests_unit_test_sock_LDADD = $(unit_ldadd)
tests_unit_test_relay_CFLAGS = $(unit_cflags)
tests_unit_test_relay_LDADD = media/relay/libphrelay.la $(unit_ldadd)
endif
# The ng protocol's codecs (media/relay), and pinhole-relayd's commands
# over a relay engine on loopback.
if HAVE_CRITERION
ng_unit_tests = tests/unit/test_bencode tests/unit/test_ngsdp tests/unit/test_ngd
check_PROGRAMS += $(ng_unit_tests)
TESTS += $(ng_unit_tests)
tests_unit_test_bencode_CFLAGS = $(unit_cflags)
tests_unit_test_bencode_LDADD = media/relay/libphrelay.la $(unit_ldadd)
tests_unit_test_ngsdp_CFLAGS = $(unit_cflags)
tests_unit_test_ngsdp_LDADD = media/relay/libphrelay.la $(unit_ldadd)
tests_unit_test_ngd_CFLAGS = $(unit_cflags)
tests_unit_test_ngd_LDADD = media/relay/libphrelay.la $(unit_ldadd)
endif
