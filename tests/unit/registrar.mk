# Unit tests of pinholed's modules (linked against its convenience library).
if HAVE_CRITERION
registrar_unit_tests = \
	tests/unit/test_conf \
	tests/unit/test_location \
	tests/unit/test_store \
	tests/unit/test_limits \
	tests/unit/test_okcache \
	tests/unit/test_register \
	tests/unit/test_regtext \
	tests/unit/test_ntop \
	tests/unit/test_stund \
	tests/unit/test_route \
	tests/unit/test_sdpfw \
	tests/unit/test_sdpcheck \
	tests/unit/test_call \
	tests/unit/test_calls \
	tests/unit/test_listen \
	tests/unit/test_auth
check_PROGRAMS += $(registrar_unit_tests)
TESTS += $(registrar_unit_tests)
reg_unit_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/registrar $(SOFIA_CFLAGS)
tests_unit_test_conf_CPPFLAGS = $(reg_unit_cppflags) -DSRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_conf_CFLAGS = $(unit_cflags)
tests_unit_test_conf_LDADD = $(unit_reg_ldadd)
tests_unit_test_location_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_location_CFLAGS = $(unit_cflags)
tests_unit_test_location_LDADD = $(unit_reg_ldadd)
tests_unit_test_store_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_store_CFLAGS = $(unit_cflags)
tests_unit_test_store_LDADD = $(unit_reg_ldadd)
tests_unit_test_okcache_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_okcache_CFLAGS = $(unit_cflags)
tests_unit_test_okcache_LDADD = $(unit_reg_ldadd)
tests_unit_test_limits_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_limits_CFLAGS = $(unit_cflags)
tests_unit_test_limits_LDADD = $(unit_reg_ldadd)
tests_unit_test_register_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_register_CFLAGS = $(unit_cflags)
tests_unit_test_register_LDADD = $(unit_reg_ldadd)
tests_unit_test_regtext_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_regtext_CFLAGS = $(unit_cflags)
tests_unit_test_regtext_LDADD = $(unit_reg_ldadd)
tests_unit_test_ntop_SOURCES = tests/unit/test_ntop.c registrar/ntop.c
tests_unit_test_ntop_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_ntop_CFLAGS = $(unit_cflags)
tests_unit_test_ntop_LDADD = $(unit_reg_ldadd) -ldl
tests_unit_test_stund_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_stund_CFLAGS = $(unit_cflags)
tests_unit_test_stund_LDADD = $(unit_reg_ldadd)
tests_unit_test_route_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_route_CFLAGS = $(unit_cflags)
tests_unit_test_route_LDADD = $(unit_reg_ldadd)
tests_unit_test_sdpfw_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_sdpfw_CFLAGS = $(unit_cflags)
tests_unit_test_sdpfw_LDADD = $(unit_reg_ldadd)
tests_unit_test_sdpcheck_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_sdpcheck_CFLAGS = $(unit_cflags)
tests_unit_test_sdpcheck_LDADD = $(unit_reg_ldadd)
tests_unit_test_call_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_call_CFLAGS = $(unit_cflags)
tests_unit_test_call_SOURCES = tests/unit/test_call.c tests/unit/callworld.c tests/unit/callworld.h
tests_unit_test_call_LDADD = $(unit_reg_ldadd)
tests_unit_test_calls_SOURCES = tests/unit/test_calls.c tests/unit/callworld.c tests/unit/callworld.h
tests_unit_test_calls_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_calls_CFLAGS = $(unit_cflags)
tests_unit_test_calls_LDADD = $(unit_reg_ldadd)
tests_unit_test_listen_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_listen_CFLAGS = $(unit_cflags)
tests_unit_test_listen_LDADD = $(unit_reg_ldadd)
tests_unit_test_auth_CPPFLAGS = $(reg_unit_cppflags)
tests_unit_test_auth_CFLAGS = $(unit_cflags)
tests_unit_test_auth_LDADD = $(unit_reg_ldadd) $(CRYPTO_LIBS)
endif
