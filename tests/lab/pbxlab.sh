# tests/lab/pbxlab.sh: the PBX in the NAT lab, for tests/lab/pbx.sh and
# tests/lab/demo (sourced after lab.sh). Kamailio (conf/pbx/kamailio.cfg)
# at 198.18.0.1 on the core router, its users alice and bob (passwords
# alice-secret, bob-secret) in a db_text table in the lab's directory, and
# the IVR: a baresip beside it answering sip:ivr@198.18.0.1:5090 with an
# 8 kHz sine, its RTP counted (ivr_rtp).
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
		-A "IVR_URI=\"sip:ivr@$PBX:5090\"" -A "IVR_IP=\"$PBX\""
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
