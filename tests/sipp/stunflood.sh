#!/bin/sh
# A flood of 70,000 spoofed STUN sources from one network (127.0.2.0/24,
# stunflood.py) right after two phones showed their windows to pinholed's
# STUN service: the windows stay in the STUN memory (each network holds at
# most stun_memory_per_prefix of it) and the call still goes direct. On
# the memory before the per-network share, the flood pushed both windows
# out and the call was relayed (issue 14).
. "${top_srcdir:-.}/tests/sipp/lib.sh"
NC=$top_builddir/tests/sipp/netcheck
command -v python3 >/dev/null 2>&1 || skip "needs python3"
python3 -c 'import socket; socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)' \
	2>/dev/null || skip "needs a raw socket (CAP_NET_RAW) to spoof sources"

ph_start
# call.sh's scenarios, at free media ports (call.sh says why)
FLOOD=$SIPP_DIR/stunflood.py
call_scenarios register_user.xml call_uas.xml call_uac.xml
callee_start 35
sipp_run register_user.xml -key user bob -key uas "$uas"
for p in "$MP" $((MP + 2)); do
	"$NC" stun -l "$p" 127.0.0.1 "$STUN_PORT" >/dev/null || fail "no STUN answer for $p"
done

timeout 20 python3 "$FLOOD" 127.0.0.1 "$STUN_PORT" 127.0.2 70000 || fail "stunflood.py"
# every request of the flood answered (and so remembered) before the call
for _ in $(seq 1 50); do
	kill -USR1 "$PH_PID"
	sleep 0.2
	grep -q 'stats: .* stun: [0-9]* requests, 7[0-9][0-9][0-9][0-9] answers' \
		"$WORK/pinholed.log" && break
done
grep 'stats: ' "$WORK/pinholed.log" | tail -1 | grep -q ' 7[0-9][0-9][0-9][0-9] answers' ||
	fail "pinholed did not answer the flood: $(grep 'stats: ' "$WORK/pinholed.log" | tail -1)"
echo "ok: $(grep 'stats: ' "$WORK/pinholed.log" | tail -1 | sed 's/.*stun: //')"

sipp_run call_uac.xml
wait "$uas_pid" || { cat "$WORK/uas-err.log"; fail "the callee's side of the call failed"; }
grep -q "call .*: 200; route direct (both keep their windows" "$WORK/pinholed.log" ||
	fail "the call did not go direct: $(grep ' call ' "$WORK/pinholed.log" | tail -2)"
echo "ok: after the flood, both windows still count: the call went direct"
