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
MP=$(free_base 6) || fail "no free media ports"
mkdir "$WORK/sf"
for f in register_user.xml call_uas.xml call_uac.xml; do
	sed -e "s/\b41000\b/$MP/g" -e "s/\b41001\b/$((MP + 1))/g" \
	    -e "s/\b41002\b/$((MP + 2))/g" -e "s/\b41004\b/$((MP + 4))/g" \
		"$SIPP_DIR/$f" >"$WORK/sf/$f" || fail "cannot copy $f"
done
FLOOD=$SIPP_DIR/stunflood.py
SIPP_DIR=$WORK/sf
uas=$MP
for _ in 1 2 3 4 5; do
	[ "$uas" = "$MP" ] || break
	uas=$(free_base 1) || fail "no port for the callee"
done
[ "$uas" != "$MP" ] || fail "no port for the callee"
timeout 40 sipp -sf "$SIPP_DIR/call_uas.xml" -i 127.0.0.1 -p "$uas" -m 1 \
	-timeout 35s -nostdin -trace_err -error_file "$WORK/uas-err.log" \
	>"$WORK/uas.out" 2>&1 &
uas_pid=$!
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
