#!/bin/sh
# Direct media in the NAT lab, roles told by hand (no SIP yet): for every
# pair of kinds that PROTOCOL.md section 5 calls direct, two libpinhole
# endpoints exchange 100 datagrams each way, counted at the receivers; each
# arrives from the window its sender advertised (where that sender's NAT
# keeps one window per socket); none of it reaches pinholed's host. Then
# natopen x natopen with a full-TTL null packet fails, hop-limited works.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
EP=$top_builddir/tests/lab/endpoint
fails=0

# Each side's hops as pinhole-probe measures them (tests/lab/probe.sh).
hops_of() { if [ "$1" = open ]; then echo 1; else echo 2; fi; }

# call CALLER CALLEE ROLE_A ROLE_B HOPS_A HOPS_B: one exchange; sets OUT_A, OUT_B
call() {
	lab_up "$1" "$2" || { echo "FAIL: lab $1 x $2"; exit 1; }
	lab_start_pinholed || exit 1
	mkdir -p "$LAB_DIR/x" && rm -f "$LAB_DIR/x/"*
	lab_bg a "$LAB_DIR/a.out" "$EP" --server "$LAB_SRV_IP" --role "$3" \
		--dir "$LAB_DIR/x" --name a --peer b --hops "$5"
	pa=$LAB_LAST_PID
	lab_bg b "$LAB_DIR/b.out" "$EP" --server "$LAB_SRV_IP" --role "$4" \
		--dir "$LAB_DIR/x" --name b --peer a --hops "$6"
	pb=$LAB_LAST_PID
	wait "$pa" "$pb" 2>/dev/null
	OUT_A=$(tail -1 "$LAB_DIR/a.out")
	OUT_B=$(tail -1 "$LAB_DIR/b.out")
	OTHER=$(lab_srv_other_udp)
	lab_down
}

check() { # NAME CONDITION MESSAGE
	if eval "$2"; then :; else
		echo "FAIL: $1: $3"; echo "  a: $OUT_A"; echo "  b: $OUT_B"
		fails=$((fails + 1)); return 1
	fi
}

# caller (a) transmits, callee (b) opens; with a symmetric NAT on one side
# the open host is the one that latches (section 5).
for pair in $LAB_DIRECT_PAIRS; do
	set -- $(echo "$pair" | tr : " ")
	ra=transmit rb=open
	[ "$2" = sym ] && ra=open rb=transmit
	call "$1" "$2" "$ra" "$rb" "$(hops_of "$1")" "$(hops_of "$2")"
	name="$1 x $2"
	check "$name" '[ "$(lab_field "$OUT_A" received)" = 100 ] && [ "$(lab_field "$OUT_B" received)" = 100 ]' \
		"not 100 datagrams each way" || continue
	[ "$1" != sym ] && { check "$name" '[ "$(lab_field "$OUT_B" first_src)" = "$(lab_field "$OUT_A" window)" ]' \
		"a's media did not come from a's advertised window" || continue; }
	[ "$2" != sym ] && { check "$name" '[ "$(lab_field "$OUT_A" first_src)" = "$(lab_field "$OUT_B" window)" ]' \
		"b's media did not come from b's advertised window" || continue; }
	check "$name" '[ "$OTHER" = 0 ]' "$OTHER datagrams reached pinholed's host" || continue
	echo "ok: $name: 100 each way, direct, windows as advertised"
done

# PROTOCOL.md section 4, "Why the TTL": a full-TTL null packet reaches the
# peer's router, whose conntrack entry then takes the peer's port.
call natopen natopen transmit open 64 64
check "natopen x natopen, full TTL" '[ "$(lab_field "$OUT_B" received)" != 100 ]' \
	"the full-TTL null packet should have broken the call" &&
	echo "ok: natopen x natopen with a full-TTL null packet: b got $(lab_field "$OUT_B" received) of 100 (as expected, it fails)"
[ "$fails" = 0 ]
