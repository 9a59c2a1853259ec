#!/bin/sh
# The phones against pinholed's own digest authentication (issue 14,
# PROTOCOL.md section 10), in the NAT lab: pinholed with users made by
# pinholed-passwd challenges SHA-256 first, then MD5. Two pinhole-calls
# behind NATs (--password, and PINHOLE_PASSWORD) register and call each
# other, answering with SHA-256 (pinholed's log says so for each REGISTER
# and the INVITE), media both ways. A baresip with pinhole's module, its
# account's auth_pass, registers with SHA-256 too and a pinhole-call calls
# it, then it calls a pinhole-call itself: its INVITE carries the
# SHA-256 credentials the module computed from a nonce it fetched for the
# call (libre 1.1.0's own digest would give up on pinholed's 407). Nonces
# live 10 s here, so the registration's would be stale by then. A wrong
# password registers nobody.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
PASSWD=$top_builddir/registrar/pinholed-passwd
D=$LAB_DIR
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }
for u in alice bob carol dave erin; do
	printf '%spw\n' "$u" | "$PASSWD" -r lab "$D/users" "$u" >/dev/null ||
		{ echo "FAIL: pinholed-passwd $u"; exit 1; }
done
authed() { # USER N: pinholed's log has N SHA-256 authentications of USER
	[ "$(grep -c "auth: $1 authenticated (SHA-256)" "$D/pinholed.log")" -ge "$2" ]
}

lab_up nat nat || { echo "FAIL: lab nat x nat"; exit 1; }
lab_start_pinholed -o log_level=debug -o users="$D/users" -o realm=lab \
	-o nonce_lifetime=10 || exit 1
lab_bg b "$D/bob.out" "$PC" -r "$LAB_SRV_IP" -u bob --answer -t 20 -v -p bobpw
pb=$LAB_LAST_PID
lab_wait_pc_registered "$D/bob.out"
lab_bg a "$D/alice.out" env PINHOLE_PASSWORD=alicepw "$PC" -r "$LAB_SRV_IP" \
	-u alice --call bob -t 20 -v
wait "$LAB_LAST_PID" "$pb" 2>/dev/null
A=$(tail -1 "$D/alice.out") B=$(tail -1 "$D/bob.out")
if [ "${A#*\"received\":}" = "$A" ] || [ "$(lab_field "$A" received)" -lt 100 ] ||
   [ "$(lab_field "$B" received)" -lt 100 ]; then
	bad "pinhole-call x pinhole-call with users: want >= 100 packets each way"
	echo "  alice: $A"; echo "  bob:   $B"
	grep -h 'REGISTER\|INVITE\|answering\|challenge' "$D/alice.out" "$D/bob.out" | sed 's/^/  /'
elif ! authed bob 1 || ! authed alice 2 ||
     ! grep -q "INVITE: 407" "$D/alice.out"; then
	bad "pinhole-call: want REGISTERs and the INVITE answered with SHA-256"
	grep 'auth:' "$D/pinholed.log" | sed 's/^/  pinholed: /'
else
	echo "ok: pinhole-call x pinhole-call with users: $(lab_field "$A" route)," \
		"alice got $(lab_field "$A" received), bob $(lab_field "$B" received);" \
		"$(grep -c 'authenticated (SHA-256)' "$D/pinholed.log") SHA-256 answers," \
		"$(grep -c 'authenticated (MD5)' "$D/pinholed.log") MD5"
fi

# a wrong password: challenged again, nothing registered
lab_exec a "$PC" -r "$LAB_SRV_IP" -u carol --answer -t 5 -v -p wrong \
	>"$D/carol.out" 2>&1
if grep -q 'REGISTER: 200' "$D/carol.out" ||
   grep -q "REGISTER carol@[^ ]* from [^ ]*: 200" "$D/pinholed.log"; then
	bad "pinhole-call with a wrong password registered"
else
	echo "ok: a wrong password: $(grep -c 'REGISTER: 401' "$D/carol.out") challenges, no binding"
fi

# dave_calls: baresip (the module) calls erin, who is registered
dave_calls() {
	local n0 r0 E
	n0=$(grep -c "auth: dave authenticated (SHA-256)" "$D/pinholed.log")
	r0=$(lab_rtp_in b)
	lab_wait_pc_registered "$D/erin.out" || true
	lab_baresip_ctl b dial "erin@$LAB_SRV_IP" || bad "baresip: dial"
	wait "$pe" 2>/dev/null
	E=$(tail -1 "$D/erin.out")
	if [ "${E#*\"received\":}" = "$E" ] || [ "$(lab_field "$E" received)" -lt 100 ] ||
	   [ $(($(lab_rtp_in b) - r0)) -lt 100 ]; then
		bad "baresip (module) -> pinhole-call with users: want >= 100 packets each way"
		echo "  erin: $E; RTP in at dave's: $(($(lab_rtp_in b) - r0))"
		grep -a 'call:\|pinhole:\|session closed' "$D/dave.log" | tr '\r' '\n' | grep -v 'audio=' | tail -6 | sed 's/^/  baresip: /'
	elif ! authed dave $((n0 + 2)) ||
	     ! grep -aq "pinhole: INVITE sip:erin@[^ ]*: SHA-256 digest credentials" "$D/dave.log"; then
		bad "baresip's own INVITE: want it answered with SHA-256 (a fresh nonce)"
		grep 'auth:' "$D/pinholed.log" | sed 's/^/  pinholed: /'
	else
		echo "ok: baresip's module called with SHA-256 (fresh nonce):" \
			"$(lab_field "$E" route), erin got $(lab_field "$E" received)," \
			"dave $(($(lab_rtp_in b) - r0)) RTP"
	fi
}

MOD=$top_builddir/plugin/baresip/.libs/pinhole.so
if command -v baresip >/dev/null && [ -f "$MOD" ]; then
	LD_LIBRARY_PATH=$(cd "$top_builddir/media" && pwd)/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
	lab_baresip_config b "$D/dave" "$LAB_SRV_IP:3478"
	python3 -c 'import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 2 * math.pi * 440 / 8000))) for i in range(80000)))' \
		"$D/sine8k.wav"
	sed -i "s|^audio_source.*|audio_source		aufile,$D/sine8k.wav|" "$D/dave/config"
	printf 'module_app\t\tctrl_tcp.so\nctrl_tcp_listen\t\t127.0.0.1:4444\n' >>"$D/dave/config"
	echo "<sip:dave@$LAB_SRV_IP:5060>;auth_pass=davepw;regint=0;answermode=auto;audio_codecs=PCMU/8000/1;medianat=pinhole" \
		>"$D/dave/accounts"
	lab_count_rtp b
	lab_bg b "$D/dave.log" baresip -f "$D/dave" -t 30
	if ! lab_wait_registered dave 8; then
		bad "baresip's module did not register with users"
		grep -a 'pinhole:' "$D/dave.log" | head -5 | sed 's/^/  baresip: /'
	elif ! authed dave 1; then
		bad "baresip's module: want its REGISTER answered with SHA-256"
		grep 'auth:' "$D/pinholed.log" | sed 's/^/  pinholed: /'
	else
		# erin answers dave's call, after alice's
		lab_bg a "$D/erin.out" "$PC" -r "$LAB_SRV_IP" -u erin --answer \
			-t 24 -d 5 -v -p erinpw
		pe=$LAB_LAST_PID
		lab_exec a "$PC" -r "$LAB_SRV_IP" -u alice --call dave -t 12 -d 4 \
			-p alicepw >"$D/alice2.out" 2>&1
		A=$(tail -1 "$D/alice2.out")
		if [ "${A#*\"received\":}" = "$A" ] || [ "$(lab_field "$A" received)" -lt 100 ]; then
			bad "pinhole-call -> baresip (module) with users: want >= 100 packets"
			echo "  pinhole-call: $A"; grep -a 'call:' "$D/dave.log" | head -5
		else
			echo "ok: baresip's module registered with SHA-256; pinhole-call" \
				"called it: $(lab_field "$A" route), got $(lab_field "$A" received)"
		fi
		dave_calls
	fi
elif [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
	bad "baresip or its module missing, and PH_REQUIRE_ALL is set"
else
	echo "note: baresip or the module not built: the baresip part is not run"
fi
lab_down
[ "$fails" = 0 ]
