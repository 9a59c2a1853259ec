#!/bin/sh
# Plain phones (no plugin) through pinholed's relay, on loopback, with
# SIPp on both sides (their SDP names private addresses, so pinholed
# relays them; RTP through the relay: tests/lab/relay.sh):
#  - the answer and the offer each name a relay port (c=, m=, a=fw-punch);
#    a hold re-INVITE (a=sendonly) and its answer (a=recvonly) name the
#    same ports again and keep their direction attributes;
#  - with every relay port taken, a call is refused 503 naming it, and the
#    call holding them goes on.
. "${top_srcdir:-.}/tests/sipp/lib.sh"

uas_start() { # SCENARIO: the plain callee "carol", registered from its port
	uas=$(free_base 1) || fail "no port for the callee"
	timeout 20 sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/plain_reg.xml" -key user carol \
		-i 127.0.0.1 -p "$uas" -m 1 -timeout 10s -nostdin >/dev/null 2>&1 ||
		fail "carol did not register"
	(exec timeout 30 sipp -sf "$SIPP_DIR/$1" -key user carol -i 127.0.0.1 \
		-p "$uas" -mp "$(free_base 2)" -m 1 -timeout 20s -nostdin -trace_err \
		-error_file "$WORK/uas-err.log" -trace_msg -message_file "$WORK/uas-msg.log" \
		>"$WORK/uas.out" 2>&1) &
	uas_pid=$!
	sleep 0.3
}
uas_wait() {
	wait "$uas_pid" || { tail -20 "$WORK/uas-err.log"; fail "the callee's side failed"; }
}
# ports LOG SKIP: the m=audio ports in a SIPp message log, but SKIP
ports() { sed -n 's/^m=audio \([0-9]*\) .*/\1/p' "$1" | grep -vx "$2" | sort -u; }

ph_start
uas_start plain_hold_uas.xml
sipp_run plain_hold_uac.xml -key user carol
uas_wait
to_callee=$(ports "$WORK/uas-msg.log" 42002) to_caller=$(ports "$WORK/sipp-msg.log" 42000)
[ "$(echo "$to_callee" | wc -l)" = 1 ] && [ "$(echo "$to_caller" | wc -l)" = 1 ] ||
	fail "the re-INVITE moved the relay ports: callee saw '$to_callee', caller '$to_caller'"
[ "$to_callee" -ge 22000 ] && [ "$to_caller" -ge 22000 ] && [ "$to_callee" != "$to_caller" ] ||
	fail "not the relay's ports: $to_callee, $to_caller"
[ "$(tr -d '\r' <"$WORK/uas-msg.log" | grep -c "^a=fw-punch:relay 127.0.0.1 $to_callee\$")" = 2 ] || {
	grep -E '^(INVITE|SIP/2.0|c=|m=|a=)' "$WORK/uas-msg.log"
	fail "the callee was not told relay $to_callee twice"
}
grep -q '^a=sendonly' "$WORK/uas-msg.log" && grep -q '^a=recvonly' "$WORK/sipp-msg.log" ||
	fail "hold's direction attributes did not pass"
grep -q ': media ended (BYE) .*; route relay;' "$WORK/pinholed.log" ||
	fail "no report of the relayed call's end"
echo "ok: offer and answer at relay ports $to_callee and $to_caller, the same after hold"

# One stream's worth of ports: the first call takes them, the second is 503.
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null
ph_start -o relay_ports=52000-52003
uas_start plain_hold_uas.xml
sipp_run plain_hold_uac.xml -key user carol -d 3000 &
first=$!
sleep 1
sipp_run plain_503.xml -key user carol
wait "$first" || fail "the first call, which had the ports, failed"
uas_wait
grep -q 'no relay ports: Device or resource busy' "$WORK/pinholed.log" ||
	fail "the exhausted pool is not logged"
echo "ok: relay ports exhausted: 503 with a reason, the first call unharmed"
