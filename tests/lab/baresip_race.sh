#!/bin/sh
# The opener sends nothing toward its peer before its hop-limited null
# packet (PROTOCOL.md section 4), with baresip and the module, over many
# calls: two baresip phones with the module, behind natopen x natopen
# (where an early full-TTL packet takes the peer's port and the call falls
# back to the relay), alice calls bob again and again over ctrl_tcp; bob,
# the callee, opens. An nftables table in each host's own namespace
# (output hook, before its router) counts, per call, the UDP datagrams to
# the peer's public address: those with TTL <= 2 (the null packet, which
# marks its socket as opened), and those from a socket not yet opened
# ("early"). Every call must have: a null packet from bob and no early
# datagram at any host that sent one, route direct, no move to the relay,
# >= 50 RTP datagrams in at each host, and in each phone's log no stream
# connected (baresip's "stream: mnat ... connected") before the module
# said the stream's part.
#
# The packet race is rare with auto-answer (the module connected the
# callee's stream to the SDP address before it had read a=fw-punch, and
# audio sometimes left first: none in 50 calls here); its cause, the early
# connection, shows in every such call's log. The calls answered by hand,
# some time after ringing, make the packet itself certain: the
# instruction is read only when the callee answers.
#
#   LAB_RACE_CALLS    calls answered at once (answermode=auto); default 5,
#                     `make check-race` runs 50
#   LAB_RACE_HAND     calls bob answers by hand, LAB_RACE_ANSWER_MS (default
#                     300) after it rings; default 2
#   LAB_RACE_SECONDS  the whole run's bound; default 20 + 8 per call
#   LAB_RACE_KEEP     a directory to copy the logs to at the end
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v baresip >/dev/null || lab_skip "baresip not installed"
command -v python3 >/dev/null || lab_skip "python3 not installed (ctrl_tcp client)"
lab_module

num() { # VAR DEFAULT: a whole number from the environment
	local v
	eval "v=\${$1:-$2}"
	case $v in
	''|*[!0-9]*) echo "FAIL: $1=$v: want a whole number" >&2; return 1 ;;
	esac
	echo "$v"
}
CALLS=$(num LAB_RACE_CALLS 5) && HAND=$(num LAB_RACE_HAND 2) &&
	ANSWER_MS=$(num LAB_RACE_ANSWER_MS 300) || exit 1
SECONDS_MAX=$(num LAB_RACE_SECONDS $((20 + 8 * (CALLS + HAND)))) || exit 1
[ $((CALLS + HAND)) -gt 0 ] || { echo "FAIL: no calls to make"; exit 1; }
START=$(date +%s)
HOPS=2 # natopen (tests/lab/probe.sh)

# phone X USER ANSWERMODE: baresip's config for host X from conf/baresip,
# with ctrl_tcp on the host's loopback
phone() {
	local d=$LAB_DIR/$2
	lab_baresip_config "$1" "$d" "$LAB_SRV_IP:3478"
	printf 'module_app\t\tctrl_tcp.so\nctrl_tcp_listen\t\t127.0.0.1:4444\n' >>"$d/config"
	sed -e "s|alice@[^>]*|$2@$LAB_SRV_IP:5060|" -e "s|answermode=auto|answermode=$3|" \
		"$top_srcdir/conf/baresip/accounts" | grep -v '^#' >"$d/accounts"
}

ctl() { lab_baresip_ctl "$@"; }

# capture X PEER: in host X's namespace, before its router: datagrams to
# PEER (the other side's public address); the null packet (TTL <= HOPS)
# marks its socket opened; "early" counts the datagrams from a socket not
# yet opened. Also RTP in, as tests/lab/baresip.sh counts it.
capture() {
	lab_exec "$1" nft -f - <<NFT
table inet race {
	set opened { type ipv4_addr . inet_service; size 1024; flags dynamic; }
	counter out { }
	counter null { }
	counter early { }
	counter rtp_in { }
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr $2 meta l4proto udp jump topeer
	}
	chain topeer {
		counter name "out"
		ip ttl <= $HOPS add @opened { ip saddr . udp sport } counter name "null" return
		ip saddr . udp sport != @opened counter name "early"
	}
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport 20000-20999 counter name "rtp_in"
	}
}
NFT
}
counter() { lab_exec "$1" nft list counter inet race "$2" | awk '/packets/ { print $2 }'; }
capture_reset() {
	lab_exec "$1" nft reset counters table inet race >/dev/null &&
		lab_exec "$1" nft flush set inet race opened
}

# early_connect FILE FROM: "yes" when, after line FROM of a phone's log,
# baresip's stream was connected (the module's connh) before the module
# said its part ("pinhole: open: media to ...", or no a=fw-punch): the
# cause of the race, in every call where it happens, whichever packet wins
early_connect() {
	awk -v from="$2" 'NR > from && /stream: mnat .* connected/ && !part { e = 1 }
		NR > from && /pinhole: [a-z]*: media to|pinhole: no a=fw-punch/ { part = 1 }
		END { print e ? "yes" : "no" }' "$1"
}

count() { # FILE PATTERN: how many lines match
	local n
	n=$(grep -c -- "$2" "$1" 2>/dev/null)
	echo "${n:-0}"
}

# wait_more SECONDS FILE PATTERN N: until FILE has more than N lines
# matching PATTERN
wait_more() {
	local i
	for i in $(seq 1 $(($1 * 20))); do
		[ "$(count "$2" "$3")" -gt "$4" ] && return 0
		sleep 0.05
	done
	echo "(no new '$3' in $(basename "$2") within $1 s)"
	return 1
}

lab_up natopen natopen || { echo "FAIL: lab natopen x natopen"; exit 1; }
capture a "$LAB_B_PUBLIC" && capture b "$LAB_A_PUBLIC" || { echo "FAIL: nft capture"; exit 1; }
lab_start_pinholed -o log_level=debug || exit 1
phone b bob auto && phone a alice auto
mkdir -p "$LAB_DIR/bob-hand" && cp -r "$LAB_DIR/bob/." "$LAB_DIR/bob-hand/" &&
	sed -i 's|answermode=auto|answermode=manual|' "$LAB_DIR/bob-hand/accounts"

# stop X PID: baresip quits (ctrl_tcp), or is stopped as lab_down does
stop() {
	ctl "$1" quit 2>/dev/null
	for _ in $(seq 1 30); do kill -0 "$2" 2>/dev/null || return 0; sleep 0.1; done
	kill "$2" 2>/dev/null; sleep 1; kill -9 "$2" 2>/dev/null
}

# start_bob DIR: bob's baresip (answering at once, or by hand)
start_bob() {
	local n
	[ -z "${BOB_PID:-}" ] || stop b "$BOB_PID"
	n=$(count "$LAB_DIR/pinholed.log" "REGISTER bob@[^ ]* from [^ ]*: 200")
	lab_bg b "$LAB_DIR/bob.log" baresip -f "$1"
	BOB_PID=$LAB_LAST_PID
	wait_more 10 "$LAB_DIR/pinholed.log" "REGISTER bob@[^ ]* from [^ ]*: 200" "$n"
}

fails=0 calls=0 early_total=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
explain() {
	for w in alice bob; do
		grep -a 'pinhole:\|stream: mnat\|call:' "$LAB_DIR/$w.log" | tail -15 | sed "s/^/  $w: /" | cut -c1-160
	done
	grep ' call ' "$LAB_DIR/pinholed.log" | tail -2 | sed 's/^/  pinholed: /' | cut -c1-300
}

# one_call N HOW: alice dials bob; bob answers (HOW auto: at once; hand:
# ANSWER_MS after ringing); 2.5 s of audio (past the 2 s fall back); hang up
one_call() {
	local n0e n0c n0r n0i ra rb na nb ea eb oa ob route fell la lb ca cb
	capture_reset a && capture_reset b || { bad "call $1: nft reset"; return; }
	n0e=$(count "$LAB_DIR/alice.log" 'Call established')
	n0c=$(count "$LAB_DIR/bob.log" 'session closed')
	n0r=$(count "$LAB_DIR/pinholed.log" ' route ')
	n0i=$(count "$LAB_DIR/bob.log" 'Incoming call')
	la=$(wc -l <"$LAB_DIR/alice.log") lb=$(wc -l <"$LAB_DIR/bob.log")
	fell=$(cat "$LAB_DIR/alice.log" "$LAB_DIR/bob.log" | count /dev/stdin 'moved to the relay')
	ctl a dial "bob@$LAB_SRV_IP" || { bad "call $1: dial"; return; }
	if [ "$2" = hand ]; then
		wait_more 5 "$LAB_DIR/bob.log" 'Incoming call' "$n0i" || { bad "call $1: bob did not ring"; explain; return; }
		sleep "$(awk "BEGIN { print $ANSWER_MS / 1000 }")"
		ctl b accept || bad "call $1: accept"
	fi
	wait_more 5 "$LAB_DIR/alice.log" 'Call established' "$n0e" || { bad "call $1: not established"; explain; return; }
	sleep 2.5
	ctl a hangup || bad "call $1: hangup"
	wait_more 5 "$LAB_DIR/bob.log" 'session closed' "$n0c" || bad "call $1: bob's call did not end"
	sleep 0.1
	na=$(counter a null) nb=$(counter b null) ea=$(counter a early) eb=$(counter b early)
	oa=$(counter a out) ob=$(counter b out) ra=$(counter a rtp_in) rb=$(counter b rtp_in)
	route=$(sed -n 's/.* call [^ ]*: 200; route \([a-z]*\) .*/\1/p' "$LAB_DIR/pinholed.log" | tail -1)
	[ "$(count "$LAB_DIR/pinholed.log" ' route ')" -gt "$n0r" ] || route="(none)"
	ca=$(early_connect "$LAB_DIR/alice.log" "$la") cb=$(early_connect "$LAB_DIR/bob.log" "$lb")
	fell=$(( $(cat "$LAB_DIR/alice.log" "$LAB_DIR/bob.log" | count /dev/stdin 'moved to the relay') - fell ))
	# a (the transmitter) sends no null packet: its "early" is its media
	[ "$na" -gt 0 ] || ea=-
	calls=$((calls + 1))
	echo "call $1 ($2): bob null $nb early $eb out $ob; alice null $na early $ea out $oa;" \
		"RTP in a $ra b $rb; route $route; moved to relay $fell;" \
		"connected before the part: bob $cb alice $ca"
	if [ "$nb" -gt 0 ] && [ "$eb" = 0 ] && { [ "$ea" = - ] || [ "$ea" = 0 ]; } &&
	   [ "$ca" = no ] && [ "$cb" = no ] &&
	   [ "$route" = direct ] && [ "$fell" = 0 ] && [ "$ra" -ge 50 ] && [ "$rb" -ge 50 ]; then
		return
	fi
	early_total=$((early_total + eb))
	[ "$ea" = - ] || early_total=$((early_total + ea))
	bad "call $1 ($2): want a null packet from bob and nothing toward the peer before it," \
		"no stream connected before its part was known, route direct, no move to the relay," \
		">= 50 RTP in each way"
	explain
}

phone_start_ok=1
start_bob "$LAB_DIR/bob" || phone_start_ok=0
lab_bg a "$LAB_DIR/alice.log" baresip -f "$LAB_DIR/alice"
ALICE_PID=$LAB_LAST_PID
lab_wait_for 10 "$LAB_DIR/pinholed.log" "REGISTER alice@[^ ]* from [^ ]*: 200" || phone_start_ok=0
[ "$phone_start_ok" = 1 ] || { echo "FAIL: the phones did not register"; explain; exit 1; }
i=0
while [ "$i" -lt $((CALLS + HAND)) ]; do
	i=$((i + 1))
	if [ $(($(date +%s) - START)) -ge "$SECONDS_MAX" ]; then
		bad "out of time ($SECONDS_MAX s) after $calls calls"; break
	fi
	if [ "$i" = $((CALLS + 1)) ]; then # the calls answered by hand
		start_bob "$LAB_DIR/bob-hand" || { bad "bob (answering by hand) did not register"; break; }
	fi
	if [ "$i" -le "$CALLS" ]; then one_call "$i" auto; else one_call "$i" hand; fi
done
stop a "$ALICE_PID"
stop b "$BOB_PID"
echo "$calls calls ($CALLS answered at once, $HAND by hand after $ANSWER_MS ms)" \
	"in $(($(date +%s) - START)) s: $fails failed, $early_total datagrams toward the peer before the null packet"
[ -n "${LAB_RACE_KEEP:-}" ] && cp -r "$LAB_DIR" "$LAB_RACE_KEEP"
[ "$fails" = 0 ]
