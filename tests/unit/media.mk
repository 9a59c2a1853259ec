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

# The phones' digest answers (plugin/digest.c), on OpenSSL.
if HAVE_CRITERION
check_PROGRAMS += tests/unit/test_digest
TESTS += tests/unit/test_digest
tests_unit_test_digest_SOURCES = tests/unit/test_digest.c plugin/digest.c plugin/digest.h
tests_unit_test_digest_CFLAGS = $(unit_cflags) $(CRYPTO_CFLAGS)
tests_unit_test_digest_LDADD = $(CRITERION_LIBS) $(CRYPTO_LIBS)
endif
