#!/bin/sh
# No open relay, no reflector (openrelay.py): forged Record-Route tokens,
# Via maddr, stray responses, Request-URIs of no registered user, a
# dialog's route used by a stranger, a Firewall-Window naming a victim and
# a malformed one. Beyond what the victim's sockets heard, what pinholed
# sent (sendcap) must name no victim address at all.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
[ "${PH_IP:-127.0.0.1}" = 127.0.0.1 ] || skip "needs PH_IP 127.0.0.1"

ph_start -o domains=127.0.0.1
timeout 30 python3 "$SIPP_DIR/openrelay.py" "$PH_IP" "$SIP_PORT" "$@" ||
	fail "openrelay.py"
grep -q 'proxy: INVITE .* 403 Forbidden: Route not signed' "$WORK/pinholed.log" ||
	fail "the forged Route is not logged"
if grep -E 'sent [0-9]+ bytes to (udp|tcp)/\[(127\.0\.0\.5|198\.51\.100\.7)\]' \
	"$WORK/sent-1.cap"; then
	fail "pinholed sent SIP to a victim's address (above)"
fi
echo "ok: pinholed sent no SIP to a victim's address"
