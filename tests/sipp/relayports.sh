#!/bin/sh
# The relay's ports and the kernel's ephemeral ones (PROTOCOL.md section
# 1, pinholed.conf relay_ports): by default pinholed's in-process relay
# and pinhole-relayd take ports below net.ipv4.ip_local_port_range, and a
# range that overlaps it is warned about at start; one outside it is not.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
RELAYD=$top_builddir/media/relay/pinhole-relayd
RANGE=/proc/sys/net/ipv4/ip_local_port_range
SIPCHECK_ARGS=-e	# pinholed sends no SIP here
[ -r "$RANGE" ] || skip "no $RANGE"
read -r LO HI <"$RANGE"
[ "$HI" -ge $((LO + 200)) ] || skip "ephemeral range $LO-$HI too small to test in"
[ "$LO" -gt 31999 ] || echo "note: this host's ephemeral ports $LO-$HI reach the default"

# the default, with SIP and STUN ports outside it (pinholed refuses an overlap)
P=$(free_base 12) || fail "no free ports"
[ $((P + 11)) -lt 22000 ] || fail "free_base gave $P, not below 22000-31999"
"$PINHOLED" -f -o listen=127.0.0.1 -o "sip_port=$P" -o "stun_port=$((P + 2))" \
	-o "store_path=$WORK/d.db" >"$WORK/default.log" 2>&1 &
pid=$!
PH_PIDS="$PH_PIDS $pid" # stopped by the cleanup if the test ends here
for _ in $(seq 1 50); do
	grep -q ' ready: ' "$WORK/default.log" && break; sleep 0.1
done
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
grep -q 'info: relay: ports 22000-31999,' "$WORK/default.log" ||
	fail "default relay_ports not 22000-31999: $(grep 'relay' "$WORK/default.log")"
if [ "$LO" -gt 31999 ]; then
	grep -q 'ephemeral' "$WORK/default.log" &&
		fail "the default range warned about: $(grep ephemeral "$WORK/default.log")"
fi
"$RELAYD" --help | grep -q 'default 22000-31999' || fail "pinhole-relayd --help: not 22000-31999"

# a range at the top of the ephemeral one: said so, with both ranges
R="$((HI - 99))-$HI"
ph_start -o "relay_ports=$R"
grep -q "warning: relay: relay_ports $R overlap the kernel's ephemeral ports $LO-$HI ($RANGE)" \
	"$WORK/pinholed.log" || fail "no warning for relay_ports=$R inside $LO-$HI"
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null; PH_PID=

# one below it: not
if [ "$LO" -gt 1200 ]; then
	ph_start -o "relay_ports=$((LO - 100))-$((LO - 1))"
	grep -q 'ephemeral' "$WORK/pinholed.log" && fail "a range below $LO warned about"
fi

# pinhole-relayd says the same
RP=$(free_base 1) || fail "no free port"
timeout 5 "$RELAYD" -l "127.0.0.1:$RP" -p "$R" >"$WORK/relayd.log" 2>&1 &
rpid=$!
for _ in $(seq 1 30); do
	grep -q 'ready' "$WORK/relayd.log" && break; sleep 0.1
done
kill "$rpid" 2>/dev/null; wait "$rpid" 2>/dev/null
grep -q "warning: ports $R overlap $LO-$HI, the kernel's ephemeral ports" "$WORK/relayd.log" ||
	fail "pinhole-relayd: no warning for $R: $(cat "$WORK/relayd.log")"
echo "ok: relay ports default 22000-31999, overlaps with $LO-$HI warned about"
