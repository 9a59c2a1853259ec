#!/bin/sh
# Digest authentication and TLS on pinholed's host with two addresses, one
# facing each side (lab.sh's lab_up_two; PROTOCOL.md sections 1 and 10):
# pinholed listens on both (the default) with users (realm lab) and TLS,
# its certificate for Y. alice (side A) registers and calls over UDP at X,
# the address facing her; bob (side B) registers over TLS at Y, the one
# facing him, both with their passwords (domain lab). Each challenge and
# its answer must come from and go to the address the phone talks to (a
# nonce is bound to the phone's source IP; an answer from the other
# address is dropped by the phone's NAT), the INVITE and the BYE must
# reach bob over his TLS connection at Y, and media flows both ways.
. "${top_srcdir:-.}/tests/lab/lab.sh"
lab_require
command -v openssl >/dev/null || lab_skip "openssl not installed"
PC=$top_builddir/plugin/pinhole-call
PASSWD=$top_builddir/registrar/pinholed-passwd
D=$LAB_DIR
fails=0
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

lab_up_two nat nat || { echo "FAIL: lab nat x nat, two-address host"; exit 1; }
Y=$LAB_SRV_Y
for u in alice bob; do
	printf '%spw\n' "$u" | "$PASSWD" -r lab "$D/users" "$u" >/dev/null ||
		{ echo "FAIL: pinholed-passwd $u"; exit 1; }
done
# sofia-sip checks the name against the certificate's CN (it reads no IP
# subjectAltName): Y's
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/ca.key" -out "$D/ca.pem" -days 2 -subj /CN=ph-lab-ca 2>/dev/null &&
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$D/srv.key" -out "$D/srv.csr" -subj "/CN=$Y" 2>/dev/null &&
openssl x509 -req -in "$D/srv.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
	-CAcreateserial -days 2 -out "$D/srv.pem" 2>/dev/null ||
	{ echo "FAIL: openssl: the lab's certificates"; exit 1; }

lab_start_pinholed_as -o log_level=debug -o users="$D/users" -o realm=lab \
	-o transports=udp,tcp,tls -o tls_certificate="$D/srv.pem" \
	-o tls_key="$D/srv.key" || exit 1
lab_bg b "$D/bob.out" "$PC" -r "$Y" -D lab -u bob -p bobpw --answer -t 25 -v \
	--transport tls --ca "$D/ca.pem"
pb=$LAB_LAST_PID
lab_wait_pc_registered "$D/bob.out" 15 || bad "bob did not register over TLS at Y"
lab_bg a "$D/alice.out" "$PC" -r "$LAB_SRV_IP" -D lab -u alice -p alicepw \
	--call bob -t 25 -v
wait "$LAB_LAST_PID" "$pb" 2>/dev/null
A=$(tail -1 "$D/alice.out") B=$(tail -1 "$D/bob.out")

grep -q "REGISTER bob@lab from $LAB_B_PUBLIC:[0-9]*/tls: 200" "$D/pinholed.log" ||
	bad "no 200 to bob's REGISTER over TLS in pinholed's log"
grep -q "REGISTER alice@lab from $LAB_A_PUBLIC:[0-9]*/udp: 200" "$D/pinholed.log" ||
	bad "no 200 to alice's REGISTER over UDP in pinholed's log"
for u in alice bob; do
	grep -q "auth: $u authenticated (SHA-256)" "$D/pinholed.log" ||
		bad "$u not authenticated with SHA-256"
done
grep -q 'INVITE: 407' "$D/alice.out" || bad "alice's INVITE not challenged (407)"
# the INVITE and alice's BYE to bob over his TLS connection, not a new one
# from the other address (which his NAT drops)
grep -q 'proxy: INVITE to sip:[0-9.:]*;transport=tls from any address' "$D/pinholed.log" &&
	bad "the INVITE to bob left by nta's choice of TLS transport"
grep -q 'pinhole-call: call ended' "$D/bob.out" || bad "bob did not hear alice's BYE"
lab_both_got 100 "$A" "$B" || {
	bad "want >= 100 packets each way"; echo "  alice: $A"; echo "  bob:   $B"; }
if [ "$fails" != 0 ]; then
	grep -E "BYE|proxy: " "$D/pinholed.log" | grep -v "going to existing" | tail -30 | sed "s/^/  pinholed: /"
	grep -h 'REGISTER\|INVITE\|challenge\|answering' "$D/alice.out" "$D/bob.out" | tail -12 |
		sed 's/^/  /'
	grep -E 'auth:|REGISTER|INVITE|listening' "$D/pinholed.log" | grep -v sofia |
		tail -15 | sed 's/^/  pinholed: /'
	exit 1
fi
echo "ok: two-address host, users and TLS: alice (UDP at X) and bob (TLS at Y)" \
	"authenticated with SHA-256; $(lab_field "$A" route), alice got" \
	"$(lab_field "$A" received), bob $(lab_field "$B" received)"
