# Benchmarks: not part of `make check`; `make bench` runs them all (each one
# even when another could not run), `make bench-register` and `make
# bench-relay` one each. The drivers they share with the anchors (Kamailio and
# rtpengine runs, SIPp scenarios, rtpblast) are in tests/bench/anchors; each
# run is kept in tests/bench/results.
EXTRA_DIST += tests/bench/register tests/bench/relay tests/bench/record.sh \
	tests/bench/anchors tests/bench/results
noinst_PROGRAMS += tests/bench/relay-ng tests/bench/rtpblast
tests_bench_relay_ng_LDADD = media/libpinhole.la
tests_bench_rtpblast_SOURCES = tests/bench/anchors/rtpblast.c
bench_register = BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/register
bench_relay = BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/relay
bench: all
	@rc=0; $(bench_register) || rc=1; $(bench_relay) || rc=1; exit $$rc
bench-register: all
	$(bench_register)
bench-relay: all
	$(bench_relay)
.PHONY: bench bench-register bench-relay
