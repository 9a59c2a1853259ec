# plugin/: libpinhole inside softphones. pinhole-call is a small softphone
# on sofia-sip's nua for test calls.
bin_PROGRAMS += plugin/pinhole-call
plugin_pinhole_call_CPPFLAGS = $(AM_CPPFLAGS) $(SOFIA_CFLAGS)
plugin_pinhole_call_LDADD = media/libpinhole.la $(SOFIA_LIBS) -lm
