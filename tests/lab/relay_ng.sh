#!/bin/sh
# Relays on other hosts over the ng protocol (doc/RELAY-NG.md): pinholed
# on srv, its relay on another lab host (rly, 198.18.0.1, a link of its
# own off the core router), a sym x sym call (PROTOCOL.md section 5: no
# direct path) between pinhole-call phones behind their NATs:
#  1. pinhole-relayd as the relay, listed after two dead ones (one
#     refuses the datagrams, one drops them): audio both ways counted at
#     both phones, the relay host got the media, pinholed's host none; a
#     log line names each dead relay, and one that starts answering is
#     taken back;
#  2. the same call with Debian's rtpengine-daemon as the only relay
#     (userspace forwarding: no kernel module in a namespace).
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
RELAYD=$top_builddir/media/relay/pinhole-relayd
RLY=198.18.0.1
NG=2223
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# the relay host, and counters of the media at it and at pinholed's host
# (every UDP datagram there but SIP, STUN and the relays' ng replies)
relay_host() {
	lab_ns rly || return 1
	lab_link core crly 198.18.0.254/24 rly eth0 "$RLY/24" || return 1
	lab_exec rly ip addr add 198.18.0.2/24 dev eth0
	lab_exec rly ip addr add 198.18.0.3/24 dev eth0
	lab_exec rly ip route add default via 198.18.0.254
	lab_exec rly nft -f - <<NFT || return 1
table inet count {
	counter media { }
	chain input {
		type filter hook input priority 0; policy accept;
		ip daddr 198.18.0.3 udp dport $NG drop
		udp dport 22000-31999 counter name "media"
	}
}
NFT
	lab_exec srv nft -f - <<NFT
table inet ngcount {
	counter media { }
	chain input {
		type filter hook input priority 0; policy accept;
		udp dport != { 3478-3487, 5060 } udp sport != $NG counter name "media"
	}
}
NFT
}
count() { # NS TABLE
	lab_exec "$1" nft list counter inet "$2" media | awk '/packets/ { print $2 }'
}

# a sym x sym call through pinholed with relay = $1: sets A, B (the two
# phones' reports)
call() {
	lab_start_pinholed -o log_level=notice -o "relay=$1" || return 1
	lab_bg b "$LAB_DIR/bob.out" "$PC" -r "$LAB_SRV_IP" -u bob --answer -t 25 -v
	pb=$LAB_LAST_PID
	lab_wait_pc_registered "$LAB_DIR/bob.out"
	lab_bg a "$LAB_DIR/alice.out" "$PC" -r "$LAB_SRV_IP" -u alice --call bob -t 25
	pa=$LAB_LAST_PID
	wait "$pa" "$pb" 2>/dev/null
	A=$(tail -1 "$LAB_DIR/alice.out")
	B=$(tail -1 "$LAB_DIR/bob.out")
	sleep 0.5 # the BYE's report
}

# NAME: both phones relayed with >= 100 packets in, the relay host got
# them, pinholed's host got none, pinholed's report names the relay host
check() {
	local ok=1 r m s
	for r in "$A" "$B"; do
		[ "$(lab_field "$r" route)" = relay ] && [ "$(lab_field "$r" via_pinholed)" = true ] &&
			[ "$(lab_field "$r" received)" -ge 100 ] 2>/dev/null || ok=0
	done
	m=$(count rly count) s=$(count srv ngcount)
	[ "${m:-0}" -ge 200 ] && [ "$s" = 0 ] || ok=0
	grep -q ": 200; route relay .*; relay $RLY:[0-9]* $RLY:[0-9]*\$" "$LAB_DIR/pinholed.log" || ok=0
	if [ "$ok" = 1 ]; then
		echo "ok: $1: alice got $(lab_field "$A" received), bob $(lab_field "$B" received);" \
			"the relay host got $m media datagrams, pinholed's host $s"
	else
		bad "$1: want route relay at $RLY, >= 100 packets in at each phone, media at the relay host only (relay host $m, pinholed's host $s)"
		echo "  alice: $A"; echo "  bob:   $B"
		grep -E ' call |relay' "$LAB_DIR/pinholed.log" | tail -6 | sed 's/^/  pinholed: /'
	fi
}

relay_wait() { # LOG PATTERN: the relay is up
	lab_wait_for 10 "$1" "$2" || { cat "$1"; return 1; }
}

# 1. pinhole-relayd, listed after two dead relays
name="sym x sym, pinhole-relayd on another host after two dead relays"
if lab_up sym sym && relay_host; then
	lab_bg rly "$LAB_DIR/relayd.log" "$RELAYD" -l "$RLY:$NG" -a "$RLY" \
		-c "$LAB_SRV_IP" -c "$LAB_SRV_ALT"
	if relay_wait "$LAB_DIR/relayd.log" ': ready$'; then
		call "ng:198.18.0.2:$NG, ng:198.18.0.3:$NG, ng:$RLY:$NG" && check "$name"
		grep -q "relay ng:198.18.0.2:$NG: refused .*skipped" "$LAB_DIR/pinholed.log" ||
			bad "$name: no log line says ng:198.18.0.2:$NG refused"
		grep -q "relay ng:198.18.0.3:$NG: no answer .*skipped" "$LAB_DIR/pinholed.log" ||
			bad "$name: no log line says ng:198.18.0.3:$NG does not answer"
		# a relay that comes up is taken back (pinged every 2 s)
		lab_bg rly "$LAB_DIR/relayd2.log" "$RELAYD" -l "198.18.0.2:$NG" -a 198.18.0.2
		lab_wait_for 6 "$LAB_DIR/pinholed.log" "relay ng:198.18.0.2:$NG: answers again" ||
			bad "$name: ng:198.18.0.2:$NG, once up, was not taken back"
		grep 'relay ng:' "$LAB_DIR/pinholed.log" | sed 's/^/  pinholed: /'
	else
		bad "$name: pinhole-relayd did not start"
	fi
else
	bad "lab $name"
fi
lab_down
# 2. Debian's rtpengine-daemon
name="sym x sym, rtpengine-daemon on another host"
if ! command -v rtpengine >/dev/null; then
	[ "${PH_REQUIRE_ALL:-0}" != 0 ] && bad "$name: rtpengine-daemon not installed" ||
		echo "skip: $name: rtpengine-daemon not installed"
elif lab_up sym sym && relay_host; then
	# --config-file=none: not the package's /etc/rtpengine/rtpengine.conf;
	# --table=-1: userspace forwarding
	lab_bg rly "$LAB_DIR/rtpengine.log" timeout 60 rtpengine --config-file=none \
		--table=-1 --foreground --log-stderr --interface="$RLY" \
		--listen-ng="$RLY:$NG" --port-min=22000 --port-max=31999 \
		--pidfile="$LAB_DIR/rtpengine.pid"
	if relay_wait "$LAB_DIR/rtpengine.log" 'Startup complete'; then
		call "ng:$RLY:$NG" && check "$name"
	else
		bad "$name: rtpengine did not start"
	fi
else
	bad "lab $name"
fi
lab_down

[ "$fails" = 0 ]
