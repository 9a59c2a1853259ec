#!/bin/sh
# SIGTERM stops pinholed gracefully (sigterm.py): new calls 503 with
# Retry-After, a ringing call gets its answer, REGISTERs still answered;
# then it exits 0, having written the report of the relayed call in
# progress and kept its relay reservation in the store, and a restart on
# its store finds both AoRs registered and the call's relay ports back
# (media across the restart: relaykeep.sh).
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

# relay ports of its own: the restart binds the call's again
RP=$(free_base 20) || fail "no free relay ports"
ph_start -o "store_path=$WORK/bindings.db" -o "relay_ports=$RP-$((RP + 19))"
timeout 20 python3 "$SIPP_DIR/sigterm.py" "$PH_IP" "$SIP_PORT" "$PH_PID" ||
	fail "sigterm.py"
wait "$PH_PID"
rc=$?
[ "$rc" = 0 ] || fail "pinholed exited $rc after SIGTERM, not 0"
grep -q 'call sigterm-1: media paused (pinholed stopped; its relay ports are kept in the store' \
	"$WORK/pinholed.log" || fail "no report of the call in progress"
echo "ok: exit 0; $(sed -n 's/.*\(call sigterm-1: media paused.*\)/\1/p' "$WORK/pinholed.log")"
mv "$WORK/pinholed.log" "$WORK/pinholed-1.log"

ph_start -o "store_path=$WORK/bindings.db" -o "relay_ports=$RP-$((RP + 19))"
grep -q 'lmdb): 2 AoRs, 2 bindings reloaded' "$WORK/pinholed.log" ||
	fail "the restart did not find carol and dave: $(grep 'store:' "$WORK/pinholed.log")"
echo "ok: carol and dave registered again after the restart"
grep -q 'call sigterm-1: relayed media resumed after the restart' "$WORK/pinholed.log" ||
	fail "the call in progress did not get its relay ports back"
echo "ok: $(sed -n 's/.*\(call sigterm-1: relayed media resumed.*\)/\1/p' "$WORK/pinholed.log")"
