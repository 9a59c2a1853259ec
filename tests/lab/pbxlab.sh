# tests/lab/pbxlab.sh: the PBX in the NAT lab, for tests/lab/pbx.sh,
# pbx_sha256.sh and demo (sourced after lab.sh; without Kamailio or baresip
# the test skips). Kamailio (conf/pbx/kamailio.cfg)
# at 198.18.0.1 on the core router, its users alice and bob (passwords
# alice-secret, bob-secret) in a db_text table in the lab's directory, and
# the IVR: a baresip beside it answering sip:ivr@198.18.0.1:5090 with an
# 8 kHz sine, its RTP counted (ivr_rtp). LAB_PBX_SHA256 set: Kamailio
# challenges with SHA-256 (-A WITH_SHA256).
command -v kamailio >/dev/null || lab_skip "kamailio not installed"
command -v baresip >/dev/null || lab_skip "baresip not installed"
KAM_MODS=/usr/lib/x86_64-linux-gnu/kamailio/modules
[ -d "$KAM_MODS" ] || KAM_MODS=$(dirname "$(find /usr/lib -name tm.so -path '*kamailio*' | head -1)")
PBX=198.18.0.1

# The PBX's host: a namespace on the core router, Kamailio and the IVR.
pbx_up() {
	lab_ns pbx || return 1
	lab_link core cpbx 198.18.0.254/24 pbx eth0 "$PBX/24" || return 1
	lab_exec pbx ip route add default via 198.18.0.254
	mkdir -p "$LAB_DIR/db" "$LAB_DIR/kam"
	cp /usr/share/kamailio/dbtext/kamailio/version "$LAB_DIR/db/"
	{ echo "id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string) "
	  echo "1:alice:lab:alice-secret:-:-"
	  echo "2:bob:lab:bob-secret:-:-"
	} >"$LAB_DIR/db/subscriber"
	lab_bg pbx "$LAB_DIR/kamailio.log" kamailio -f "$top_srcdir/conf/pbx/kamailio.cfg" \
		-DD -E -L "$KAM_MODS" -Y "$LAB_DIR/kam" -w "$LAB_DIR/kam" \
		-A "LISTEN=udp:$PBX:5060" -A "DBURL=\"text://$LAB_DIR/db\"" \
		-A "IVR_URI=\"sip:ivr@$PBX:5090\"" -A "IVR_IP=\"$PBX\"" \
		${LAB_PBX_SHA256:+-A WITH_SHA256}
	lab_wait_for 10 "$LAB_DIR/kamailio.log" "Listening on" || return 1
	# the IVR: auto-answer, an 8 kHz sine in PCMU
	python3 -c 'import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 2 * math.pi * 440 / 8000))) for i in range(800000)))' \
		"$LAB_DIR/ivr.wav"
	ivr_config ivr 5090
	lab_bg pbx "$LAB_DIR/ivr.log" baresip -f "$LAB_DIR/ivr"
	lab_count_rtp pbx
	lab_wait_for 5 "$LAB_DIR/ivr.log" "baresip is ready"
}

ivr_config() { # NAME PORT: a plain baresip at the PBX's host
	d=$LAB_DIR/$1
	mkdir -p "$d"
	sed -e "s|^sip_listen.*|sip_listen		$PBX:$2|" \
	    -e "s|^net_interface.*|net_interface		$PBX|" \
	    -e "s|^audio_source.*|audio_source		aufile,$LAB_DIR/ivr.wav|" \
	    -e "/pinhole/d" \
	    "$top_srcdir/conf/baresip/config" >"$d/config"
	echo "<sip:$1@$PBX:$2>;regint=0;answermode=auto;audio_codecs=PCMU/8000/1" >"$d/accounts"
}

ivr_rtp() { lab_rtp_in pbx; }


# pbx_lab_up KIND_A KIND_B: the lab, the PBX, pinholed in front of it
pbx_lab_up() {
	lab_up "$1" "$2" && pbx_up || return 1
	lab_start_pinholed -o log_level=debug -o "upstream=sip:$PBX" -o relay_idle=5
}

# ---- the checks of tests/lab/pbx.sh and pbx_sha256.sh (they define bad) ----

registered_here() { # USER: pinholed stored a binding of USER
	grep -q "REGISTER $1@[^ ]*: the PBX answered 200; stored here: 200" "$LAB_DIR/pinholed.log"
}

# want ROUTE REPORT RTP_AT_IVR NAME: pinhole-call's REPORT and the IVR's count
want() {
	local route got other
	route=$(lab_field "$2" route) got=$(lab_field "$2" received)
	other=$(($(lab_srv_other_udp) - ${OTHER0:-0}))
	if [ "$route" = "$1" ] && [ "${got:-0}" -ge 100 ] 2>/dev/null && [ "${3:-0}" -ge 100 ] &&
	   { [ "$1" != direct ] || [ "$other" = 0 ]; }; then
		echo "ok: $4: $1, the phone got $got, the IVR's host $3, pinholed's host $other"
	else
		bad "$4: want $1 with >= 100 RTP each way${1#relay}" \
			"(phone: $2; IVR's host: $3; pinholed's host: $other)"
		grep ' call \|edge:\|REGISTER' "$LAB_DIR/pinholed.log" | tail -5 | sed 's/^/  pinholed: /' | cut -c1-300
		tail -3 "$LAB_DIR/kamailio.log" | sed 's/^/  kamailio: /' | cut -c1-200
		[ -z "${LAB_PBX_DEBUG:-}" ] || cp "$LAB_DIR"/*.log "$LAB_DIR"/*.out "$LAB_PBX_DEBUG/"
	fi
}

# The phone's router answering the PBX's packets itself (ICMP unreachable,
# as natopen does): the PBX's first packet reached the window before the
# phone's null packet and took it (PROTOCOL.md section 11), for the
# report of a failed row.
count_router_unreach() {
	lab_exec ar nft -f - <<NFT
table inet diag {
	counter unreach { }
	chain out {
		type filter hook output priority 0; policy accept;
		ip daddr $PBX icmp type destination-unreachable counter name "unreach"
	}
}
NFT
}
router_unreach() { lab_exec ar nft list counter inet diag unreach | awk '/packets/ { print $2 }'; }

# module_row KIND ROUTE: a baresip with the module (bob) behind KIND calls
# the IVR (in the lab pbx_lab_up made): RTP at the phone within 1.5 s of
# the dial, 5 s of it both ways, on ROUTE from the start
module_row() {
	local kind=$1 route=$2 early
	ivr0=$(ivr_rtp) other0=$(lab_srv_other_udp)
	lab_count_rtp a
	count_router_unreach
	d=$LAB_DIR/bob
	lab_baresip_config a "$d" "$LAB_SRV_IP:3478"
	sed -i "s|^audio_source.*|audio_source		aufile,$LAB_DIR/ivr.wav|" "$d/config"
	printf 'module_app\t\tctrl_tcp.so\nctrl_tcp_listen\t\t127.0.0.1:4444\n' >>"$d/config"
	echo "<sip:bob@$LAB_SRV_IP:5060>;regint=0;answermode=auto;audio_codecs=PCMU/8000/1;medianat=pinhole;auth_user=bob;auth_pass=bob-secret" >"$d/accounts"
	lab_bg a "$LAB_DIR/bob.log" baresip -f "$d" -t 15
	if lab_wait_for 10 "$LAB_DIR/bob.log" "registered with Firewall-Window" &&
	   registered_here bob && lab_baresip_ctl a dial 600; then
		sleep 1.5
		early=$(lab_rtp_in a)
		sleep 3.5
		RA=$(lab_rtp_in a) RI=$(($(ivr_rtp) - ivr0)) other=$(($(lab_srv_other_udp) - other0))
		if [ "$early" -ge 20 ] && [ "$RA" -ge 100 ] && [ "$RI" -ge 100 ] &&
		   { [ "$route" != direct ] || [ "$other" = 0 ]; } &&
		   grep -q " call [^ ]*: 200; route $route " "$LAB_DIR/pinholed.log" &&
		   ! grep -q 're-INVITE: the peer is to send to the relay' "$LAB_DIR/bob.log" &&
		   ! grep -q " call [^ ]*: the caller offers its relay port" "$LAB_DIR/pinholed.log"; then
			echo "ok: $kind baresip (module) -> IVR (600): $route from the start, RTP in" \
				"at the phone $early in its first 1.5 s, $RA in 5 s; at the IVR's" \
				"host $RI, at pinholed's host $other"
		else
			bad "$kind baresip (module) -> IVR: want $route from the start, >= 20 RTP at" \
				"the phone in 1.5 s, >= 100 each way in 5 s (phone $early then $RA," \
				"IVR's host $RI, pinholed's host $other)"
			grep -a 'pinhole:\|call:' "$LAB_DIR/bob.log" | sed 's/^/  bob: /' | cut -c1-160
			grep ' call \|stun: the router' "$LAB_DIR/pinholed.log" | tail -4 |
				sed 's/^/  pinholed: /' | cut -c1-300
			echo "  the phone's router answered $(router_unreach) of the PBX's packets itself" \
				"(ICMP unreachable: an early packet took the window, PROTOCOL.md 11)"
		fi
	else
		bad "$kind: the baresip module did not register through pinholed with its credentials"
		grep -a 'pinhole:\|regist' "$LAB_DIR/bob.log" | sed 's/^/  bob: /' | cut -c1-160
	fi
}
