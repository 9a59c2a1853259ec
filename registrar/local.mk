# pinholed: registrar, proxy, STUN service, route decision, relay.
# Everything but main.c goes into a convenience library the tests link.
noinst_LTLIBRARIES += registrar/libpinholed.la
registrar_libpinholed_la_SOURCES = \
	registrar/conf.c registrar/conf.h \
	registrar/log.c registrar/log.h \
	registrar/location.c registrar/location.h \
	registrar/store.c registrar/store.h registrar/store_codec.c \
	registrar/store_lmdb.c \
	registrar/register.c registrar/register.h \
	registrar/auth.c registrar/auth.h \
	registrar/authsip.c registrar/authsip.h \
	registrar/slreply.c registrar/slreply.h \
	registrar/stranger.c registrar/stranger.h \
	registrar/reqcheck.c registrar/reqcheck.h \
	registrar/okcache.c registrar/okcache.h \
	registrar/route.c registrar/route.h \
	registrar/sdpcheck.c registrar/sdpcheck.h \
	registrar/sdpfw.c registrar/sdpfw.h \
	registrar/errmap.c registrar/errmap.h \
	registrar/flow.c registrar/flow.h \
	registrar/sign.c registrar/sign.h \
	registrar/listen.c registrar/listen.h \
	registrar/relayctl.c registrar/relayctl.h \
	registrar/relayctl_ng.c registrar/ngc.c registrar/ngc.h \
	registrar/call.c registrar/call.h registrar/call_int.h \
	registrar/calls.c registrar/callkeep.c \
	registrar/proxy.c registrar/proxy.h registrar/proxy_int.h \
	registrar/fork.c registrar/proceed.c \
	registrar/countmap.c registrar/countmap.h \
	registrar/callquota.c registrar/ratelog.h \
	registrar/ratelimit.c registrar/ratelimit.h \
	registrar/overload.c registrar/overload.h \
	registrar/upstream.c registrar/upstream.h \
	registrar/stund.c registrar/stund.h \
	registrar/stunmem.c registrar/stunmem.h \
	registrar/stunsock.c registrar/stunsock.h \
	registrar/tlsdir.c registrar/tlsdir.h \
	registrar/tlsfix.c registrar/tlsfix.h \
	registrar/regreply.c registrar/regreply.h \
	registrar/regtext.c registrar/regtext.h \
	registrar/sipd.c registrar/sipd.h
if HAVE_HIREDIS
registrar_libpinholed_la_SOURCES += registrar/store_redis.c registrar/store_redis.h \
	registrar/store_rdengine.c
else
registrar_libpinholed_la_SOURCES += registrar/store_noredis.c
endif
registrar_libpinholed_la_CPPFLAGS = $(AM_CPPFLAGS) $(SOFIA_CFLAGS) $(LMDB_CFLAGS) \
	$(HIREDIS_CFLAGS)
registrar_libpinholed_la_LIBADD = media/libpinhole.la media/relay/libphrelay.la \
	$(SOFIA_LIBS) $(SSL_LIBS) $(CRYPTO_LIBS) $(LMDB_LIBS) $(HIREDIS_LIBS) -lpthread

sbin_PROGRAMS += registrar/pinholed
# sofiafix.c mends a sofia-sip function by defining it again, tcplimit.c
# counts connections so, ntop.c gives sofia-sip a cheaper inet_ntop(): they
# have to be in the executable itself, which a static archive member would
# not be.
registrar_pinholed_SOURCES = registrar/main.c registrar/sofiafix.c \
	registrar/tcplimit.c registrar/tcplimit.h registrar/ntop.c
registrar_pinholed_CPPFLAGS = $(AM_CPPFLAGS) $(SOFIA_CFLAGS) \
	-DPH_SYSCONFDIR='"$(sysconfdir)"'
registrar_pinholed_LDADD = registrar/libpinholed.la

# pinholed-passwd: adds a user to the users file (digests, no password).
bin_PROGRAMS += registrar/pinholed-passwd
registrar_pinholed_passwd_SOURCES = registrar/passwd.c
registrar_pinholed_passwd_CPPFLAGS = $(AM_CPPFLAGS)
registrar_pinholed_passwd_LDADD = registrar/libpinholed.la
