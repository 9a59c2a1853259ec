#!/bin/sh
# Every seed corpus through its fuzz target (built without libFuzzer).
# seed_sip needs a network namespace of its own (root or user namespaces):
# without one it exits 77, a skip, or a failure under PH_REQUIRE_ALL=1.
: "${top_srcdir:=.}" "${top_builddir:=.}"
rc=0
for t in stun fwwin sdpattr sdp sip ng ngd; do
	"$top_builddir/tests/fuzz/seed_$t" "$top_srcdir/tests/fuzz/corpus/$t"
	st=$?
	[ "$st" = 77 ] && [ "${PH_REQUIRE_ALL:-0}" != 0 ] && st=1
	case $st in
	0) ;;
	77) [ "$rc" = 0 ] && rc=77 ;;
	*) rc=1 ;;
	esac
done
exit "$rc"
