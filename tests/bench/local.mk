# Benchmarks: not part of `make check`; `make bench` runs them all,
# `make bench-register` and `make bench-relay` one each.
EXTRA_DIST += tests/bench/register tests/bench/relay
noinst_PROGRAMS += tests/bench/relay-ng
tests_bench_relay_ng_LDADD = media/relay/libphrelay.la media/libpinhole.la
bench: bench-register bench-relay
bench-register: all
	BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/register
bench-relay: all
	BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/relay
.PHONY: bench bench-register bench-relay
