# Example configuration, installed as documentation.
exampledir = $(docdir)/examples
dist_example_DATA = conf/pinholed.conf
baresipexampledir = $(docdir)/examples/baresip
dist_baresipexample_DATA = conf/baresip/config conf/baresip/accounts
