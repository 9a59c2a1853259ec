#!/bin/sh
# A call over TLS in the NAT lab (issue 14): pinholed serves SIP over TLS
# with a certificate for its address from a CA made here; two pinhole-calls
# behind NATs check it against that CA (--ca), register and call over TLS
# (--transport tls), and media flows both ways. pinholed logs both
# REGISTERs as over TLS, and no SIP reaches its UDP or plain TCP port
# (counters at its host): the signalling went over TLS only. A
# pinhole-call given another CA does not register (its --ca checks).
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v openssl >/dev/null || lab_skip "openssl not installed"
PC=$top_builddir/plugin/pinhole-call
D=$LAB_DIR

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/ca.key" -out "$D/ca.pem" -days 2 -subj /CN=ph-lab-ca \
	2>/dev/null &&
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/other.key" -out "$D/other.pem" -days 2 -subj /CN=other-ca \
	2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/srv.key" -out "$D/srv.csr" -subj "/CN=$LAB_SRV_IP" 2>/dev/null &&
printf 'subjectAltName=IP:%s\n' "$LAB_SRV_IP" >"$D/srv.ext" &&
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
	-CAcreateserial -days 2 -extfile "$D/srv.ext" -out "$D/srv.pem" \
	2>/dev/null || { echo "FAIL: openssl: the lab's certificates"; exit 1; }

lab_up nat nat || { echo "FAIL: lab nat x nat"; exit 1; }
# SIP at pinholed's host from the lab (sofia-sip's UDP transport sends
# itself one datagram at start, over lo)
lab_exec srv nft -f - <<'NFT'
table inet sipcount {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "lo" accept
		udp dport 5060 counter name "sip_udp"
		tcp dport 5060 counter name "sip_tcp"
		tcp dport 5061 counter name "sip_tls"
	}
	counter sip_udp { }
	counter sip_tcp { }
	counter sip_tls { }
}
NFT
count() { lab_exec srv nft list counter inet sipcount "$1" | awk '/packets/ { print $2 }'; }

lab_start_pinholed -o log_level=debug -o transports=udp,tcp,tls \
	-o tls_certificate="$D/srv.pem" -o tls_key="$D/srv.key" || exit 1
lab_bg b "$D/bob.out" "$PC" -r "$LAB_SRV_IP" -u bob --answer -t 25 -v \
	--transport tls --ca "$D/ca.pem"
pb=$LAB_LAST_PID
lab_wait_pc_registered "$D/bob.out" || {
	echo "FAIL: bob did not register over TLS"; cat "$D/bob.out"
	grep -v 'sofia: [a-z_]*(' "$D/pinholed.log" | tail -15; exit 1; }
lab_bg a "$D/alice.out" "$PC" -r "$LAB_SRV_IP" -u alice --call bob -t 25 \
	--transport tls --ca "$D/ca.pem"
pa=$LAB_LAST_PID
wait "$pa" "$pb" 2>/dev/null
A=$(tail -1 "$D/alice.out")
B=$(tail -1 "$D/bob.out")
fails=0
lab_both_got 100 "$A" "$B" || {
	echo "FAIL: want >= 100 packets each way"
	echo "  alice: $A"; echo "  bob:   $B"
	sed 's/^/  pinholed: /' "$D/pinholed.log" | grep -v sofia | tail -15
	fails=$((fails + 1)); }
for u in alice bob; do
	grep -q "REGISTER $u@$LAB_SRV_IP from [^ ]*/tls: 200" "$D/pinholed.log" || {
		echo "FAIL: no REGISTER of $u over TLS in pinholed's log"; fails=$((fails + 1)); }
done
udp=$(count sip_udp) tcp=$(count sip_tcp) tls=$(count sip_tls)
if [ "$udp" != 0 ] || [ "$tcp" != 0 ] || [ "${tls:-0}" -lt 10 ]; then
	echo "FAIL: SIP at pinholed: $udp UDP and $tcp TCP packets to 5060 (want 0), $tls to TLS 5061"
	fails=$((fails + 1))
fi
[ "$fails" = 0 ] && echo "ok: nat x nat over TLS: $(lab_field "$A" route)," \
	"alice got $(lab_field "$A" received), bob $(lab_field "$B" received);" \
	"both registered over TLS; SIP packets at pinholed: $tls to TLS 5061, 0 to 5060"
# baresip with pinhole's module (its own REGISTER, reg.c) registers over
# TLS, its account saying so, and calls a pinhole-call over TLS.
MOD=$top_builddir/plugin/baresip/.libs/pinhole.so
if command -v baresip >/dev/null && [ -f "$MOD" ]; then
	LD_LIBRARY_PATH=$(cd "$top_builddir/media" && pwd)/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
	export LD_LIBRARY_PATH
	lab_baresip_config a "$D/dave" "$LAB_SRV_IP:3478"
	echo "sip_cafile		$D/ca.pem" >>"$D/dave/config"
	python3 -c 'import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * 2 * math.pi * 440 / 8000))) for i in range(80000)))' \
		"$D/sine8k.wav"
	sed -i "s|^audio_source.*|audio_source		aufile,$D/sine8k.wav|" "$D/dave/config"
	tls_uri="sip:$LAB_SRV_IP:5061;transport=tls"
	echo "<sip:dave@$LAB_SRV_IP:5061;transport=tls>;regint=0;answermode=auto;audio_codecs=PCMU/8000/1;medianat=pinhole;outbound=\"$tls_uri\"" \
		>"$D/dave/accounts"
	lab_bg b "$D/erin.out" "$PC" -r "$LAB_SRV_IP" -u erin --answer -t 20 -d 4 -v \
		--transport tls --ca "$D/ca.pem"
	pe=$LAB_LAST_PID
	lab_wait_pc_registered "$D/erin.out" || fails=$((fails + 1))
	lab_bg a "$D/dave.log" baresip -f "$D/dave" -t 9 -e "/dial erin@$LAB_SRV_IP"
	wait "$pe" 2>/dev/null
	E=$(tail -1 "$D/erin.out")
	if ! grep -q "REGISTER dave@$LAB_SRV_IP from [^ ]*/tls: 200" "$D/pinholed.log"; then
		echo "FAIL: baresip's module did not register over TLS"
		grep -a 'pinhole:\|tls\|TLS' "$D/dave.log" | head -5 | sed 's/^/  baresip: /'
		fails=$((fails + 1))
	elif [ "${E#*\"received\":}" = "$E" ] || [ "$(lab_field "$E" received)" -lt 100 ]; then
		echo "FAIL: baresip -> pinhole-call over TLS: want >= 100 packets"
		echo "  pinhole-call: $E"; grep -a 'call:' "$D/dave.log" | head -5
		fails=$((fails + 1))
	else
		echo "ok: baresip (module) registered over TLS and called pinhole-call over TLS:" \
			"$(lab_field "$E" route), pinhole-call got $(lab_field "$E" received)"
	fi
elif [ "${PH_REQUIRE_ALL:-0}" != 0 ]; then
	echo "FAIL: baresip or its module missing, and PH_REQUIRE_ALL is set"; fails=$((fails + 1))
else
	echo "note: baresip or the module not built: the baresip part is not run"
fi
udp=$(count sip_udp) tcp=$(count sip_tcp)
if [ "$udp" != 0 ] || [ "$tcp" != 0 ]; then
	echo "FAIL: SIP at pinholed after baresip: $udp UDP and $tcp TCP packets to 5060 (want 0)"
	fails=$((fails + 1))
fi

# --ca checks: a CA that did not issue pinholed's certificate, no REGISTER
if lab_exec a "$PC" -r "$LAB_SRV_IP" -u carol --answer -t 6 -v \
	--transport tls --ca "$D/other.pem" >"$D/carol.out" 2>&1; then
	echo "FAIL: pinhole-call --ca with another CA: exit 0"; fails=$((fails + 1))
fi
if grep -q 'REGISTER: 200' "$D/carol.out" ||
   grep -q "REGISTER carol@" "$D/pinholed.log"; then
	echo "FAIL: pinhole-call --ca with another CA registered"; fails=$((fails + 1))
else
	echo "ok: --ca with a CA that did not issue pinholed's certificate: no REGISTER ($(tail -2 "$D/carol.out" | head -1))"
fi
lab_down
[ "$fails" = 0 ]
