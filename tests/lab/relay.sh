#!/bin/sh
# Relayed calls in the NAT lab (issue 5; PROTOCOL.md sections 4-6):
#  - where section 5 finds no direct path (sym x sym, sym x nat, sym x
#    natopen, sym x fw), pinhole-call on each side: route relay, media both
#    ways for 3 s, counted at the endpoints and at the relay; meanwhile a
#    third address (the core router) sprays both relay ports, and the
#    relay drops and counts every one of those datagrams;
#  - a call decided direct whose direct path is cut on purpose (the core
#    drops UDP between the two sides): both endpoints move to the reserved
#    relay within 3 s of the 2xx, with no new SIP message, and pinholed's
#    call report says the media fell back;
#  - SIPp caller and SIPp callee, both plain (no plugin) behind NATs: their
#    RTP reaches each side through the relay (nft counters at the hosts).
# RELAY_PAIRS (env) narrows the first part, e.g. RELAY_PAIRS=sym:nat (set
# empty: all four; with PH_REQUIRE_ALL set, narrowing fails the test).
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# what the relay said when the call ended: CALLER CALLEE DROPPED
relay_counts() {
	grep ': media ended (BYE)' "$LAB_DIR/pinholed.log" | tail -1 |
		sed -n 's/.*relay received \([0-9]*\) from the caller, \([0-9]*\) from the callee, dropped \([0-9]*\) .*/\1 \2 \3/p'
}

# spray: once the call is answered, 10 datagrams from the core router (a
# third address, inside the lab) to each of the call's relay ports
spray() {
	for _ in $(seq 1 100); do
		ports=$(sed -n 's/.*: 200; .*; relay [0-9.]*:\([0-9]*\) [0-9.]*:\([0-9]*\)$/\1 \2/p' \
			"$LAB_DIR/pinholed.log" | tail -1)
		[ -n "$ports" ] && break
		sleep 0.1
	done
	[ -n "$ports" ] || return 1
	for p in $ports; do
		lab_exec core bash -c "for i in 1 2 3 4 5 6 7 8 9 10; do
			printf 'not from a caller' >/dev/udp/$LAB_SRV_IP/$p; done"
	done
}

call() { # [pinhole-call ARGS]: sets A, B (the two reports)
	lab_start_pinholed -o log_level=notice || exit 1
	lab_bg b "$LAB_DIR/bob.out" "$PC" -r "$LAB_SRV_IP" -u bob --answer -t 25 -v "$@"
	pb=$LAB_LAST_PID
	lab_wait_pc_registered "$LAB_DIR/bob.out" # bob measures (about 2 s), then registers
	lab_bg a "$LAB_DIR/alice.out" "$PC" -r "$LAB_SRV_IP" -u alice --call bob -t 25 "$@"
	pa=$LAB_LAST_PID
	spray & sp=$!
	wait "$pa" "$pb" 2>/dev/null
	wait "$sp" || bad "$name: no relay ports in the call report to spray at"
	A=$(tail -1 "$LAB_DIR/alice.out")
	B=$(tail -1 "$LAB_DIR/bob.out")
	sleep 0.5 # the BYE's report
	set -- $(relay_counts)
	RC=${1:-0} RE=${2:-0} RD=${3:-0}
}

explain() {
	echo "  alice: $A"; echo "  bob:   $B"
	grep ' call ' "$LAB_DIR/pinholed.log" | tail -3 | sed 's/^/  pinholed: /'
}

relay_pairs=$(lab_list RELAY_PAIRS "sym:sym sym:nat sym:natopen sym:fw") || exit 1
for pair in $relay_pairs; do
	set -- $(echo "$pair" | tr : " ")
	name="$1 x $2"
	lab_up "$1" "$2" || { bad "lab $name"; lab_down; continue; }
	call
	ok=1
	for r in "$A" "$B"; do
		[ "$(lab_field "$r" route)" = relay ] && [ "$(lab_field "$r" via_pinholed)" = true ] &&
			[ "$(lab_field "$r" received)" -ge 100 ] 2>/dev/null || ok=0
	done
	[ "$RC" -ge 100 ] && [ "$RE" -ge 100 ] || ok=0
	if [ "$ok" = 1 ] && [ "$RD" = 20 ]; then
		echo "ok: $name: relay; alice got $(lab_field "$A" received), bob $(lab_field "$B" received);" \
			"the relay got $RC from the caller, $RE from the callee, dropped $RD from a third address"
	else
		bad "$name: want route relay, >= 100 packets each way at both ends and at the relay, exactly the 20 third-address datagrams dropped (got $RC/$RE/$RD)"
		explain
	fi
	lab_down
done

# A direct call whose path is cut: the core router drops UDP between the
# two sides (SIP and STUN go to pinholed and pass).
name="nat x nat, direct path cut"
if lab_up nat nat; then
	lab_exec core nft -f - <<'NFT' || bad "$name: the cut did not load"
table inet cut {
	chain forward {
		type filter hook forward priority -10; policy accept;
		ip saddr 198.51.100.0/24 ip daddr 198.51.100.0/24 meta l4proto udp counter drop
	}
}
NFT
	call -d 5
	ok=1
	for r in "$A" "$B"; do
		[ "$(lab_field "$r" route)" = direct ] && [ "$(lab_field "$r" via_pinholed)" = true ] &&
			[ "$(lab_field "$r" received)" -ge 100 ] 2>/dev/null &&
			[ "$(lab_field "$r" first_media_ms)" -le 3000 ] 2>/dev/null || ok=0
	done
	grep -q ': media ended (BYE) .*; route direct; media took relay (fell back' \
		"$LAB_DIR/pinholed.log" || ok=0
	[ "$RC" -ge 100 ] && [ "$RE" -ge 100 ] || ok=0
	if [ "$ok" = 1 ]; then
		echo "ok: $name: both fell back to the relay, first media after" \
			"$(lab_field "$A" first_media_ms)/$(lab_field "$B" first_media_ms) ms; relay got $RC/$RE"
	else
		bad "$name: want both on the relay within 3 s and a report saying so"
		explain
	fi
	lab_down
else
	bad "lab $name"; lab_down
fi

# Two plain SIP phones, each behind its NAT, with RTP from SIPp.
name="plain SIPp x plain SIPp, both behind NATs"
count_from_relay() { # HOST: count UDP from the relay's ports
	lab_exec "$1" nft -f - <<NFT
table inet count {
	counter from_relay { }
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr $LAB_SRV_IP udp sport 22000-31999 counter name "from_relay"
	}
}
NFT
}
from_relay() { lab_exec "$1" nft list counter inet count from_relay | awk '/packets/ { print $2 }'; }
if lab_up nat nat; then
	SF=$(cd "$top_srcdir/tests/sipp" && pwd) # absolute: SIPp runs in $LAB_DIR
	head -c 24000 /dev/zero | tr '\0' '\377' >"$LAB_DIR/pinhole-rtp.pcmu" # 3 s of PCMU
	count_from_relay a && count_from_relay b
	lab_start_pinholed -o log_level=notice || exit 1
	sipp_lab() { # HOST LOG SIPP-ARGS...
		h=$1 log=$2; shift 2
		(cd "$LAB_DIR" && lab_exec "$h" timeout 20 sipp -i "$(eval echo \$LAB_$(echo "$h" | tr a-z A-Z)_IP)" \
			-p 5062 -mp 16000 -m 1 -timeout 15s -nostdin -trace_err \
			-error_file "$LAB_DIR/$log.err" "$@" >"$LAB_DIR/$log.out" 2>&1)
	}
	sipp_lab b reg "$LAB_SRV_IP:5060" -sf "$SF/plain_reg.xml" -key user carol ||
		bad "$name: carol did not register"
	sipp_lab b uas -sf "$SF/plain_uas_rtp.xml" -key user carol & uas=$!
	sleep 0.5
	sipp_lab a uac "$LAB_SRV_IP:5060" -sf "$SF/plain_uac_rtp.xml" -key user carol ||
		bad "$name: the caller's side failed: $(tail -3 "$LAB_DIR/uac.err" 2>/dev/null)"
	wait "$uas" || bad "$name: the callee's side failed: $(tail -3 "$LAB_DIR/uas.err" 2>/dev/null)"
	sleep 0.5
	set -- $(relay_counts)
	RC=${1:-0} RE=${2:-0}
	FA=$(from_relay a) FB=$(from_relay b)
	if [ "${FA:-0}" -ge 100 ] && [ "${FB:-0}" -ge 100 ] && [ "$RC" -ge 100 ] && [ "$RE" -ge 100 ]; then
		echo "ok: $name: host a got $FA, host b $FB datagrams from the relay; relay got $RC/$RE"
	else
		bad "$name: want >= 100 RTP packets each way through the relay (hosts got $FA/$FB, relay $RC/$RE)"
		grep ' call ' "$LAB_DIR/pinholed.log" | tail -3 | sed 's/^/  pinholed: /'
	fi
	lab_down
else
	bad "lab $name"; lab_down
fi
[ "$fails" = 0 ]
