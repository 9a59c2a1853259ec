#!/bin/sh
# SIP over TLS (transports = udp, tcp, tls): a certificate made here by a
# CA made here; tls.py registers and calls over TLS. TLS 1.0 and 1.1 are
# refused even where OpenSSL's configuration would allow them (a
# permissive OPENSSL_CONF for pinholed and the client alike). With tls_ca
# a client without a certificate from that CA is refused, one with it
# registers. Without a certificate, or with a key that is not its, pinholed
# does not start and says why. TCP's message and idle timeouts cut off TLS
# connections alike.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "needs python3"
command -v openssl >/dev/null 2>&1 || skip "needs openssl"

# cert NAME [SUBJECT-ALT-NAME]: NAME.key, NAME.pem issued by the test CA
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$WORK/$1.key" -out "$WORK/$1.csr" -subj "/CN=$1" \
		2>/dev/null || fail "openssl req $1"
	printf 'subjectAltName=%s\n' "${2:-DNS:$1}" >"$WORK/$1.ext"
	openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" \
		-CAkey "$WORK/ca.key" -CAcreateserial -days 2 \
		-extfile "$WORK/$1.ext" -out "$WORK/$1.pem" 2>/dev/null ||
		fail "openssl x509 $1"
}
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$WORK/ca.key" -out "$WORK/ca.pem" -days 2 -subj /CN=ph-test-ca \
	2>/dev/null || fail "openssl: test CA"
cert server IP:127.0.0.1
cert phone
cert other
cat >"$WORK/weak.cnf" <<EOF
openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = weak
[weak]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
EOF

TLS_PORT=$(free_base 1) || fail "no free port for TLS"
TLS="-o transports=udp,tcp,tls -o tls_port=$TLS_PORT
	-o tls_certificate=$WORK/server.pem -o tls_key=$WORK/server.key"

# s_client [ARGS]: the TLS handshake's outcome, "Protocol : ..." or the alert
s_client() {
	echo | OPENSSL_CONF=$WORK/weak.cnf timeout 5 openssl s_client \
		-connect "127.0.0.1:$TLS_PORT" "$@" >"$WORK/s_client.out" 2>&1
}

# ph_stop: the pinholed of ph_start, stopped (a test may start another)
ph_stop() {
	kill "$PH_PID" 2>/dev/null
	for _ in $(seq 1 25); do ph_alive || break; sleep 0.2; done
	PH_PID=
}

# No certificate: no start, and why.
if "$PINHOLED" -t -o transports=udp,tls >"$WORK/check.out" 2>&1; then
	fail "transports with tls and no certificate: -t says valid"
fi
grep -q 'tls_certificate and tls_key' "$WORK/check.out" ||
	fail "no certificate: $(cat "$WORK/check.out")"
echo "ok: tls without a certificate refused: $(tail -1 "$WORK/check.out")"
if "$PINHOLED" -t -o relay=off $TLS -o tls_key="$WORK/other.key" >"$WORK/bad.out" 2>&1; then
	fail "a key that is not the certificate's: -t says valid"
fi
grep -q 'does not belong to tls_certificate' "$WORK/bad.out" ||
	fail "wrong key: $(cat "$WORK/bad.out")"
echo "ok: a key not the certificate's refused at start"

export OPENSSL_CONF="$WORK/weak.cnf"
ph_start $TLS
unset OPENSSL_CONF
grep -q "listening on sips:127.0.0.1:$TLS_PORT;transport=tls" "$WORK/pinholed.log" ||
	fail "pinholed does not say it listens on TLS"
for d in "${TMPDIR:-/tmp}"/pinholed-tls.*; do
	[ -O "$d" ] && fail "the key's copy in $d stays behind"
done
timeout 30 python3 "$SIPP_DIR/tls.py" 127.0.0.1 "$SIP_PORT" "$TLS_PORT" \
	"$WORK/ca.pem" || fail "tls.py"
grep -q "REGISTER alice@127.0.0.1 from 127.0.0.1:[0-9]*/tls: 200" "$WORK/pinholed.log" ||
	fail "the REGISTER over TLS is not logged as tls"

for v in -tls1 -tls1_1; do
	s_client "$v" && grep -q '^ *Protocol *: TLSv1\.[01]$' "$WORK/s_client.out" &&
		grep -q 'Cipher is [A-Z]' "$WORK/s_client.out" &&
		fail "a $v handshake succeeded: $(grep -m1 'Cipher is' "$WORK/s_client.out")"
	grep -q 'alert protocol version' "$WORK/s_client.out" ||
		fail "$v: no protocol version alert: $(tail -5 "$WORK/s_client.out")"
	echo "ok: $v refused (protocol version alert)"
done
for v in -tls1_2 -tls1_3; do
	s_client "$v" -CAfile "$WORK/ca.pem" -verify_return_error ||
		fail "$v: $(tail -5 "$WORK/s_client.out")"
	grep -q 'Verify return code: 0 (ok)' "$WORK/s_client.out" ||
		fail "$v: certificate not verified"
	echo "ok: $v accepted, $(grep -m1 'Cipher is' "$WORK/s_client.out" | sed 's/^.*, //')"
done
ph_stop

# TCP's limits hold on TLS too: half a header is cut off by
# tcp_message_timeout (registrar/tlsfix.c: sofia's TLS type had no such
# timer), a connection that never starts its handshake, or stops halfway,
# by tcp_idle_timeout.
ph_start $TLS -o tcp_message_timeout=2 -o tcp_idle_timeout=2
timeout 40 python3 - "$TLS_PORT" <<'PY' || fail "TLS timeouts"
import socket, ssl, sys, time
port = int(sys.argv[1])


def closed_within(name, f, limit=10):
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(limit)
    t0 = time.monotonic()
    try:
        f(s)
    except socket.timeout:
        sys.exit("FAIL: %s: still open after %d s" % (name, limit))
    except (ssl.SSLError, OSError):
        pass
    print("ok: %s: closed after %.1f s" % (name, time.monotonic() - t0))


def drain(s):
    while s.recv(100):
        pass


def half_header(s):
    c = ssl.create_default_context()
    c.check_hostname, c.verify_mode = False, ssl.CERT_NONE
    t = c.wrap_socket(s)
    t.send(b"REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:9\r\n")
    drain(t)


def half_hello(s):
    s.send(b"\x16\x03\x01\x02\x00\x01")
    drain(s)


closed_within("half a header over TLS (tcp_message_timeout = 2)", half_header)
closed_within("no ClientHello (tcp_idle_timeout = 2)", drain)
closed_within("half a ClientHello (tcp_idle_timeout = 2)", half_hello)
PY
ph_stop

# tls_ca: clients need a certificate that CA issued.
ph_start $TLS -o tls_ca="$WORK/ca.pem"
if timeout 10 python3 "$SIPP_DIR/tls.py" 127.0.0.1 "$SIP_PORT" "$TLS_PORT" \
	"$WORK/ca.pem" >"$WORK/nocert.out" 2>&1; then
	fail "tls_ca set: a client without a certificate registered"
fi
echo "ok: tls_ca set: a client without a certificate refused ($(tail -1 "$WORK/nocert.out" | cut -c1-80))"
timeout 30 python3 "$SIPP_DIR/tls.py" 127.0.0.1 "$SIP_PORT" "$TLS_PORT" \
	"$WORK/ca.pem" "$WORK/phone.pem" "$WORK/phone.key" >"$WORK/cert.out" 2>&1 ||
	{ cat "$WORK/cert.out"; fail "tls_ca set: a client with its certificate"; }
echo "ok: tls_ca set: a client with a certificate from it registers and calls"
