# Shared by floods_sip.sh and floods_tcp.sh: the legitimate phone that
# must still be served during each flood, and pinholed's memory.
# FLOOD_SCALE (default 1) multiplies each flood: make check-floods runs
# them at the sizes issue 14 measured.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
SF=$(cd "$SIPP_DIR" && pwd)	# absolute: SIPp runs in $WORK for its RTP file
FLOODS=$SF/floods.py
SCALE=${FLOOD_SCALE:-1}
LEGIT=127.0.0.3		# the phone's address; every flood comes from 127.0.0.2

# pinholed's own PID (PH_PID may be a libtool wrapper's): what holds its port
ph_pid() { ss -Hlunp "sport = :$SIP_PORT" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(ph_pid)/status"; }

# flood_bg NAME ARGS...: floods.py ARGS in the background (FLOOD_PID)
flood_bg() {
	n=$1; shift
	timeout 300 python3 "$FLOODS" "$@" >"$WORK/flood-$n.out" 2>&1 &
	FLOOD_PID=$!
}
flood_wait() { wait "$FLOOD_PID"; echo "  $(cat "$WORK/flood-$1.out")"; }

# legit_call NAME [TRANSPORT]: during a flood, carol registers from
# 127.0.0.3 (over TRANSPORT, default udp, which is how she is then called
# back: over udp) and a caller there calls her through pinholed's relay
# with 2 s of RTP each way. Fails unless the call is answered and the
# relay carried at least 50 packets each way (its call report).
legit_call() {
	name=$1 tr=${2:-u1}
	head -c 16000 /dev/zero | tr '\0' '\377' >"$WORK/pinhole-rtp.pcmu" # 2 s of PCMU
	uas=$(free_base 1) && mp=$(free_base 2) && up=$(free_base 1) && ump=$(free_base 2) ||
		fail "$name: no free ports"
	if [ "$tr" != u1 ]; then
		timeout 20 sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/plain_reg.xml" -key user dave \
			-t "$tr" -i "$LEGIT" -p "$(free_base 1)" -m 1 -timeout 10s -nostdin \
			>"$WORK/legit-tcpreg.out" 2>&1 ||
			fail "$name: the phone at $LEGIT did not register over TCP"
	fi
	timeout 20 sipp "127.0.0.1:$SIP_PORT" -sf "$SIPP_DIR/plain_reg.xml" -key user carol \
		-i "$LEGIT" -p "$uas" -m 1 -timeout 10s -nostdin >"$WORK/legit-reg.out" 2>&1 ||
		fail "$name: the phone at $LEGIT did not register"
	(cd "$WORK" && exec timeout 30 sipp -sf "$SF/plain_uas_rtp.xml" -key user carol \
		-i "$LEGIT" -p "$uas" -mp "$mp" -m 1 -timeout 20s -nostdin -trace_err \
		-error_file "$WORK/legit-uas.err" >"$WORK/legit-uas.out" 2>&1) &
	legit_uas=$!
	sleep 0.3
	before=$(grep -ac ': media ended (BYE) ' "$WORK/pinholed.log")
	(cd "$WORK" && exec timeout 25 sipp "127.0.0.1:$SIP_PORT" -sf "$SF/plain_uac_rtp.xml" \
		-key user carol -i "$LEGIT" -p "$up" -mp "$ump" -m 1 -timeout 20s -nostdin \
		-trace_err -error_file "$WORK/legit-uac.err" >"$WORK/legit-uac.out" 2>&1) || {
		tail -5 "$WORK/legit-uac.err" 2>/dev/null
		fail "$name: the call from $LEGIT was not answered through the relay"
	}
	wait "$legit_uas" || fail "$name: the callee's side failed"
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ "$(grep -ac ': media ended (BYE) ' "$WORK/pinholed.log")" -gt "$before" ] && break
		sleep 0.2
	done
	line=$(grep -a ': media ended (BYE) .*; route relay; ' "$WORK/pinholed.log" | tail -1)
	rx=$(echo "$line" | sed -n 's/.*relay received \([0-9]*\) from the caller, \([0-9]*\) from the callee.*/\1 \2/p')
	set -- $rx
	[ "${1:-0}" -ge 50 ] && [ "${2:-0}" -ge 50 ] ||
		fail "$name: the relay did not carry the call's audio: ${line:-no report}"
	echo "ok: $name: a phone at $LEGIT registered and its relayed call carried $1/$2 RTP packets"
}
