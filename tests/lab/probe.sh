#!/bin/sh
# pinhole-probe in the NAT lab: for every kind of firewall, the measured
# Firewall-Window must name the right public address, mapping, filtering
# and hop count (tests/lab/README).
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require

fails=0
for case in "open none none 1" "fw none apdf 2" "nat eim apdf 2" \
	    "natopen eim apdf 2" "sym apdm apdf 2"; do
	set -- $case
	kind=$1
	lab_up "$kind" open || { echo "FAIL: lab $kind"; exit 1; }
	lab_start_pinholed || exit 1
	got=$(lab_exec a timeout 20 "$top_builddir/media/pinhole-probe" -v \
		"$LAB_SRV_IP" 2>"$LAB_DIR/probe.err")
	want="$LAB_A_PUBLIC"
	[ "$LAB_A_PUBLIC" != "$LAB_A_IP" ] && want="$want;local=$LAB_A_IP"
	want="$want;mapping=$2;filtering=$3;hops=$4;lifetime=30"
	if [ "$got" = "$want" ]; then
		echo "ok: $kind: $got"
	else
		echo "FAIL: $kind: got '$got', want '$want'"
		sed 's/^/  /' "$LAB_DIR/probe.err"
		fails=$((fails + 1))
	fi
	lab_down
done
[ "$fails" = 0 ]
