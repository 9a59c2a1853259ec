# Benchmarks: not part of `make check`; `make bench` runs them all (each one
# even when another could not run), `make bench-register`, `make
# bench-invite` and `make bench-relay` one each. The drivers they share with
# the anchors (Kamailio and rtpengine runs, SIPp scenarios, rtpblast) are in
# tests/bench/anchors; each run is kept in tests/bench/results.
EXTRA_DIST += tests/bench/register tests/bench/invite tests/bench/relay \
	tests/bench/register-profile \
	tests/bench/record.sh \
	tests/bench/anchors/README.md tests/bench/anchors/gen_users.sh \
	tests/bench/anchors/kamailio-anchor.sh tests/bench/anchors/kamailio.cfg \
	tests/bench/anchors/register.xml tests/bench/anchors/register_auth.xml \
	tests/bench/anchors/register_uas.xml tests/bench/anchors/uac_invite.xml \
	tests/bench/anchors/uas.xml tests/bench/anchors/rtpe-ng.py \
	tests/bench/anchors/rtpengine-anchor.sh \
	tests/bench/anchors/kamailio-anchor-results.txt \
	tests/bench/anchors/rtpengine-anchor-results.txt \
	tests/bench/results
noinst_PROGRAMS += tests/bench/rtpblast
tests_bench_rtpblast_SOURCES = tests/bench/anchors/rtpblast.c
bench_register = BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/register
bench_relay = BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/relay
bench_invite = BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/invite
bench: all
	@rc=0; $(bench_register) || rc=1; $(bench_invite) || rc=1; \
		$(bench_relay) || rc=1; exit $$rc
bench-register: all
	$(bench_register)
bench-invite: all
	$(bench_invite)
bench-relay: all
	$(bench_relay)
.PHONY: bench bench-register bench-invite bench-relay
