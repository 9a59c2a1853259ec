#!/bin/sh
# A phone over TCP is reachable again within seconds after pinholed
# restarts (RFC 5626, issue 15): pinholed is killed with -9 and started
# again on the same store 2 s later; the bindings it reloads have no flow
# (the connections died with the process). The baresip module (Contact
# with reg-id and +sip.instance; pinholed's 200 says Require: outbound
# and Flow-Timer) keeps its flow alive and registers again over a new one
# as soon as it fails, retrying while pinholed is down; pinhole-call
# (sofia-sip's nua registers again when the connection of its
# registration closes) retries too: both within WITHIN seconds of the
# restart, not when their registrations run out (300 s). Then a call to
# the baresip phone reaches it over its new flow.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v baresip >/dev/null || lab_skip "baresip not installed"
lab_module
PC=$top_builddir/plugin/pinhole-call
D=$LAB_DIR
WITHIN=10
KEEP="-o log_level=debug -o store_path=$D/keep.db -o transports=udp,tcp"

# phone X USER ACCOUNT-PARAMS: the module's baresip for host X, registering
# over TCP
phone() {
	lab_baresip_config "$1" "$D/$2" "$LAB_SRV_IP:3478"
	sed -e "s|<sip:alice@[^>]*>|<sip:$2@$LAB_SRV_IP:5060;transport=tcp>|" \
		"$top_srcdir/conf/baresip/accounts" | grep -v '^#' >"$D/$2/accounts"
}
# registered USER LOG: lines of LOG with a 200 to a REGISTER of USER over TCP
registered() { grep -c "REGISTER $1@[^ ]* from [^ ]*/tcp: 200" "$2"; }

lab_up nat nat || { echo "FAIL: lab nat x nat"; exit 1; }
phone b bob
lab_start_pinholed $KEEP || exit 1
ph=$LAB_LAST_PID   # ip netns exec execs pinholed: its own pid
lab_bg b "$D/bob.log" baresip -f "$D/bob" -t 45
lab_bg a "$D/carol.out" "$PC" -r "$LAB_SRV_IP" -u carol --answer -t 45 -v \
	--transport tcp
lab_wait_registered bob 10 && lab_wait_pc_registered "$D/carol.out" || {
	echo "FAIL: bob and carol did not register over TCP"
	grep -v 'sofia: [a-z_]*(' "$D/pinholed.log" | tail -15; exit 1; }

kill -9 "$ph"; wait "$ph" 2>/dev/null
# down for a while, as a restart by hand or by systemd is: the first
# attempts to register again fail
sleep 2
mv "$D/pinholed.log" "$D/pinholed-1.log"
lab_start_pinholed $KEEP || exit 1
t0=$(date +%s)
fails=0
for u in bob carol; do
	if lab_wait_for "$WITHIN" "$D/pinholed.log" "REGISTER $u@[^ ]* from [^ ]*/tcp: 200"; then
		echo "ok: $u registered again over a new TCP flow $(($(date +%s) - t0)) s after the restart"
	else
		echo "FAIL: $u did not register again within $WITHIN s of the restart"
		fails=$((fails + 1))
	fi
done
[ "$fails" = 0 ] || {
	grep -a 'pinhole' "$D/bob.log" | tail -5 | sed 's/^/  bob: /'
	grep 'REGISTER' "$D/carol.out" | tail -4 | sed 's/^/  carol: /'
	grep -v 'sofia: [a-z_]*(' "$D/pinholed.log" | grep -i 'register\|store' | tail -8 | sed 's/^/  pinholed: /'
	exit 1; }

# the call reaches bob over his new flow
phone a alice
lab_bg a "$D/alice.log" baresip -f "$D/alice" -t 8 -e "/dial bob@$LAB_SRV_IP"
lab_wait_for 15 "$D/pinholed.log" ' call [^ ]*: 200; route ' || {
	echo "FAIL: the call to bob after the restart was not answered"
	grep ' call \|proxy' "$D/pinholed.log" | tail -5 | sed 's/^/  pinholed: /'
	exit 1; }
echo "ok: a call reaches bob over his new flow: $(sed -n 's/.* \(call [^ ]*: 200; route [a-z]*\).*/\1/p' "$D/pinholed.log" | tail -1)"
