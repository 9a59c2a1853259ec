#!/bin/sh
# An INVITE branch once it rings is pinholed's, not nta's (proceed.c,
# issue 12: nta held each answered INVITE's request and 2xx 32 s). After
# 20 calls rang, were answered and hung up, pinholed holds no client
# transaction of theirs (SIGUSR1's counters); a 486 after ringing and a
# CANCEL while ringing go as RFC 3261 says (proceed.py). With
# PROCEED_TIMERC=1 also Timer C, which takes 3 minutes and a half.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
[ "${PH_IP:-127.0.0.1}" = 127.0.0.1 ] || skip "needs PH_IP 127.0.0.1"

N=20
ph_start -o domains=127.0.0.1
timeout 60 python3 "$SIPP_DIR/proceed.py" "$PH_IP" "$SIP_PORT" calls $N ||
	fail "proceed.py calls"
ph_counters
held=$(echo "$COUNTERS" | awk '{ print $8 }')
echo "after $N answered calls: $COUNTERS"
# the REGISTER and each BYE go statelessly; an INVITE's client transaction
# was nta's until Timer D, 32 s after its 2xx
[ "$held" = 0 ] || fail "$held client transactions held after $N answered calls"
echo "ok: no client transaction of $N answered calls held"
timeout 30 python3 "$SIPP_DIR/proceed.py" "$PH_IP" "$SIP_PORT" busy ||
	fail "proceed.py busy"
timeout 30 python3 "$SIPP_DIR/proceed.py" "$PH_IP" "$SIP_PORT" cancel ||
	fail "proceed.py cancel"
# every call over: none left being set up (a branch whose final answer
# went astray would hold its call until Timer C)
ph_counters
echo "after the failed calls: $COUNTERS"
[ "$(echo "$COUNTERS" | awk '{ print $2 }')" = 0 ] || fail "calls left: $COUNTERS"
echo "ok: no call left"
if [ "${PROCEED_TIMERC:-0}" = 1 ]; then
	timeout 300 python3 "$SIPP_DIR/proceed.py" "$PH_IP" "$SIP_PORT" timerc ||
		fail "proceed.py timerc"
fi
ph_alive || fail "pinholed died"
