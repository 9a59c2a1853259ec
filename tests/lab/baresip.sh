#!/bin/sh
# baresip 1.0.0 with pinhole's media-NAT module in the NAT lab (issue 6):
# two headless baresip phones (config from conf/baresip, audio from
# ausine, sink aubridge), one behind each kind of firewall, registered with
# pinholed by the module, call each other. For every pair that PROTOCOL.md
# section 5 calls direct, RTP flows both ways (nft counters at both hosts)
# and none of it reaches pinholed's host; for the others it flows through
# the relay (the relay's own counters). Then mixed calls: the module
# against pinhole-call both ways round (direct, and none of the media at
# pinholed's host), a plain baresip (no module) against the module, the
# module calling a plain baresip directly (no pinholed, so no a=fw-punch:
# media to the answer's address once the call is established); and a
# module with a pinhole_server that never answers: its call still
# completes, through the relay. LAB_PAIRS (env): the pairs (unset or empty:
# a sample of every kind; all: every pair); LAB_MIXED=0 skips the mixed
# calls (unset or empty: 1). With PH_REQUIRE_ALL set, a narrowed run fails.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v baresip >/dev/null || lab_skip "baresip not installed"
case ${LAB_MIXED:-1} in
1) mixed=1 ;;
0)	if [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
		echo "FAIL: LAB_MIXED=0 skips the mixed calls, and PH_REQUIRE_ALL is set"; exit 1
	fi
	echo "note: LAB_MIXED=0: the mixed calls are not run"; mixed=0 ;;
*) echo "FAIL: LAB_MIXED=$LAB_MIXED: want 1 (the default) or 0 (no mixed calls)"; exit 1 ;;
esac
lab_module
PC=$top_builddir/plugin/pinhole-call
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# phone X USER MEDIANAT [SERVER]: a baresip config for host X from
# conf/baresip, in $LAB_DIR/USER (MEDIANAT empty: a plain phone that
# registers itself)
phone() {
	x=$1 user=$2 mn=$3 srv=${4:-$LAB_SRV_IP:3478} d=$LAB_DIR/$2
	lab_baresip_config "$x" "$d" "$srv"
	if [ -n "$mn" ]; then
		sed -e "s|alice@[^>]*|$user@$LAB_SRV_IP:5060|" "$top_srcdir/conf/baresip/accounts" |
			grep -v '^#' >"$d/accounts"
	else # plain: baresip registers itself, no media-NAT
		echo "<sip:$user@$LAB_SRV_IP:5060>;regint=60;answermode=auto;audio_codecs=opus/48000/2" >"$d/accounts"
	fi
}


# call: bob answers, alice calls; sets RA RB (RTP
# datagrams at hosts a and b), OTHER (at pinholed's host), RELAY (caller
# callee packets at the relay), ROUTE (as pinholed decided)
call() {
	lab_count_rtp a && lab_count_rtp b
	lab_start_pinholed -o log_level=debug || exit 1
	lab_bg b "$LAB_DIR/bob.log" baresip -f "$LAB_DIR/bob" -t 12
	lab_wait_registered bob
	# alice: about 2 s to measure her firewall and register, then the call
	lab_bg a "$LAB_DIR/alice.log" baresip -f "$LAB_DIR/alice" -t 7 -e "/dial bob@$LAB_SRV_IP"
	sleep 8
	RA=$(lab_rtp_in a) RB=$(lab_rtp_in b) OTHER=$(lab_srv_other_udp)
	ROUTE=$(sed -n 's/.* call [^ ]*: 200; route \([a-z]*\) .*/\1/p' "$LAB_DIR/pinholed.log" | tail -1)
	RELAY=$(grep ': media ended' "$LAB_DIR/pinholed.log" | tail -1 |
		sed -n 's/.*relay received \([0-9]*\) from the caller, \([0-9]*\) from the callee.*/\1 \2/p')
}

explain() {
	grep -a 'pinhole:\|call:\|session closed' "$LAB_DIR/alice.log" | sed 's/^/  alice: /' | cut -c1-160
	grep -a 'pinhole:\|call:\|session closed' "$LAB_DIR/bob.log" | sed 's/^/  bob:   /' | cut -c1-160
	grep ' call ' "$LAB_DIR/pinholed.log" | tail -2 | sed 's/^/  pinholed: /' | cut -c1-300
}

check() { # NAME ROUTE
	set -- "$1" "$2" $RELAY
	if [ "$ROUTE" = "$2" ] && [ "${RA:-0}" -ge 100 ] && [ "${RB:-0}" -ge 100 ] &&
	   { [ "$2" != direct ] || [ "$OTHER" = 0 ]; } &&
	   { [ "$2" != relay ] || { [ "${3:-0}" -ge 100 ] && [ "${4:-0}" -ge 100 ]; }; }; then
		echo "ok: $1: $2, RTP in at a $RA, at b $RB${3:+, relay got $3/$4}${OTHER:+, $OTHER at the server host}"
	else
		bad "$1: want route $2 and >= 100 RTP packets each way (route '$ROUTE', a $RA, b $RB, pinholed's host $OTHER, relay '$RELAY')"
		explain
	fi
}

# make check: a sample of each kind of pair; LAB_PAIRS=all: every pair
pairs=$(lab_list LAB_PAIRS "open:open fw:nat nat:nat natopen:natopen sym:open open:sym sym:sym sym:fw" \
	"$LAB_DIRECT_PAIRS sym:sym sym:nat sym:natopen sym:fw") || exit 1
for pair in $pairs; do
	set -- $(echo "$pair" | tr : " ")
	case $pair in sym:sym|sym:nat|sym:natopen|sym:fw) want=relay ;; *) want=direct ;; esac
	lab_up "$1" "$2" || { bad "lab $pair"; lab_down; continue; }
	phone a alice pinhole && phone b bob pinhole
	call
	check "baresip $1 x baresip $2" "$want"
	lab_down
done

# The module against pinhole-call (both ways round) and against a plain
# baresip, behind NATs: each completes with audio.
if [ "$mixed" = 1 ]; then
	# pinhole-call speaks G.711 at 8 kHz, which ausine (48 kHz) cannot
	# feed: a 10 s 8 kHz sine from aufile instead
	python3 -c 'import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 2 * math.pi * 440 / 8000))) for i in range(80000)))' \
		"$LAB_DIR/sine8k.wav"
	g711_phone() { # X USER: phone X USER pinhole, playing the 8 kHz sine in PCMU
		phone "$1" "$2" pinhole
		sed -i "s|^audio_source.*|audio_source		aufile,$LAB_DIR/sine8k.wav|" "$LAB_DIR/$2/config"
		sed -i 's|audio_codecs=opus/48000/2|audio_codecs=PCMU/8000/1|' "$LAB_DIR/$2/accounts"
	}
	# check_mixed NAME REPORT RTP: pinhole-call's REPORT says direct and >= 100
	# packets in, >= 100 RTP datagrams reached the baresip's host, none
	# reached pinholed's host
	check_mixed() {
		if [ "$(lab_field "$2" route)" = direct ] && [ "$(lab_field "$2" received)" -ge 100 ] 2>/dev/null &&
		   [ "${3:-0}" -ge 100 ] && [ "$OTHER" = 0 ]; then
			echo "ok: $1: direct, pinhole-call got $(lab_field "$2" received), baresip's host $3," \
				"pinholed's host $OTHER"
		else
			bad "$1: want direct, >= 100 packets each way, none at pinholed's host" \
				"(pinhole-call: $2; RTP in at baresip's host: $3; at pinholed's host: $OTHER)"
			return 1
		fi
	}

	# baresip (module) at a calls pinhole-call at b
	lab_up nat nat || bad "lab nat x nat"
	g711_phone a alice
	lab_count_rtp a && lab_count_rtp b
	lab_start_pinholed -o log_level=debug || exit 1
	lab_bg b "$LAB_DIR/pc.out" "$PC" -r "$LAB_SRV_IP" -u bob --answer -t 20 -d 4
	lab_wait_registered bob
	lab_bg a "$LAB_DIR/alice.log" baresip -f "$LAB_DIR/alice" -t 9 -e "/dial bob@$LAB_SRV_IP"
	sleep 10
	B=$(tail -1 "$LAB_DIR/pc.out") RA=$(lab_rtp_in a) OTHER=$(lab_srv_other_udp)
	check_mixed "baresip (module) -> pinhole-call" "$B" "$RA" || explain
	lab_down

	# pinhole-call at a calls baresip (module) at b
	lab_up nat nat || bad "lab nat x nat"
	g711_phone b bob
	lab_count_rtp a && lab_count_rtp b
	lab_start_pinholed -o log_level=debug || exit 1
	lab_bg b "$LAB_DIR/bob.log" baresip -f "$LAB_DIR/bob" -t 16
	lab_wait_registered bob
	lab_bg a "$LAB_DIR/pc.out" "$PC" -r "$LAB_SRV_IP" -u alice --call bob -t 14 -d 4
	wait "$LAB_LAST_PID" # pinhole-call: the call ended, or its -t 14
	A=$(tail -1 "$LAB_DIR/pc.out") RB=$(lab_rtp_in b) OTHER=$(lab_srv_other_udp)
	check_mixed "pinhole-call -> baresip (module)" "$A" "$RB" || {
		grep -a 'pinhole:\|call:\|session closed' "$LAB_DIR/bob.log" | sed 's/^/  bob:   /' | cut -c1-160
		grep ' call ' "$LAB_DIR/pinholed.log" | tail -2 | sed 's/^/  pinholed: /' | cut -c1-300
	}
	lab_down

	lab_up nat nat || bad "lab nat x nat"
	phone a alice "" && phone b bob pinhole
	call
	check "plain baresip x baresip (module)" relay
	lab_down

	# the module calls a plain baresip directly, pinholed not in the path
	# (open x open): the 2xx answer has no a=fw-punch, so once the call is
	# established (not before: an 18x answer never carries one) the stream
	# goes to the answer's address
	lab_up open open || bad "lab open x open"
	phone a alice pinhole && phone b bob ""
	lab_count_rtp a && lab_count_rtp b
	lab_start_pinholed -o log_level=debug || exit 1
	lab_bg b "$LAB_DIR/bob.log" baresip -f "$LAB_DIR/bob" -t 10
	lab_wait_for 5 "$LAB_DIR/bob.log" "baresip is ready" || bad "plain bob did not start"
	lab_bg a "$LAB_DIR/alice.log" baresip -f "$LAB_DIR/alice" -t 7 -e "/dial sip:bob@$LAB_B_IP"
	sleep 8
	RA=$(lab_rtp_in a) RB=$(lab_rtp_in b) OTHER=$(lab_srv_other_udp)
	if [ "${RA:-0}" -ge 100 ] && [ "${RB:-0}" -ge 100 ] && [ "$OTHER" = 0 ] &&
	   grep -q "pinhole: no a=fw-punch: media to the remote SDP address $LAB_B_IP:" "$LAB_DIR/alice.log"; then
		echo "ok: baresip (module) -> plain baresip, no pinholed: RTP in at a $RA, at b $RB"
	else
		bad "baresip (module) -> plain baresip, no pinholed: want >= 100 RTP packets each way" \
			"to the answer's address (a $RA, b $RB, pinholed's host $OTHER)"
		explain
	fi
	lab_down

	# a pinhole_server where nothing answers (inside the lab: the alternate
	# address's unused port): the module says so, the call is relayed
	lab_up nat nat || bad "lab nat x nat"
	phone a alice pinhole "$LAB_SRV_ALT:9" && phone b bob pinhole
	call
	check "baresip with a pinhole_server that never answers x baresip" relay
	grep -q "pinhole: pinholed's STUN service did not answer" "$LAB_DIR/alice.log" ||
		bad "no log line about the silent pinhole_server"
	lab_down
fi
[ "$fails" = 0 ]
