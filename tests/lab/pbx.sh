#!/bin/sh
# pinholed in front of a PBX (issue 13, PROTOCOL.md section 11): Kamailio
# (conf/pbx/kamailio.cfg) in the lab's public part at 198.18.0.1, with
# users and passwords in a db_text subscriber table, registrar with Path
# support, and a dialplan: 600 to the IVR, a baresip beside it (auto
# answer, an 8 kHz sine from aufile), other users to their phones.
# pinholed runs with upstream = sip:198.18.0.1.
#
# For each phone kind (pinhole-call behind it, --password):
#  - a wrong password: the PBX refuses it (the 401 reaches the phone) and
#    pinholed stores nothing;
#  - the phone calls 600: RTP both ways (the phone's count, and a counter
#    at the IVR's host); where section 11 says direct (none/eim mapping),
#    none of it reaches pinholed's host; sym, and natopen (its router
#    answers unsolicited input), through the relay;
#  - the IVR's side calls the phone through the PBX (incoming): the same,
#    but natopen direct (the phone opens before it answers).
# An unregistered phone's binding goes from pinholed and the PBX; a
# REGISTER from the PBX's own address, a forged INVITE over a phone's
# Path and a stranger's INVITE are refused 403.
#
# Then a baresip with the pinhole module (bob, auth_user/auth_pass in its
# account) behind the same firewall: the module's REGISTER answers the
# PBX's challenge, baresip's INVITE to 600 too, RTP both ways (counters at
# the phone's and the IVR's hosts), none at pinholed's host where direct.
# Behind natopen the IVR's first packet, sent as it answers, would take the
# phone's window at its router (PROTOCOL.md 11): pinholed learnt from the
# ICMP its probe drew that the router answers unsolicited input, and
# relays the call from the start. Every row wants the phone to get RTP
# within 1.5 s of its dial (none came before the 2 s fall back and
# re-INVITE there was), and no fall back at all.
# Phone to phone through the PBX: tests/lab/pbx_pairs.sh.
#
# LAB_PBX_KINDS (env): the phones' firewall kinds (default "nat", about
# 55 s; all: fw nat natopen sym, as make check-pbx runs). LAB_PBX_MODULE_KINDS
# (default "natopen", about 25 s): kinds for which only the module's row
# runs, unless LAB_PBX_KINDS has them already.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
. "${top_srcdir:-.}/tests/lab/pbxlab.sh"
kinds=$(lab_list LAB_PBX_KINDS "nat" "fw nat natopen sym") || exit 1
mkinds=$(lab_list LAB_PBX_MODULE_KINDS "natopen") || exit 1
lab_module
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# sip_once NS SRC DST MESSAGE: one UDP SIP request from SRC (an address of
# namespace NS) to DST:5060; prints the status line of the answer
sip_once() {
	lab_exec "$1" python3 - "$2" "$3" "$4" <<'PY'
import socket, sys
src, dst, msg = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((src, 0))
s.settimeout(3)
msg = (msg.rstrip("\n") + "\n\n").replace("PORT", str(s.getsockname()[1])).replace("\n", "\r\n")
s.sendto(msg.encode(), (dst, 5060))
try:
    while True:
        line = s.recv(4096).decode(errors="replace").split("\r\n")[0]
        if not line.startswith("SIP/2.0 1"):
            print(line); break
except socket.timeout:
    print("no answer")
PY
}

# req METHOD RURI FROM SRC [ROUTE]: a request's text for sip_once
req() {
	printf '%s %s SIP/2.0\nVia: SIP/2.0/UDP %s:PORT;branch=z9hG4bK%s\nMax-Forwards: 70\nFrom: <%s>;tag=f%s\nTo: <%s>\nCall-ID: %s@lab\nCSeq: 1 %s\nContact: <sip:x@%s:PORT>\n%bContent-Length: 0\n\n' \
		"$1" "$2" "$4" "$$$(date +%N)" "$3" "$$" "$2" "$(date +%N)" "$1" "$4" "${5:+Route: $5\n}"
}



for kind in $kinds; do
	# out: the phone calls the PBX; in: the PBX calls it (natopen: it
	# opens before it answers, before the PBX sends anything)
	case $kind in sym) route=relay ;; *) route=direct ;; esac
	case $kind in natopen) out=relay ;; *) out=$route ;; esac
	pbx_lab_up "$kind" open || { bad "lab $kind"; lab_down; continue; }

	# a wrong password: refused by the PBX, nothing stored here
	lab_bg a "$LAB_DIR/wrong.out" "$PC" -r "$LAB_SRV_IP" -u alice --password nope \
		--call 600 -t 12 -v
	wait "$LAB_LAST_PID"
	if grep -q '^pinhole-call: REGISTER: 401' "$LAB_DIR/wrong.out" &&
	   ! grep -q 'REGISTER: 200' "$LAB_DIR/wrong.out" && ! registered_here alice; then
		echo "ok: $kind: a wrong password is refused by the PBX, nothing stored"
	else
		bad "$kind: a wrong password was not refused, or a binding was stored"
		tail -4 "$LAB_DIR/wrong.out" | sed 's/^/  phone: /'
	fi

	# the phone calls the IVR, then unregisters as it ends
	lab_bg a "$LAB_DIR/out.out" "$PC" -r "$LAB_SRV_IP" -u alice --password alice-secret \
		--call 600 -t 20 -v
	wait "$LAB_LAST_PID"
	registered_here alice || bad "$kind: alice's binding was not stored on the PBX's 200"
	want "$out" "$(tail -1 "$LAB_DIR/out.out")" "$(ivr_rtp)" "$kind phone -> IVR (600)"
	ivr0=$(ivr_rtp) other0=$(lab_srv_other_udp)
	r=$(sip_once pbx "$PBX" "$PBX" "$(req OPTIONS "sip:alice@$PBX" "sip:ivr@$PBX" "$PBX")")
	if grep -q 'edge: REGISTER: sip:alice@[^ ]* granted expires=0' "$LAB_DIR/pinholed.log" &&
	   [ "$r" = "SIP/2.0 404 Not Found" ]; then
		echo "ok: $kind: alice unregistered: gone from pinholed and from the PBX (404)"
	else
		bad "$kind: alice's unregistration did not reach the PBX (it answers '$r'), or pinholed kept her"
	fi

	# the PBX's side calls the phone
	PINHOLE_PASSWORD=alice-secret lab_bg a "$LAB_DIR/in.out" "$PC" -r "$LAB_SRV_IP" \
		-u alice --answer -t 25 -v
	pa=$LAB_LAST_PID
	lab_wait_pc_registered "$LAB_DIR/in.out" || bad "$kind: alice did not register"
	# only phones register, and only the PBX's address calls over a Path
	path=$(sed -n 's/.*saved, Path \(<[^>]*>\).*/\1/p' "$LAB_DIR/kamailio.log" | tail -1)
	r1=$(sip_once pbx "$PBX" "$LAB_SRV_IP" "$(req REGISTER "sip:$LAB_SRV_IP" "sip:eve@$LAB_SRV_IP" "$PBX")")
	r2=$(sip_once b "$LAB_B_IP" "$LAB_SRV_IP" "$(req INVITE "sip:alice@10.0.1.2" "sip:ivr@$PBX" "$LAB_B_IP" "$path")")
	r3=$(sip_once b "$LAB_B_IP" "$LAB_SRV_IP" "$(req INVITE "sip:600@$LAB_SRV_IP" "sip:eve@$LAB_SRV_IP" "$LAB_B_IP")")
	case "$r1|$r2|$r3" in
	"SIP/2.0 403 "*"|SIP/2.0 403 "*"|SIP/2.0 403 "*)
		echo "ok: $kind: 403 to a REGISTER from the PBX's address, a forged INVITE over alice's Path, a stranger's INVITE" ;;
	*) bad "$kind: want 403 three times: '$r1' '$r2' '$r3' (Path '$path')" ;;
	esac
	ivr_config caller 5092
	lab_bg pbx "$LAB_DIR/caller.log" baresip -f "$LAB_DIR/caller" -t 6 \
		-e "/dial sip:alice@$PBX"
	wait "$LAB_LAST_PID" "$pa"
	OTHER0=$other0 want "$route" "$(tail -1 "$LAB_DIR/in.out")" $(($(ivr_rtp) - ivr0)) \
		"$kind IVR side -> phone (incoming)"

	module_row "$kind" "$out"
	lab_down
done

# Behind natopen the IVR's first packet would take the phone's window
# (PROTOCOL.md 11): the module's row alone, in every run
for kind in $mkinds; do
	case " $kinds " in *" $kind "*) continue ;; esac
	pbx_lab_up "$kind" open || { bad "lab $kind"; lab_down; continue; }
	case $kind in natopen|sym) route=relay ;; *) route=direct ;; esac
	module_row "$kind" "$route"
	lab_down
done

[ "$fails" = 0 ]
