#!/bin/sh
# A relayed call's media goes on across restarts of pinholed on the same
# store (store = file; PROTOCOL.md section 6): relaykeep.py holds a call
# with RTP both ways through the relay; pinholed is killed with -9, then
# stopped with SIGTERM, each time started again on the same store file
# and relay ports, and the media must flow again both ways through the
# same relay ports within 2 s. route_secret is set, as for any dialog kept
# across a restart: the BYE at the end is routed.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"

# relay ports of this test's own: another test taking them between the
# kill and the restart would make the call's ports fail to bind
RP=$(free_base 40) || fail "no free relay ports"
KEEP="-o store_path=$WORK/keep.db -o relay_ports=$RP-$((RP + 39)) \
	-o route_secret=relaykeep-test-secret-0123456789"
# shellcheck disable=SC2086
ph_start $KEEP
# the restarts on the same SIP and STUN ports too: the dialog's route
# names them
KEEP="$KEEP -o sip_port=$SIP_PORT -o stun_port=$STUN_PORT"
timeout 40 python3 "$SIPP_DIR/relaykeep.py" "$PH_IP" "$SIP_PORT" "$WORK" 2 &
PY=$!

# wait_for FILE: relaykeep.py asks for the next restart (at most 15 s)
wait_for() {
	for _ in $(seq 1 150); do
		[ -e "$1" ] && return 0
		kill -0 "$PY" 2>/dev/null || { wait "$PY"; fail "relaykeep.py"; }
		sleep 0.1
	done
	fail "relaykeep.py never asked for $1"
}

wait_for "$WORK/restart-1"
kill -9 "$PH_PID"; wait "$PH_PID" 2>/dev/null
mv "$WORK/pinholed.log" "$WORK/pinholed-1.log"
# shellcheck disable=SC2086
ph_start $KEEP
touch "$WORK/restarted-1"

wait_for "$WORK/restart-2"
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null
grep -q 'call relaykeep-1: media paused (pinholed stopped; its relay ports are kept' \
	"$WORK/pinholed.log" || fail "no report of the call kept at SIGTERM"
mv "$WORK/pinholed.log" "$WORK/pinholed-2.log"
# shellcheck disable=SC2086
ph_start $KEEP
touch "$WORK/restarted-2"

wait "$PY" || fail "relaykeep.py"
for log in pinholed-2.log pinholed.log; do
	grep -q 'call relaykeep-1: relayed media resumed after the restart' \
		"$WORK/$log" || fail "no log of the call resumed in $log"
done
grep -q 'call relaykeep-1: media ended (BYE) .*; route relay; media took relay' \
	"$WORK/pinholed.log" || fail "no report of the call's end after the restarts"
echo "ok: $(sed -n 's/.*\(call relaykeep-1: media ended.*\)/\1/p' "$WORK/pinholed.log")"
