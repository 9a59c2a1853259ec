#!/bin/sh
# Two pinholed nodes sharing their bindings in one Redis (store = redis,
# issue 15): node 1 in srv (203.0.113.1, with redis-server), node 2 in a
# host of its own (srv2, 198.18.0.1), both serving the domain pinhole.test;
# pinhole-call runs on side a, behind a NAT that filters by address and
# port (nat), and on side b, open.
#  1. bob (behind the NAT) registers through node 1, alice calls him
#     through node 2: the INVITE goes node 2 -> node 1 (a Route naming
#     bob's flow) -> bob, and the call completes with media both ways;
#     alice's BYE, sent to node 2, reaches bob through node 1 (over his
#     flow: his NAT lets in nothing from node 2).
#  2. node 1 is killed (-9). Node 2 still serves: carol, registered
#     through node 2, is called and answers; dave (open side b), registered
#     through the dead node 1, is reached at his registered address
#     (nothing filters) once node 1's heartbeat key has expired in Redis.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v redis-server >/dev/null || lab_skip "redis-server not installed"
grep -q 'HAVE_HIREDIS 1' "$top_builddir/config.h" ||
	lab_skip "pinholed built without hiredis (libhiredis-dev)"
PC=$top_builddir/plugin/pinhole-call
DOM=pinhole.test
N1=$LAB_SRV_IP N2=198.18.0.1
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

node() { # NS LOG ADDRESS: a pinholed node on the shared Redis
	lab_bg "$1" "$2" "$top_builddir/registrar/pinholed" -f -o log_level=debug \
		-o store=redis -o "redis=$N1:6379" -o "listen=$3" \
		-o route_secret=lab-secret-shared-by-both-nodes
	lab_wait_for 10 "$2" ' ready: ' || { cat "$2"; exit 1; }
}

phone() { # HOST NAME NODE ARGS...: a pinhole-call; its output in NAME.out
	local h=$1 n=$2 r=$3; shift 3
	lab_bg "$h" "$LAB_DIR/$n.out" "$PC" -r "$r" -D "$DOM" -u "$n" -v "$@"
}

ok_call() { # NAME CALLER CALLEE: both reports say media flowed both ways
	local a b
	a=$(tail -1 "$LAB_DIR/$2.out") b=$(tail -1 "$LAB_DIR/$3.out")
	lab_both_got 100 "$a" "$b" || {
		fail "$1: want >= 100 packets each way"
		echo "  $2: $a"; echo "  $3: $b"
		return 1; }
	echo "ok: $1: $2 got $(lab_field "$a" received), $3 $(lab_field "$b" received) ($(lab_field "$a" route))"
}

lab_up nat open || { echo "FAIL: lab"; exit 1; }
lab_ns srv2
lab_link core csrv2 198.18.0.254/24 srv2 eth0 "$N2/24" || exit 1
lab_exec srv2 ip route add default via 198.18.0.254
lab_bg srv "$LAB_DIR/redis.log" redis-server --bind "$N1" --port 6379 \
	--save '' --appendonly no --protected-mode no --dir "$LAB_DIR"
lab_wait_for 5 "$LAB_DIR/redis.log" 'Ready to accept' || exit 1
node srv "$LAB_DIR/n1.log" "$N1"
p1=$LAB_LAST_PID
node srv2 "$LAB_DIR/n2.log" "$N2"

# 1. through node 1, called through node 2
phone a bob "$N1" --answer -t 20
pb=$LAB_LAST_PID
phone b dave "$N1" --answer -t 45
pd=$LAB_LAST_PID
lab_wait_pc_registered "$LAB_DIR/bob.out" && lab_wait_pc_registered "$LAB_DIR/dave.out" ||
	fail "bob or dave not registered through node 1"
phone b alice "$N2" --call bob -t 15
wait "$LAB_LAST_PID" "$pb" 2>/dev/null
ok_call "bob (node 1, behind a NAT) called through node 2" alice bob
grep -q "INVITE to sip:$N1:5060" "$LAB_DIR/n2.log" ||
	fail "node 2 did not send the INVITE to node 1"
grep -q "^.*INVITE to sip:$LAB_A_PUBLIC:" "$LAB_DIR/n1.log" ||
	fail "node 1 did not send the INVITE on to bob"
if grep -q "BYE to sip:$LAB_A_PUBLIC:" "$LAB_DIR/n1.log" &&
   grep -q "^pinhole-call: call ended" "$LAB_DIR/bob.out"; then
	echo "ok: alice's BYE reached bob through node 1"
else
	fail "alice's BYE (to node 2) did not reach bob through node 1"
fi

# 2. node 1 lost
kill -9 "$p1"
killed=$(date +%s)
phone b carol "$N2" --answer -t 20
pc=$LAB_LAST_PID
lab_wait_pc_registered "$LAB_DIR/carol.out" || fail "carol not registered through node 2"
phone a alice2 "$N2" --call carol -t 15
wait "$LAB_LAST_PID" "$pc" 2>/dev/null
ok_call "carol (node 2) called after node 1 died" alice2 carol
# node 1's heartbeat key lives 3 s (STORE_NODE_DEAD_S), node 2 looks each second
while [ $(($(date +%s) - killed)) -lt 5 ]; do sleep 0.5; done
phone a alice3 "$N2" --call dave -t 15
wait "$LAB_LAST_PID" "$pd" 2>/dev/null
ok_call "dave (dead node 1) reached at his registered address" alice3 dave
n=$(grep -c "INVITE to sip:$N1:5060" "$LAB_DIR/n2.log")
[ "$n" = 1 ] || fail "node 2 sent $n INVITEs to node 1 (want 1: none after it died)"
if [ "$fails" != 0 ]; then
	for f in n1.log n2.log bob.out; do
		grep -v "debug: sofia" "$LAB_DIR/$f" | grep -E "store|proxy|INVITE|redis" | sed "s/^/  $f: /" | head -20
	done
fi
[ "$fails" = 0 ]
