#!/bin/sh
# Overload control (overload.py): with a limit of one call being set up, a
# new INVITE while one rings is answered 503 with Retry-After, statelessly;
# REGISTER, BYE and CANCEL still pass; the limit lets calls in again once
# the ringing call ends. The limit stands in for a loop that falls behind,
# which a test cannot make happen on time.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

ph_start -o overload_calls=1 -o overload_retry_after=7
timeout 30 python3 "$SIPP_DIR/overload.py" "$PH_IP" "$SIP_PORT" || fail "overload.py"
grep -q 'overload: 1 new call(s) refused with 503' "$WORK/pinholed.log" ||
	fail "no overload line in pinholed's log"
