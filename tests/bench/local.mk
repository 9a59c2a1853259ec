# Benchmarks: not part of `make check`; `make bench` runs them.
EXTRA_DIST += tests/bench/register
bench: all
	BUILD=$(abs_top_builddir) $(top_srcdir)/tests/bench/register
.PHONY: bench
