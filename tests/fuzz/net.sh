#!/bin/sh
# The network fuzzer (tests/fuzz/net_fuzz.py) against the real pinholed for
# FUZZ_NET_SECONDS (25 s in `make check`; `make fuzz-net`: 600 s and goes on
# after a failure). FUZZ_NET_SEED repeats a run; FUZZ_NET_OUT is where the
# inputs before a failure are saved (default fuzz-net-out in the build dir).
#
# A mutated REGISTER can make pinholed forward anywhere, so pinholed and the
# fuzzer run in a private network and PID namespace made here (unshare),
# with only loopback up: nothing leaves it, and every process in it ends
# with it. That needs root; without it the test skips.
set -u
: "${top_srcdir:=.}" "${top_builddir:=.}"
PINHOLED=$top_builddir/registrar/pinholed
OUT=${FUZZ_NET_OUT:-$top_builddir/fuzz-net-out}
case $OUT in /*) ;; *) OUT=$(pwd)/$OUT ;; esac

skip() { echo "SKIP: $*"; exit 77; }

if [ "${PH_FUZZ_NETNS:-}" != 1 ]; then
	[ "$(id -u)" = 0 ] || skip "needs root for a private network namespace (unshare --net)"
	command -v unshare >/dev/null 2>&1 || skip "no unshare (util-linux)"
	command -v ip >/dev/null 2>&1 || skip "no ip (iproute2)"
	command -v python3 >/dev/null 2>&1 || skip "no python3"
	[ -x "$PINHOLED" ] || { echo "FAIL: $PINHOLED not built"; exit 1; }
	unshare --net --pid --fork true 2>/dev/null ||
		skip "unshare --net --pid is not permitted here"
	# --kill-child: if unshare is killed, so is everything in the namespace
	PH_FUZZ_NETNS=1 exec unshare --net --pid --fork --kill-child sh "$0" "$@"
fi

# in the namespace: only lo, up
ip link set lo up || { echo "FAIL: cannot bring up lo in the namespace"; exit 1; }
set -- --pinholed "$PINHOLED" --out "$OUT" --seconds "${FUZZ_NET_SECONDS:-25}"
[ -n "${FUZZ_NET_SEED:-}" ] && set -- "$@" --seed "$FUZZ_NET_SEED"
[ "${FUZZ_NET_KEEP_GOING:-0}" = 1 ] && set -- "$@" --keep-going
# every message pinholed sends under fuzzing is read by libosip2 and
# sofia-sip too (tests/sipp/sipcheck), as in the SIPp tests
SENDCAP=$top_builddir/tests/sipp/.libs/sendcap.so
SIPCHECK=$top_builddir/tests/sipp/sipcheck
mkdir -p "$OUT" && rm -f "$OUT"/sent-*.cap
[ -f "$SENDCAP" ] && [ -x "$SIPCHECK" ] &&
	set -- "$@" --sendcap "$(cd "$(dirname "$SENDCAP")" && pwd)/sendcap.so"
python3 "$top_srcdir/tests/fuzz/net_fuzz.py" "$@"
rc=$?
if ls "$OUT"/sent-*.cap >/dev/null 2>&1; then
	if "$SIPCHECK" -e -f "$OUT"/sent-*.cap >"$OUT/sipcheck.out" 2>&1; then
		tail -2 "$OUT/sipcheck.out"
	else
		grep -v '^ *|' "$OUT/sipcheck.out" | tail -20
		echo "FAIL: what pinholed sent under fuzzing does not read right (all of it: $OUT/sipcheck.out)"
		rc=1
	fi
fi
exit "$rc"
