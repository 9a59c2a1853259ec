#!/bin/sh
# Edge mode (upstream, PROTOCOL.md section 11) on pinholed's host with two
# addresses: X (LAB_SRV_IP) faces the phones, Y (LAB_SRV_Y) the PBX, whose
# network srv routes out of Y and whose packets to X it drops (the PBX's
# LAN reaches only Y), as it drops the phones' to Y. pinhole-call phones behind two NATs register at X
# through pinholed to Kamailio (tests/lab/pbxlab.sh) and alice calls bob
# through it: what pinholed sends the PBX must leave from Y, and the Path
# and Record-Route it writes for the PBX must name Y (those for the phones
# X), or the PBX's answers and its INVITE to bob are dropped; the call
# must carry media both ways.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
. "${top_srcdir:-.}/tests/lab/pbxlab.sh"
D=$LAB_DIR
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

lab_up_two nat nat && pbx_up || { echo "FAIL: lab nat x nat, two-address host, PBX"; exit 1; }
X=$LAB_SRV_IP Y=$LAB_SRV_Y
lab_exec srv ip route add 198.18.0.0/24 via 203.0.113.254 src "$Y" ||
	{ echo "FAIL: the route to the PBX from Y"; exit 1; }
lab_exec srv nft -f - <<NFT || { echo "FAIL: the counters at pinholed's host"; exit 1; }
table inet edge {
	counter pbx_to_x { }
	counter phones_to_y { }
	chain input {
		type filter hook input priority -10; policy accept;
		ip saddr 198.18.0.0/24 ip daddr $X counter name "pbx_to_x" drop
		ip saddr 198.51.100.0/24 ip daddr $Y counter name "phones_to_y" drop
	}
}
NFT
lab_start_pinholed_as -o log_level=debug -o "upstream=sip:$PBX" -o relay_idle=5 || exit 1
lab_bg b "$D/bob.out" "$PC" -r "$X" -u bob --password bob-secret --answer -t 25 -v
pb=$LAB_LAST_PID
lab_wait_pc_registered "$D/bob.out" 15 || bad "bob did not register through the PBX"
lab_bg a "$D/alice.out" "$PC" -r "$X" -u alice --password alice-secret --call bob -t 25 -v
wait "$LAB_LAST_PID" "$pb" 2>/dev/null
A=$(tail -1 "$D/alice.out") B=$(tail -1 "$D/bob.out")
count() { lab_exec srv nft list counter inet edge "$1" | awk '/packets/ { print $2 }'; }
dropped=$(count pbx_to_x) strayed=$(count phones_to_y)

grep -q 'REGISTER: 200' "$D/alice.out" || bad "alice did not register through the PBX"
lab_both_got 100 "$A" "$B" || {
	bad "want >= 100 packets each way"; echo "  alice: $A"; echo "  bob:   $B"; }
[ "$dropped" = 0 ] || bad "${dropped:-no count of} packets from the PBX to X (want 0: pinholed named Y to it)"
[ "$strayed" = 0 ] || bad "${strayed:-no count of} packets from the phones to Y (want 0: pinholed named X to them)"
grep -q "proxy: REGISTER to sip:$PBX:5060;transport=udp from $Y\$" "$D/pinholed.log" ||
	bad "the REGISTERs to the PBX did not leave from Y"
grep -q 'pinhole-call: call ended' "$D/bob.out" || bad "bob did not hear the BYE"
if [ "$fails" != 0 ]; then
	grep -h 'REGISTER\|INVITE\|BYE' "$D/alice.out" "$D/bob.out" | tail -10 | sed 's/^/  /'
	grep -E 'proxy: |REGISTER|upstream' "$D/pinholed.log" | grep -v 'sofia' | tail -15 |
		sed 's/^/  pinholed: /'
	exit 1
fi
echo "ok: edge mode, two-address host: phones at X, the PBX at Y; $(lab_field "$A" route)," \
	"alice got $(lab_field "$A" received), bob $(lab_field "$B" received);" \
	"0 packets from the PBX to X, 0 from the phones to Y"
