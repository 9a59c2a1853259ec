#!/bin/sh
# Phone to phone through a PBX that passes the SDP through (issue 13,
# PROTOCOL.md section 11): pinhole-call phones behind two lab firewalls
# register with their passwords through pinholed to Kamailio
# (tests/lab/pbxlab.sh), alice calls bob; Kamailio sends the call back
# through pinholed over bob's Path with alice's SDP and Call-ID.
# pinholed matches both legs and decides as between the two phones: every
# pair PROTOCOL.md section 5 calls direct has direct media, none of it at
# pinholed's host; the others go through the relay. LAB_PBX_PAIRS (env):
# the pairs (default "sym:sym"; all: every pair, as make check-pbx runs).
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
. "${top_srcdir:-.}/tests/lab/pbxlab.sh"
pairs=$(lab_list LAB_PBX_PAIRS "sym:sym" \
	"$LAB_DIRECT_PAIRS sym:sym sym:nat sym:natopen sym:fw") || exit 1
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

for pair in $pairs; do
	set -- $(echo "$pair" | tr : " ")
	case $pair in sym:sym|sym:nat|sym:natopen|sym:fw) route=relay ;; *) route=direct ;; esac
	pbx_lab_up "$1" "$2" || { bad "lab $pair"; lab_down; continue; }
	lab_bg b "$LAB_DIR/bob.out" "$PC" -r "$LAB_SRV_IP" -u bob --password bob-secret \
		--answer -t 25 -v
	pb=$LAB_LAST_PID
	lab_wait_pc_registered "$LAB_DIR/bob.out" || bad "$pair: bob did not register"
	lab_bg a "$LAB_DIR/alice.out" "$PC" -r "$LAB_SRV_IP" -u alice --password alice-secret \
		--call bob -t 25 -v
	wait "$LAB_LAST_PID" "$pb"
	A=$(tail -1 "$LAB_DIR/alice.out") B=$(tail -1 "$LAB_DIR/bob.out") other=$(lab_srv_other_udp)
	if [ "$(lab_field "$A" route)" = "$route" ] && [ "$(lab_field "$B" route)" = "$route" ] &&
	   [ "$(lab_field "$A" received)" -ge 100 ] && [ "$(lab_field "$B" received)" -ge 100 ] &&
	   { [ "$route" != direct ] || [ "$other" = 0 ]; } &&
	   grep -q " call [^ ]*;pbx-in: 200; route $route " "$LAB_DIR/pinholed.log"; then
		echo "ok: $1 x $2 through the PBX: $route, alice got $(lab_field "$A" received)," \
			"bob $(lab_field "$B" received), pinholed's host $other"
	else
		bad "$1 x $2 through the PBX: want $route both ways, decided on the PBX's leg" \
			"(pinholed's host: $other)"
		echo "  alice: $A"; echo "  bob:   $B"
		grep ' call \|edge:' "$LAB_DIR/pinholed.log" | tail -3 | sed 's/^/  pinholed: /' | cut -c1-300
	fi
	lab_down
done

[ "$fails" = 0 ]
