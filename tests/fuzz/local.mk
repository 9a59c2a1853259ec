# Fuzz targets. Each also builds against a plain driver and runs over its
# seed corpus in `make check`; `make fuzz` runs the libFuzzer builds
# (configure --with-fuzzing CC=clang) for FUZZ_SECONDS each.
# sdp and sip go through pinholed itself (registrar/): SDP reading and
# rewriting, and whole SIP messages through its real sofia-sip agent.
# ng is the relay's control protocol (media/relay: bencode and its SDP).
# ngd is pinhole-relayd's command handler, over a relay on loopback.
fuzz_targets = stun fwwin sdpattr sdp sip ng ngd
check_PROGRAMS += tests/fuzz/seed_stun tests/fuzz/seed_fwwin tests/fuzz/seed_sdpattr \
	tests/fuzz/seed_sdp tests/fuzz/seed_sip tests/fuzz/seed_ng tests/fuzz/seed_ngd
tests_fuzz_seed_stun_SOURCES = tests/fuzz/fuzz_stun.c tests/fuzz/driver.c
tests_fuzz_seed_stun_LDADD = media/libpinhole.la
tests_fuzz_seed_fwwin_SOURCES = tests/fuzz/fuzz_fwwin.c tests/fuzz/driver.c
tests_fuzz_seed_fwwin_LDADD = media/libpinhole.la
tests_fuzz_seed_sdpattr_SOURCES = tests/fuzz/fuzz_sdpattr.c tests/fuzz/driver.c
tests_fuzz_seed_sdpattr_LDADD = media/libpinhole.la
tests_fuzz_seed_ng_SOURCES = tests/fuzz/fuzz_ng.c tests/fuzz/driver.c
tests_fuzz_seed_ng_LDADD = media/relay/libphrelay.la media/libpinhole.la
tests_fuzz_seed_ngd_SOURCES = tests/fuzz/fuzz_ngd.c tests/fuzz/driver.c
tests_fuzz_seed_ngd_LDADD = media/relay/libphrelay.la media/libpinhole.la
fuzz_reg_cppflags = $(AM_CPPFLAGS) -I$(top_srcdir)/registrar $(SOFIA_CFLAGS)
tests_fuzz_seed_sdp_SOURCES = tests/fuzz/fuzz_sdp.c tests/fuzz/driver.c
tests_fuzz_seed_sdp_CPPFLAGS = $(fuzz_reg_cppflags)
tests_fuzz_seed_sdp_LDADD = registrar/libpinholed.la
tests_fuzz_seed_sip_SOURCES = tests/fuzz/fuzz_sip.c tests/fuzz/driver.c registrar/sofiafix.c
tests_fuzz_seed_sip_CPPFLAGS = $(fuzz_reg_cppflags)
tests_fuzz_seed_sip_LDADD = registrar/libpinholed.la
TESTS += tests/fuzz/seeds.sh
EXTRA_DIST += tests/fuzz/seeds.sh tests/fuzz/corpus

if WITH_FUZZING
fuzz_media = media/addr.c media/lex.c media/stun.c media/fwwin.c media/sdpattr.c
# UBSan findings abort, so libFuzzer keeps them as crashes.
fuzz_sanitize = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz_cflags = $(AM_CFLAGS) $(fuzz_sanitize) -I$(top_srcdir)/media
fuzz_registrar = $(registrar_libpinholed_la_SOURCES) $(media_libpinhole_la_SOURCES) \
	$(media_relay_libphrelay_la_SOURCES)
fuzz_reg_cflags = $(fuzz_cflags) $(fuzz_reg_cppflags)
fuzz_reg_libs = $(SOFIA_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS) $(LMDB_LIBS) -lpthread
noinst_PROGRAMS += tests/fuzz/fuzz_stun tests/fuzz/fuzz_fwwin tests/fuzz/fuzz_sdpattr \
	tests/fuzz/fuzz_sdp tests/fuzz/fuzz_sip tests/fuzz/fuzz_ng tests/fuzz/fuzz_ngd
tests_fuzz_fuzz_stun_SOURCES = tests/fuzz/fuzz_stun.c $(fuzz_media)
tests_fuzz_fuzz_stun_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_stun_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_fwwin_SOURCES = tests/fuzz/fuzz_fwwin.c $(fuzz_media)
tests_fuzz_fuzz_fwwin_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_fwwin_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_sdpattr_SOURCES = tests/fuzz/fuzz_sdpattr.c $(fuzz_media)
tests_fuzz_fuzz_sdpattr_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_sdpattr_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_ng_SOURCES = tests/fuzz/fuzz_ng.c media/addr.c \
	media/relay/bencode.c media/relay/ngsdp.c
tests_fuzz_fuzz_ng_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_ng_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_ngd_SOURCES = tests/fuzz/fuzz_ngd.c $(media_libpinhole_la_SOURCES) \
	$(media_relay_libphrelay_la_SOURCES)
tests_fuzz_fuzz_ngd_CFLAGS = $(fuzz_cflags)
tests_fuzz_fuzz_ngd_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_ngd_LDADD = -lpthread
tests_fuzz_fuzz_sdp_SOURCES = tests/fuzz/fuzz_sdp.c $(fuzz_registrar)
tests_fuzz_fuzz_sdp_CFLAGS = $(fuzz_reg_cflags)
tests_fuzz_fuzz_sdp_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_sdp_LDADD = $(fuzz_reg_libs)
tests_fuzz_fuzz_sip_SOURCES = tests/fuzz/fuzz_sip.c $(fuzz_registrar) registrar/sofiafix.c
tests_fuzz_fuzz_sip_CFLAGS = $(fuzz_reg_cflags)
tests_fuzz_fuzz_sip_LDFLAGS = $(fuzz_sanitize)
tests_fuzz_fuzz_sip_LDADD = $(fuzz_reg_libs)
FUZZ_SECONDS = 60
fuzz: $(fuzz_targets:%=tests/fuzz/fuzz_%)
	for t in $(fuzz_targets); do \
		mkdir -p fuzz-corpus/$$t && \
		tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
			fuzz-corpus/$$t $(top_srcdir)/tests/fuzz/corpus/$$t || exit 1; \
	done
else
fuzz:
	@echo "fuzz targets need: ./configure --with-fuzzing CC=clang"; exit 1
endif
.PHONY: fuzz

# The network fuzzer: the real pinholed in a private network namespace,
# SIP and STUN over UDP and TCP (tests/fuzz/net.sh, net_fuzz.py). A short
# run in `make check`; `make fuzz-net` runs FUZZ_NET_SECONDS and goes on
# after a failure to find more than one.
TESTS += tests/fuzz/net.sh
EXTRA_DIST += tests/fuzz/net.sh tests/fuzz/net_fuzz.py
FUZZ_NET_SECONDS = 600
fuzz-net: registrar/pinholed tests/sipp/sendcap.la tests/sipp/sipcheck
	top_srcdir='$(top_srcdir)' top_builddir='$(top_builddir)' \
	FUZZ_NET_SECONDS='$(FUZZ_NET_SECONDS)' FUZZ_NET_KEEP_GOING=1 \
		$(SHELL) $(top_srcdir)/tests/fuzz/net.sh
.PHONY: fuzz-net
clean-local: clean-fuzz-net
clean-fuzz-net:
	rm -rf fuzz-net-out
.PHONY: clean-fuzz-net
