#!/bin/sh
# Debian's linphonec (linphone-cli 5.1) as a plain phone in the NAT lab:
# pinhole phones call it and it calls them, and audio must flow both ways.
# The pinhole phone sits on side A, linphonec on side B; each pair A:B runs
# four calls: pinhole-call -> linphonec and linphonec -> pinhole-call,
# with linphonec plain (no ICE, no STUN) and with ICE and STUN (pinholed's
# STUN service). Then baresip with the module against linphonec for a
# sample of pairs, the same four calls; then two linphonecs with ICE,
# one behind a symmetric NAT and one behind a filtering NAT, and the same
# two plain.
#
# Audio is measured, not assumed: pinhole-call counts what it receives
# (its JSON report); at linphonec's and baresip's hosts an nftables counter
# in the namespace counts RTP in and out (UDP to or from the RTP port whose
# payload starts with version 2 and is not RTCP: ICE checks and STUN
# keepalives do not count). Each case wants >= 50 RTP packets each way
# (3 s of audio is 150), and prints pinholed's call report line; one that
# fails also shows what linphonec said (call connected or not), the SDP it
# saw and the phones' own lines, so a harness fault shows as one.
#
# Why side A is `nat` by default: it is where a pinhole phone usually
# sits, and it filters by address and port, so media gets in only where
# pinholed's decision made the pinhole phone open toward the right
# address. Against every kind on linphonec's side that covers both of the
# issue's defects: a plain linphonec behind a NAT re-registers with its
# NAT's public address in Contact while its SDP says 10.0.x.y; with ICE
# its c= is the STUN-learned address, which no one opens toward.
#
# Environment (unset or empty: the default; with PH_REQUIRE_ALL set, any
# narrowing fails the test):
#   LINPHONE_PAIRS      pinhole-call side:linphonec side (default nat:KIND
#                       for every kind, about 3 minutes; all: every kind
#                       against every kind, about 15 minutes)
#   LINPHONE_BARESIP_PAIRS  the same for baresip with the module (default
#                       nat:nat nat:sym; all: nat:KIND; none: no baresip)
#   LINPHONE_LL_PAIRS   linphonec side a:linphonec side b (default sym:nat
#                       nat:sym; none: no linphonec x linphonec calls)
#   LINPHONE_LOGS=DIR   keep each case's logs (linphonec's debug log,
#                       pinholed's, the phones') in DIR/CASE
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v linphonec >/dev/null || lab_skip "linphonec not installed (Debian: linphone-cli)"
PC=$top_builddir/plugin/pinhole-call
MOD=$top_builddir/plugin/baresip/.libs/pinhole.so
KINDS="open fw nat natopen sym"
MIN=50 # RTP packets each way
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# pairs VAR DEFAULT ALL: lab_list, where "none" is an empty list
pairs() {
	local l
	l=$(lab_list "$@") || return 1
	[ "$l" = none ] || echo "$l"
}

# An 8 kHz sine for linphonec's file mode (it has no sound card here): it
# must send audio, not silence it might suppress.
python3 -c 'import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 2 * math.pi * 440 / 8000))) for i in range(160000)))' \
	"$LAB_DIR/sine8k.wav" || { echo "FAIL: no python3 to make the test tone"; exit 1; }

# count_rtp HOST PORTS: counters of RTP to and from PORTS at HOST
count_rtp() {
	lab_exec "$1" nft -f - <<NFT
table inet count {
	counter rtp_in { }
	counter rtp_out { }
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport $2 @th,64,2 2 @th,72,8 != 200-204 counter name "rtp_in"
	}
	chain output {
		type filter hook output priority 0; policy accept;
		udp sport $2 @th,64,2 2 @th,72,8 != 200-204 counter name "rtp_out"
	}
}
NFT
}
rtp_count() { # HOST in|out
	lab_exec "$1" nft list counter inet count "rtp_$2" | awk '/packets/ { print $2 }'
}

# linphone X USER ICE: linphonec in host X, registering USER with pinholed
# and answering calls itself (-a); its own HOME and rc file in
# $LAB_DIR/USER, so no case shares state with another or with the user's.
# ICE 1: ICE with pinholed's STUN service. It reads commands (lin_cmd)
# from a FIFO that a bounded sleep holds open, so it never sees EOF before
# lin_stop; its debug log goes to $LAB_DIR/USER/debug.log.
linphone() {
	local x=$1 user=$2 ice=$3 d=$LAB_DIR/$2 ip
	ip=$(eval echo "\$LAB_$(echo "$1" | tr a-z A-Z)_IP")
	rm -rf "$d" # a new phone each case
	# without this directory its core never starts, and every INVITE gets 503
	mkdir -p "$d/home/.local/share/linphone" || return 1
	cat >"$d/rc" <<RC
[sip]
sip_port=5060
sip_tcp_port=-1
sip_tls_port=-1
contact="$user" <sip:$user@$ip>
inc_timeout=30
register_only_when_network_is_up=0
[rtp]
audio_rtp_port=7078
video_rtp_port=9078
[video]
capture=0
display=0
automatically_initiate=0
automatically_accept=0
[proxy_0]
reg_proxy=<sip:$LAB_SRV_IP:5060;transport=udp>
reg_identity="$user" <sip:$user@$LAB_SRV_IP>
reg_expires=3600
reg_sendregister=1
publish=0
RC
	if [ "$ice" = 1 ]; then
		cat >>"$d/rc" <<RC
[net]
nat_policy_ref=lab
[nat_policy_0]
ref=lab
stun_server=$LAB_SRV_IP:3478
protocols=stun,ice
RC
	fi
	count_rtp "$x" 7078 || return 1
	mkfifo "$d/cmd" || return 1
	# not lab_bg: linphonec reads the FIFO, not /dev/null
	ip netns exec "$LAB$x" env HOME="$d/home" linphonec -c "$d/rc" -a -d 6 -l "$d/debug.log" \
		<"$d/cmd" >"$d/out" 2>&1 &
	LAB_PIDS="$LAB_PIDS $!"
	sleep 120 >"$d/cmd" &
	LAB_PIDS="$LAB_PIDS $!"
	echo $! >"$d/holder"
	# no sound card in the lab: audio from files, playing the sine
	lin_cmd "$user" "soundcard use files" &&
	lin_cmd "$user" "play $LAB_DIR/sine8k.wav"
}
lin_cmd() { # USER COMMAND: within 3 s (a linphonec that died reads nothing)
	timeout 3 sh -c 'echo "$1" >"$2"' sh "$2" "$LAB_DIR/$1/cmd" ||
		{ echo "(linphonec $1 took no command '$2')"; return 1; }
}
lin_stop() { # USER
	lin_cmd "$1" quit
	kill "$(cat "$LAB_DIR/$1/holder")" 2>/dev/null
}

# lin_wait_registered USER: linphonec says its account is registered
# (after its second REGISTER, with the Contact from received/rport)
lin_wait_registered() {
	lab_wait_for 10 "$LAB_DIR/$1/debug.log" 'to \[LinphoneRegistrationOk\]' ||
		{ bad "$name: linphonec $1 did not register"; return 1; }
}

# lin_call USER TO: USER calls TO@pinholed, 4 s of the call from the 2xx
# (the pinhole phone's 3 s of media and some), then hangs up
lin_call() {
	lin_cmd "$1" "call sip:$2@$LAB_SRV_IP" &&
		lab_wait_for 10 "$LAB_DIR/$1/out" ' connected' && sleep 4
	lin_cmd "$1" terminate
}

# report NAME DESC_A IN_A OUT_A DESC_B IN_B OUT_B: the verdict of one case,
# from RTP counted in and out at the phone on side A and on side B
report() {
	local line route
	line=$(grep ' call [^ ]*: [0-9]*; route ' "$LAB_DIR/pinholed.log" | tail -1)
	route=$(echo "$line" | sed -n 's/.*: 200; route \([a-z]*\) \(([^)]*)\).*/\1 \2/p')
	if [ -z "$route" ]; then
		bad "$1: the call was not answered (pinholed: ${line:-no call report})"
		explain; return
	fi
	if [ "${3:-0}" -ge $MIN ] && [ "${6:-0}" -ge $MIN ]; then
		echo "ok: $1: $route; RTP in at $2 $3 (sent ${4:-0}), at $5 $6 (sent ${7:-0})"
	else
		bad "$1: want >= $MIN RTP packets each way: $2 got ${3:-0} (sent ${4:-0})," \
			"$5 got ${6:-0} (sent ${7:-0}); $route"
		# not a verdict on the route, but worth telling apart
		[ "${4:-0}" -ge $MIN ] && [ "${7:-0}" -ge $MIN ] ||
			echo "  (a phone sent fewer than $MIN: the call ended early, or its audio never started)"
		explain
	fi
	echo "  pinholed: $(echo "$line" | cut -d' ' -f3-)"
	grep ' call [^ ]*: media ended' "$LAB_DIR/pinholed.log" | tail -1 | cut -d' ' -f3- |
		sed 's/^/  pinholed: /'
}

explain() {
	local d
	for d in "$LAB_DIR"/lin*; do
		[ -f "$d/out" ] || continue
		grep -a 'connected\|established\|ended\|error\|Error\|failed' "$d/out" |
			grep -v soundcard | sed "s|^|  linphonec $(basename "$d"): |" | cut -c1-200
		grep -a '^c=\|^m=audio\|^a=candidate' "$d/debug.log" | sort | uniq -c |
			sed "s|^|  SDP seen by linphonec $(basename "$d"): |" | cut -c1-200
	done
	[ -f "$LAB_DIR/pc.out" ] && sed '$d' "$LAB_DIR/pc.out" | tail -6 | sed 's/^/  /'
	[ -f "$LAB_DIR/bs/out" ] && grep -a 'pinhole:\|call:\|session closed' "$LAB_DIR/bs/out" |
		sed 's/^/  baresip: /' | cut -c1-200
	return 0
}

# keep_logs CASE: with LINPHONE_LOGS=DIR, the case's logs in DIR/CASE
keep_logs() {
	[ -n "${LINPHONE_LOGS:-}" ] || return 0
	mkdir -p "$LINPHONE_LOGS/$1" &&
		cp -r "$LAB_DIR"/*.log "$LAB_DIR"/pc.out "$LAB_DIR"/lin* "$LAB_DIR/bs" \
			"$LINPHONE_LOGS/$1/" 2>/dev/null
	return 0
}

# new_case NAME: a clean slate in $LAB_DIR and pinholed started
new_case() {
	name=$1
	rm -rf "$LAB_DIR"/lin* "$LAB_DIR/bs" "$LAB_DIR/pc.out"
	lab_start_pinholed -o log_level=debug || { bad "$name: pinholed did not start"; return 1; }
}

# pc_lin ICE DIR: pinhole-call at a, linphonec at b. DIR to: pinhole-call
# calls linphonec; from: linphonec calls pinhole-call
pc_lin() {
	local pc A
	linphone b lin "$1" || { bad "$name: linphonec did not start"; return; }
	if [ "$2" = to ]; then
		lin_wait_registered lin || { lin_stop lin; return; }
		lab_bg a "$LAB_DIR/pc.out" "$PC" -r "$LAB_SRV_IP" -u alice --call lin -t 20 -d 3 -v
		pc=$LAB_LAST_PID
	else
		lab_bg a "$LAB_DIR/pc.out" "$PC" -r "$LAB_SRV_IP" -u alice --answer -t 25 -d 3 -v
		pc=$LAB_LAST_PID
		lin_wait_registered lin && lab_wait_pc_registered "$LAB_DIR/pc.out" &&
			lin_call lin alice
	fi
	# it hangs up 3.5 s after the 2xx, or leaves on linphonec's BYE;
	# its -t bounds this
	wait "$pc"
	lin_stop lin
	A=$(tail -1 "$LAB_DIR/pc.out")
	report "$name" pinhole-call "$(lab_field "$A" received)" "$(lab_field "$A" sent)" \
		linphonec "$(rtp_count b in)" "$(rtp_count b out)"
	echo "  pinhole-call: $A"
}

# baresip_phone USER: baresip with the module at host a in $LAB_DIR/bs,
# from conf/baresip as baresip.sh runs it (opus from ausine), answering
# calls itself
baresip_phone() {
	local d=$LAB_DIR/bs m
	mkdir -p "$d/modules" || return 1
	for m in /usr/lib/baresip/modules/*.so; do ln -sf "$m" "$d/modules/"; done
	ln -sf "$(cd "$(dirname "$MOD")" && pwd)/pinhole.so" "$d/modules/pinhole.so"
	sed -e "s|^sip_listen.*|sip_listen		$LAB_A_IP:5060|" \
	    -e "s|^net_interface.*|net_interface		$LAB_A_IP|" \
	    -e "s|^module_path.*|module_path		$d/modules|" \
	    -e "s|^pinhole_server.*|pinhole_server		$LAB_SRV_IP:3478|" \
	    "$top_srcdir/conf/baresip/config" >"$d/config"
	sed -e "s|alice@[^>]*|$1@$LAB_SRV_IP:5060|" "$top_srcdir/conf/baresip/accounts" |
		grep -v '^#' >"$d/accounts"
	count_rtp a 20000-20999
}

# bs_lin ICE DIR: as pc_lin, with baresip (module) at host a
bs_lin() {
	baresip_phone bs || { bad "$name: no baresip config"; return; }
	linphone b lin "$1" || { bad "$name: linphonec did not start"; return; }
	if [ "$2" = to ]; then
		lin_wait_registered lin || { lin_stop lin; return; }
		# about 2 s to measure its firewall and register, then the call
		# until it hangs up at its -t 7. Not waited for: with the module,
		# baresip 1.0.0 does not always exit after hanging up (lab_down
		# stops it)
		lab_bg a "$LAB_DIR/bs/out" baresip -f "$LAB_DIR/bs" -t 7 -e "/dial lin@$LAB_SRV_IP"
		sleep 8
	else
		lab_bg a "$LAB_DIR/bs/out" baresip -f "$LAB_DIR/bs" -t 16
		lin_wait_registered lin && lab_wait_registered bs 10 && lin_call lin bs
		sleep 0.5
	fi
	lin_stop lin
	report "$name" baresip "$(rtp_count a in)" "$(rtp_count a out)" \
		linphonec "$(rtp_count b in)" "$(rtp_count b out)"
}

# lin_lin ICE: linphonec at a calls linphonec at b
lin_lin() {
	linphone a lina "$1" && linphone b linb "$1" ||
		{ bad "$name: linphonec did not start"; return; }
	lin_wait_registered lina && lin_wait_registered linb && lin_call lina linb
	sleep 0.5
	lin_stop lina; lin_stop linb
	report "$name" "linphonec a" "$(rtp_count a in)" "$(rtp_count a out)" \
		"linphonec b" "$(rtp_count b in)" "$(rtp_count b out)"
}

# run FUNC PAIRS NAME_TO NAME_FROM: FUNC ICE DIR for each pair, ICE 0
# and 1, DIR to and from (FUNC lin_lin: to only); in the names, A, B and
# MODE stand for the kinds and plain or ICE
run() {
	local f=$1 pairs=$2 ice mode dir n pair
	for pair in $pairs; do
		set -- $(echo "$pair" | tr : " ") "$3" "$4"
		for ice in 0 1; do
			mode=plain; [ "$ice" = 1 ] && mode=ICE
			for dir in to from; do
				[ "$f" = lin_lin ] && [ "$dir" = from ] && continue
				if [ "$dir" = to ]; then n=$3; else n=$4; fi
				n=$(echo "$n" | sed "s/A/$1/; s/B/$2/; s/MODE/$mode/g")
				lab_up "$1" "$2" || { bad "lab $pair"; lab_down; continue; }
				new_case "$n" && "$f" "$ice" "$dir"
				keep_logs "$f-$1-$2-$mode-$dir"
				lab_down
			done
		done
	done
}

pc_pairs=$(pairs LINPHONE_PAIRS "$(for b in $KINDS; do echo "nat:$b"; done)" \
	"$(for a in $KINDS; do for b in $KINDS; do echo "$a:$b"; done; done)") || exit 1
bs_pairs=$(pairs LINPHONE_BARESIP_PAIRS "nat:nat nat:sym" \
	"$(for b in $KINDS; do echo "nat:$b"; done)") || exit 1
ll_pairs=$(pairs LINPHONE_LL_PAIRS "sym:nat nat:sym") || exit 1
if [ -n "$bs_pairs" ] && { ! command -v baresip >/dev/null || [ ! -f "$MOD" ]; }; then
	# said, not skipped silently; and a failure where everything must run
	if [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
		bad "baresip or its module (plugin/baresip) is missing, and PH_REQUIRE_ALL is set"
	else
		echo "note: baresip or its module (plugin/baresip) is missing: no baresip calls"
	fi
	bs_pairs=
fi
# libpinhole from the build tree, for the module that baresip loads
LD_LIBRARY_PATH=$(cd "$top_builddir/media" && pwd)/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH

run pc_lin "$pc_pairs" "pinhole-call A -> linphonec B (MODE)" "linphonec B (MODE) -> pinhole-call A"
run bs_lin "$bs_pairs" "baresip A -> linphonec B (MODE)" "linphonec B (MODE) -> baresip A"
run lin_lin "$ll_pairs" "linphonec A (MODE) -> linphonec B (MODE)" -
[ "$fails" = 0 ]
