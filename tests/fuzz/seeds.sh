#!/bin/sh
# Every seed corpus through its fuzz target (built without libFuzzer).
set -e
: "${top_srcdir:=.}" "${top_builddir:=.}"
for t in stun fwwin sdpattr sdp sip; do
	"$top_builddir/tests/fuzz/seed_$t" "$top_srcdir/tests/fuzz/corpus/$t"
done
