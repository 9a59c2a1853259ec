# Example configuration, installed as documentation.
exampledir = $(docdir)/examples
dist_example_DATA = conf/pinholed.conf
