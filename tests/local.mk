# Tests: Criterion unit tests, SIPp integration, the NAT lab, fuzz targets.
# Shell tests (*.sh) exit 77 to skip, with a line that says why.
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
EXTRA_DIST += tests/setup
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(top_srcdir)'; top_builddir='$(top_builddir)'; \
	export top_srcdir top_builddir;

if HAVE_CRITERION
unit_cflags = $(AM_CFLAGS) $(CRITERION_CFLAGS)
unit_ldadd = media/libpinhole.la $(CRITERION_LIBS)
unit_reg_ldadd = registrar/libpinholed.la $(CRITERION_LIBS)
endif

include tests/unit/media.mk
include tests/unit/plane.mk
include tests/unit/registrar.mk
include tests/fuzz/local.mk
include tests/sipp/local.mk
include tests/lab/local.mk
include tests/bench/local.mk
