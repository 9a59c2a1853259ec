#!/bin/sh
# Digest authentication (RFC 3261 section 22, RFC 8760) against the real
# pinholed with a users file made by pinholed-passwd: SIPp's MD5 digest
# over UDP and TCP, then auth.py: SHA-256 and MD5, replay, stale nonces,
# ownership (403), 407 for calls, one answer for unknown users and wrong
# passwords, bans, and bytes out <= bytes in for unauthenticated requests.
. "${top_srcdir:-.}/tests/sipp/lib.sh"
PASSWD=$top_builddir/registrar/pinholed-passwd
[ -x "$PASSWD" ] || fail "$PASSWD not built"
command -v python3 >/dev/null 2>&1 || skip "python3 not installed"

# without users: open, and saying so
ph_start
grep -q 'warning: auth: no users file: pinholed is OPEN' "$WORK/pinholed.log" ||
	fail "no warning that pinholed is open"
kill "$PH_PID"; wait "$PH_PID" 2>/dev/null; PH_PID=

# a users file that is not one: pinholed does not start
echo 'alice:example.com:plaintext' >"$WORK/bad"
"$PINHOLED" -f -o listen=127.0.0.1 -o users="$WORK/bad" >"$WORK/bad.log" 2>&1 &&
	fail "pinholed started with a bad users file"
grep -q "$WORK/bad:1: expected user:realm:HA1-MD5:HA1-SHA-256" "$WORK/bad.log" ||
	fail "no clear error for a bad users file: $(cat "$WORK/bad.log")"

printf 'alicepw\n' | "$PASSWD" -r example.com "$WORK/users" alice || fail "pinholed-passwd alice"
printf 'old\n' | "$PASSWD" -r example.com "$WORK/users" bob || fail "pinholed-passwd bob"
printf 'bobpw\n' | "$PASSWD" -r example.com "$WORK/users" bob || fail "pinholed-passwd bob again"
[ "$(grep -c '^bob:example.com:' "$WORK/users")" = 1 ] || fail "bob's line not replaced"
[ "$(stat -c %a "$WORK/users")" = 600 ] || fail "users file not mode 600"
grep -q 'alicepw\|bobpw' "$WORK/users" && fail "a password in the users file"

ph_start -o users="$WORK/users" -o realm=example.com -o auth_ban_failures=5
grep -q 'auth: realm "example.com", 2 user(s)' "$WORK/pinholed.log" || fail "users not loaded"
sipp_run auth_register.xml -t u1 -s alice -ap alicepw
sipp_run auth_register.xml -t t1 -s bob -ap bobpw
timeout 25 python3 "$SIPP_DIR/auth.py" "$PH_IP" "$SIP_PORT" example.com ||
	fail "auth.py"
grep -q 'warning: auth: 127.0.0.5 banned for 600 s' "$WORK/pinholed.log" ||
	fail "no log line for the ban"

# SIGHUP reads the users file again: a new user registers, bindings stay;
# a file that does not read right leaves the users as they were
printf 'carolpw\n' | "$PASSWD" -r example.com "$WORK/users" carol || fail "pinholed-passwd carol"
kill -HUP "$PH_PID"
for _ in $(seq 1 20); do
	grep -q 'notice: auth: 3 user(s) from' "$WORK/pinholed.log" && break; sleep 0.1
done
grep -q 'notice: auth: 3 user(s) from' "$WORK/pinholed.log" || fail "users not read again on SIGHUP"
sipp_run auth_register.xml -t u1 -s carol -ap carolpw
cp "$WORK/users" "$WORK/users.good"
echo 'dave:example.com:not-a-digest' >>"$WORK/users"
kill -HUP "$PH_PID"
for _ in $(seq 1 20); do
	grep -q 'users kept as they were' "$WORK/pinholed.log" && break; sleep 0.1
done
grep -q "error: auth: $WORK/users:4: expected user:realm:HA1-MD5:HA1-SHA-256 (hex): users kept as they were" \
	"$WORK/pinholed.log" || fail "no clear error for a bad users file on SIGHUP"
sipp_run auth_register.xml -t u1 -s carol -ap carolpw
