# Unit tests of libpinhole's codecs.
if HAVE_CRITERION
media_unit_tests = \
	tests/unit/test_addr \
	tests/unit/test_stun \
	tests/unit/test_fwwin \
	tests/unit/test_sdpattr
check_PROGRAMS += $(media_unit_tests)
TESTS += $(media_unit_tests)
tests_unit_test_addr_CFLAGS = $(unit_cflags)
tests_unit_test_addr_LDADD = $(unit_ldadd)
tests_unit_test_stun_CFLAGS = $(unit_cflags)
tests_unit_test_stun_LDADD = $(unit_ldadd)
tests_unit_test_fwwin_CFLAGS = $(unit_cflags)
tests_unit_test_fwwin_LDADD = $(unit_ldadd)
tests_unit_test_sdpattr_CFLAGS = $(unit_cflags)
tests_unit_test_sdpattr_LDADD = $(unit_ldadd)
endif
