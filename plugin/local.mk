# plugin/: libpinhole inside softphones. pinhole-call is a small softphone
# on sofia-sip's nua for test calls.
bin_PROGRAMS += plugin/pinhole-call
plugin_pinhole_call_SOURCES = plugin/pinhole-call.c plugin/tone.c plugin/tone.h \
	plugin/digest.c plugin/digest.h \
	plugin/calltls.c plugin/calltls.h
plugin_pinhole_call_CPPFLAGS = $(AM_CPPFLAGS) $(SOFIA_CFLAGS) $(CRYPTO_CFLAGS)
plugin_pinhole_call_LDADD = media/libpinhole.la $(SOFIA_LIBS) $(CRYPTO_LIBS) -lm

# The media-NAT module for baresip 1.0.0 (medianat=pinhole), where
# configure found baresip and libre. It uses baresip's and libre's symbols
# from the process that loads it (no -lre), as baresip's own modules do.
if HAVE_BARESIP
baresipmoddir = $(libdir)/baresip/modules
baresipmod_LTLIBRARIES = plugin/baresip/pinhole.la
plugin_baresip_pinhole_la_SOURCES = plugin/baresip/module.c \
	plugin/baresip/mnat.c plugin/baresip/probe.c plugin/baresip/reg.c \
	plugin/baresip/regc.c plugin/baresip/regflow.c \
	plugin/digest.c plugin/digest.h \
	plugin/baresip/pinhole.h plugin/baresip/baresip.h
plugin_baresip_pinhole_la_CPPFLAGS = $(AM_CPPFLAGS) $(LIBRE_CFLAGS) $(CRYPTO_CFLAGS) \
	-DHAVE_INTTYPES_H -DHAVE_STDBOOL_H -DHAVE_INET6
# hidden: the parts' shared functions (reg_alloc, probe_wait, ...) stay
# inside the module, never bound to baresip's own reg_* and the like
plugin_baresip_pinhole_la_CFLAGS = $(AM_CFLAGS) $(PH_VISIBILITY_CFLAGS)
plugin_baresip_pinhole_la_LDFLAGS = -module -avoid-version -shared
plugin_baresip_pinhole_la_LIBADD = media/libpinhole.la $(CRYPTO_LIBS)
endif
