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

# Stopped again (the call paused once more), and one of its ports taken
# meanwhile by another program: the next start says so and drops the
# call's reservation, and the one after finds no record of it.
port=$(sed -n 's/.*call sigterm-1: relayed media resumed.* relay [0-9.]*:\([0-9]*\) .*/\1/p' "$WORK/pinholed.log")
[ -n "$port" ] || fail "no relay port in the log of the resumed call"
kill "$PH_PID"; wait "$PH_PID"
grep -q 'call sigterm-1: media paused' "$WORK/pinholed.log" ||
	fail "the resumed call was not kept at the second SIGTERM"
mv "$WORK/pinholed.log" "$WORK/pinholed-2.log"
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(8)' "$port" &
holder=$!
sleep 0.3
ph_start -o "store_path=$WORK/bindings.db" -o "relay_ports=$RP-$((RP + 19))"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
grep -q "call sigterm-1: relay ports $port and [0-9]* cannot be bound again: Address already in use" \
	"$WORK/pinholed.log" && grep -q 'call sigterm-1: its relay reservation from before the restart is dropped: its ports are taken' \
	"$WORK/pinholed.log" || fail "a call whose port was taken was not dropped with a log line"
echo "ok: $(sed -n 's/.*\(call sigterm-1: relay ports.*\)/\1/p' "$WORK/pinholed.log")"
kill "$PH_PID"; wait "$PH_PID"
mv "$WORK/pinholed.log" "$WORK/pinholed-3.log"
ph_start -o "store_path=$WORK/bindings.db" -o "relay_ports=$RP-$((RP + 19))"
! grep -q 'call sigterm-1' "$WORK/pinholed.log" ||
	fail "the dropped reservation came back: $(grep 'call sigterm-1' "$WORK/pinholed.log")"
echo "ok: the dropped reservation is gone from the store"
