# Example configuration, installed as documentation.
exampledir = $(docdir)/examples
dist_example_DATA = conf/pinholed.conf
baresipexampledir = $(docdir)/examples/baresip
dist_baresipexample_DATA = conf/baresip/config conf/baresip/accounts
pbxexampledir = $(docdir)/examples/pbx
dist_pbxexample_DATA = conf/pbx/kamailio.cfg conf/pbx/asterisk-pjsip.conf \
	conf/pbx/freeswitch-sofia.xml
