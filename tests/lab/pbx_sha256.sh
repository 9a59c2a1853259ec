#!/bin/sh
# pinholed in front of a Kamailio that challenges with SHA-256 (issue 13;
# conf/pbx/kamailio.cfg started with -A WITH_SHA256: its 401 and 407 say
# algorithm=SHA-256, and offer no MD5). Behind a NAT:
#  - pinhole-call (--password) registers and calls the IVR (600): its
#    answers to the REGISTER's 401 and to the INVITE's 407 are SHA-256,
#    RTP both ways, direct;
#  - a baresip with the pinhole module (bob, auth_pass in its account)
#    registers (the module's REGISTER, SHA-256) and calls 600: its INVITE
#    carries the module's SHA-256 credentials, from a nonce fetched for the
#    call (libre 1.1.0's own digest gives up on SHA-256), RTP both ways.
# The rest of edge mode, with MD5: tests/lab/pbx.sh.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
. "${top_srcdir:-.}/tests/lab/pbxlab.sh"
lab_module
LAB_PBX_SHA256=1
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

pbx_lab_up nat open || { echo "FAIL: lab nat"; exit 1; }

lab_bg a "$LAB_DIR/out.out" "$PC" -r "$LAB_SRV_IP" -u alice --password alice-secret \
	--call 600 -t 20 -v
wait "$LAB_LAST_PID"
want direct "$(tail -1 "$LAB_DIR/out.out")" "$(ivr_rtp)" "nat phone -> IVR (600), Kamailio with SHA-256"
for s in 401 407; do
	grep -q "^pinhole-call: $s: answering the challenge of realm \"[^\"]*\" with SHA-256" \
		"$LAB_DIR/out.out" || {
		bad "pinhole-call: want the $s answered with SHA-256"
		grep 'challenge' "$LAB_DIR/out.out" | sed 's/^/  phone: /'
	}
done

module_row nat direct
if ! grep -aq "pinhole: sip:bob@[^ ]* registered with Firewall-Window .*, digest SHA-256" "$LAB_DIR/bob.log" ||
   ! grep -aq "pinhole: INVITE sip:600@[^ ]*: SHA-256 digest credentials" "$LAB_DIR/bob.log"; then
	bad "baresip (module): want its REGISTER and its INVITE answered with SHA-256"
	grep -a 'pinhole: .*\(registered\|digest\)\|call:' "$LAB_DIR/bob.log" | sed 's/^/  bob: /' | cut -c1-160
else
	echo "ok: baresip (module): REGISTER and INVITE with SHA-256 digest"
fi
lab_down
[ "$fails" = 0 ]
