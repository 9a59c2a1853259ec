#!/bin/sh
# pinholed on a host with two addresses, one facing each side (lab.sh's
# lab_up_two), listen and relay_address at their defaults (every address;
# each call's legs told the address that faces them): every answer must
# leave from the address it answers (IP_PKTINFO), or the filtering NATs on
# both sides drop it.
#  - pinhole-probe from each side, to X (and from B to Y): the window the
#    single-address lab reports (STUN, the change-port answer, hop test);
#  - pinhole-call on each side (sym x sym, nat x sym, and sym x sym with
#    both registered at Y: alice's SIP crosses to the address that does
#    not face her, and the INVITE must reach bob from Y): both register,
#    the call is set up and relayed, with the callee's relay port at the
#    address that faces it (Y), and media both ways, >= 100 packets counted
#    at each endpoint and at the relay.
# MULTIADDR_PAIRS (env) narrows the calls, e.g. MULTIADDR_PAIRS=sym:sym.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
PC=$top_builddir/plugin/pinhole-call
PROBE=$top_builddir/media/pinhole-probe
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

relay_counts() { # what the relay said when the call ended: CALLER CALLEE
	grep ': media ended (BYE)' "$LAB_DIR/pinholed.log" | tail -1 |
		sed -n 's/.*relay received \([0-9]*\) from the caller, \([0-9]*\) from the callee, .*/\1 \2/p'
}

probe() { # HOST SERVER PUBLIC LOCAL
	got=$(lab_exec "$1" timeout 20 "$PROBE" -v "$2" 2>"$LAB_DIR/probe.err")
	want="$3;local=$4;mapping=$5;filtering=apdf;hops=2;lifetime=30"
	if [ "$got" = "$want" ]; then
		echo "ok: probe from $1 to $2: $got"
	else
		bad "probe from $1 to $2: got '$got', want '$want'"
		sed 's/^/  /' "$LAB_DIR/probe.err" | tail -5
	fi
}

call() { # KIND_A KIND_B [y: both use Y as the registrar (the AoRs' domain)]
	name="$1 x $2, two-address relay host${3:+, registrar Y}"
	lab_up_two "$1" "$2" || { bad "lab $name"; return; }
	srv=$LAB_SRV_IP
	[ "${3:-}" = y ] && srv=$LAB_SRV_Y
	lab_start_pinholed_as -o log_level=debug || { bad "$name: pinholed"; return; }
	probe a "$LAB_SRV_IP" "$LAB_A_PUBLIC" "$LAB_A_IP" "$(map "$1")"
	probe b "$LAB_SRV_IP" "$LAB_B_PUBLIC" "$LAB_B_IP" "$(map "$2")"
	probe b "$LAB_SRV_Y" "$LAB_B_PUBLIC" "$LAB_B_IP" "$(map "$2")"
	rm -f "$LAB_DIR/bob.out" "$LAB_DIR/alice.out" # not the last pair's REGISTER
	lab_bg b "$LAB_DIR/bob.out" "$PC" -r "$srv" -u bob --answer -t 25 -v
	pb=$LAB_LAST_PID
	lab_wait_pc_registered "$LAB_DIR/bob.out" 15 || bad "$name: bob (side B) did not register"
	lab_bg a "$LAB_DIR/alice.out" "$PC" -r "$srv" -u alice --call bob -t 25 -v
	pa=$LAB_LAST_PID
	wait "$pa" "$pb" 2>/dev/null
	grep -q '^pinhole-call: REGISTER: 200' "$LAB_DIR/alice.out" ||
		bad "$name: alice (side A) did not register"
	A=$(tail -1 "$LAB_DIR/alice.out") B=$(tail -1 "$LAB_DIR/bob.out")
	sleep 0.5 # the BYE's report
	set -- $(relay_counts)
	RC=${1:-0} RE=${2:-0}
	# the call report names the caller's and the callee's relay ports
	ports=$(sed -n 's/.*: 200; .*; relay \([0-9.]*\):[0-9]* \([0-9.]*\):[0-9]*$/\1 \2/p' \
		"$LAB_DIR/pinholed.log" | tail -1)
	ok=1
	for r in "$A" "$B"; do
		[ "$(lab_field "$r" route)" = relay ] &&
			[ "$(lab_field "$r" received)" -ge 100 ] 2>/dev/null || ok=0
	done
	[ "$RC" -ge 100 ] && [ "$RE" -ge 100 ] || ok=0
	[ "$ports" = "$LAB_SRV_IP $LAB_SRV_Y" ] || ok=0
	if [ "$ok" = 1 ]; then
		echo "ok: $name: relay at $ports; alice got $(lab_field "$A" received)," \
			"bob $(lab_field "$B" received); the relay got $RC from the caller, $RE from the callee"
	else
		bad "$name: want route relay, the callee told $LAB_SRV_Y, >= 100 packets each way" \
			"at both ends and at the relay (alice got $(lab_field "$A" received)," \
			"bob $(lab_field "$B" received), relay $RC/$RE, relay ports '$ports')"
		echo "  alice: $A"; echo "  bob:   $B"
		grep -E " call |sip: listening|REGISTER|INVITE" "$LAB_DIR/pinholed.log" | tail -12 |
			sed 's/^/  pinholed: /'
		grep '^pinhole-call: ' "$LAB_DIR/alice.out" "$LAB_DIR/bob.out" | tail -6 | sed 's/^/  /'
	fi
	lab_down
}

map() { # KIND: the mapping pinhole-probe measures
	case $1 in sym) echo apdm ;; *) echo eim ;; esac
}

pairs=$(lab_list MULTIADDR_PAIRS "sym:sym nat:sym sym:sym:y") || exit 1
for pair in $pairs; do
	call $(echo "$pair" | tr : " ")
done
[ "$fails" = 0 ]
