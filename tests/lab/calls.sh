#!/bin/sh
# Calls through pinholed in the NAT lab (issue 4): pinholed in the core, a
# pinhole-call on each side. For every pair that PROTOCOL.md section 5
# calls direct the call completes, media flows both ways for 3 s, none of
# it reaches pinholed's host (a packet counter there, not the endpoints'
# word), and the first packet arrives within 25 ms of the 2xx (one round
# trip in the lab, under 5 ms, plus 20 ms). Both behind
# one NAT: route local, media between the private addresses. (Calls with
# no direct path, and plain phones: relay.sh.)
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
fails=0

call() { # sets A, B (the two reports) and OTHER (datagrams at pinholed's host)
	lab_start_pinholed -o log_level=notice || exit 1
	lab_bg b "$LAB_DIR/bob.out" "$PC" -r "$LAB_SRV_IP" -u bob --answer -t 25 -v
	pb=$LAB_LAST_PID
	lab_wait_pc_registered "$LAB_DIR/bob.out" # bob measures (about 2 s), then registers
	lab_bg a "$LAB_DIR/alice.out" "$PC" -r "$LAB_SRV_IP" -u alice --call bob -t 25
	pa=$LAB_LAST_PID
	wait "$pa" "$pb" 2>/dev/null
	A=$(tail -1 "$LAB_DIR/alice.out")
	B=$(tail -1 "$LAB_DIR/bob.out")
	OTHER=$(lab_srv_other_udp)
	REPORT=$(grep ' call ' "$LAB_DIR/pinholed.log" | tail -1)
}

check() { # NAME ROUTE
	name=$1 route=$2
	for r in "$A" "$B"; do
		if [ "$(lab_field "$r" route)" != "$route" ] ||
		   [ "${r#*\"received\":}" = "$r" ] ||
		   [ "$(lab_field "$r" received)" -lt 100 ] ||
		   [ "$(lab_field "$r" first_media_ms)" -lt 0 ] ||
		   [ "$(lab_field "$r" first_media_ms)" -gt 25 ]; then
			echo "FAIL: $name: want route $route, >= 100 packets, first within 25 ms"
			echo "  alice: $A"; echo "  bob:   $B"; echo "  pinholed: $REPORT"
			sed 's/^/  pinholed: /' "$LAB_DIR/pinholed.log" | tail -5
			fails=$((fails + 1)); return 1
		fi
	done
	if [ "$OTHER" != 0 ]; then
		echo "FAIL: $name: $OTHER datagrams reached pinholed's host"
		fails=$((fails + 1)); return 1
	fi
	echo "ok: $name: $route, alice got $(lab_field "$A" received), bob $(lab_field "$B" received)," \
		"first media after $(lab_field "$A" first_media_ms)/$(lab_field "$B" first_media_ms) ms"
}

for pair in $LAB_DIRECT_PAIRS; do
	set -- $(echo "$pair" | tr : " ")
	lab_up "$1" "$2" || { echo "FAIL: lab $1 x $2"; exit 1; }
	call
	check "$1 x $2" direct
	lab_down
done

lab_up_samenat nat || { echo "FAIL: same-NAT lab"; exit 1; }
call
check "both behind one nat" local
case $(lab_field "$A" peer) in
10.0.3.2:*) echo "ok: same NAT: alice sent to bob's private address $(lab_field "$A" peer)" ;;
*) echo "FAIL: same NAT: alice sent to $(lab_field "$A" peer), not bob's private address"; fails=$((fails + 1)) ;;
esac
lab_down
[ "$fails" = 0 ]
