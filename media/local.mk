# libpinhole: the media plane (no SIP stack inside).
lib_LTLIBRARIES += media/libpinhole.la
media_libpinhole_la_SOURCES = \
	media/addr.c \
	media/lex.c media/lex.h \
	media/stun.c \
	media/fwwin.c \
	media/sdpattr.c \
	media/stunc.c \
	media/probe.c \
	media/path.c \
	media/sock.c
media_libpinhole_la_CFLAGS = $(AM_CFLAGS) $(PH_VISIBILITY_CFLAGS) -pthread
media_libpinhole_la_LIBADD = -lpthread
media_libpinhole_la_LDFLAGS = -version-info 0:0:0 -no-undefined

include_HEADERS = media/include/pinhole.h
pinholeincdir = $(includedir)/pinhole
pinholeinc_HEADERS = \
	media/include/pinhole/api.h \
	media/include/pinhole/addr.h \
	media/include/pinhole/stun.h \
	media/include/pinhole/fwwin.h \
	media/include/pinhole/media.h

pkgconfig_DATA += media/pinhole.pc
EXTRA_DIST += media/pinhole.pc.in

bin_PROGRAMS += media/pinhole-probe
media_pinhole_probe_LDADD = media/libpinhole.la

# The relay engine: the server side's, with threads, epoll and sockets of
# its own, so it is not part of libpinhole (which owns none); pinholed,
# its tests and the relay benchmark link it.
noinst_LTLIBRARIES += media/relay/libphrelay.la
media_relay_libphrelay_la_SOURCES = \
	media/relay/relay.c media/relay/relay.h media/relay/relay_int.h \
	media/relay/forward.c media/relay/ephemeral.c \
	media/relay/bencode.c media/relay/bencode.h \
	media/relay/ngsdp.c media/relay/ngsdp.h \
	media/relay/ngd.c media/relay/ngd.h
media_relay_libphrelay_la_CFLAGS = $(AM_CFLAGS) -pthread
media_relay_libphrelay_la_LIBADD = media/libpinhole.la -lpthread

# The relay on a host of its own, controlled over rtpengine's ng protocol.
sbin_PROGRAMS += media/relay/pinhole-relayd
media_relay_pinhole_relayd_LDADD = media/relay/libphrelay.la media/libpinhole.la
