#!/usr/bin/env python3
"""Edge mode against a real Kamailio (PROTOCOL.md section 11): pinholed
forwards a phone's REGISTER with a Path, the PBX's 401 reaches the phone
and its retry the PBX; a wrong password is refused and stores nothing; the
right one is stored with the PBX's expiry; an unregistration removes it; a
REGISTER from the PBX's IP and an INVITE from a stranger are 403.

    upstream.py PINHOLED_HOST PORT PBX_HOST LOG"""
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, PORT, PBX, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
FW = "Firewall-Window: 192.0.2.9;mapping=eim;filtering=apdf;hops=2;lifetime=30"


def answer(s):
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            d = s.recv(65535).decode(errors="replace")
        except OSError:
            break
        if not d.startswith("SIP/2.0 1"):
            return d
    sys.exit("FAIL: no final answer")


def md5(x):
    return hashlib.md5(x.encode()).hexdigest()


def register(s, user, n, expires, auth=None, path=None):
    me = "%s:%d" % s.getsockname()
    hdrs = ["Via: SIP/2.0/UDP %s;branch=z9hG4bK%s%d;rport" % (me, user, n),
            "Max-Forwards: 70", "From: <sip:%s@%s>;tag=t%s" % (user, HOST, user),
            "To: <sip:%s@%s>" % (user, HOST), "Call-ID: reg-%s@test" % user,
            "CSeq: %d REGISTER" % n, "Contact: <sip:%s@%s>" % (user, me),
            "Expires: %d" % expires, FW]
    if auth:
        hdrs.append(auth)
    if path:  # an edge proxy before pinholed: pinholed's Path goes above it
        hdrs.append("Path: " + path)
    sipsock.send(s, (HOST, PORT), "REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), hdrs)
    return answer(s)


def digest(challenge, user, password, uri):
    p = dict(re.findall(r'(\w+)="?([^",]*)"?', challenge.split("Digest", 1)[1]))
    ha1 = md5("%s:%s:%s" % (user, p["realm"], password))
    ha2 = md5("REGISTER:" + uri)
    resp = md5("%s:%s:00000001:abcdef:auth:%s" % (ha1, p["nonce"], ha2))
    return ('Authorization: Digest username="%s", realm="%s", nonce="%s", uri="%s", '
            'response="%s", qop=auth, nc=00000001, cnonce="abcdef", algorithm=MD5'
            % (user, p["realm"], p["nonce"], uri, resp))


def challenge(reply):
    m = re.search(r"^WWW-Authenticate: (.*)$", reply, re.M | re.I)
    if not reply.startswith("SIP/2.0 401") or not m:
        sys.exit("FAIL: want the PBX's 401 with its challenge, got %s" % reply[:200])
    return m.group(1).strip()


def stored(user):
    with open(LOG) as f:
        return [l for l in f if "REGISTER %s@" % user in l and "stored here" in l]


uri = "sip:%s:%d" % (HOST, PORT)
s = sipsock.udp(HOST, 1.0)
# a wrong password: the PBX challenges again; nothing stored here
ch = challenge(register(s, "alice", 1, 300))
r = register(s, "alice", 2, 300, digest(ch, "alice", "wrong", uri))
if not r.startswith("SIP/2.0 401") or stored("alice"):
    sys.exit("FAIL: a wrong password: %s; stored: %s" % (r[:60], stored("alice")))
print("ok: a wrong password: the PBX's %s reaches the phone, nothing stored" % r.split("\r\n")[0])
# the right one: stored with the PBX's expiry
ch = challenge(register(s, "alice", 3, 300))
r = register(s, "alice", 4, 300, digest(ch, "alice", "alice-secret", uri),
             "<sip:edge.invalid;lr>")
if not r.startswith("SIP/2.0 200") or not any(": 200 OK" in l for l in stored("alice")):
    sys.exit("FAIL: the right password: %s; stored: %s" % (r[:60], stored("alice")))
print("ok: the PBX's 200 reaches the phone, the binding is stored here")
# a stranger's INVITE, and a REGISTER from the PBX's IP: 403
t = sipsock.udp(HOST, 1.0)
me = "%s:%d" % t.getsockname()
sipsock.send(t, (HOST, PORT), "INVITE sip:600@%s SIP/2.0" % HOST,
             ["Via: SIP/2.0/UDP %s;branch=z9hG4bKinv1" % me, "Max-Forwards: 70",
              "From: <sip:eve@%s>;tag=e" % HOST, "To: <sip:600@%s>" % HOST,
              "Call-ID: inv-eve@test", "CSeq: 1 INVITE", "Contact: <sip:eve@%s>" % me])
r = answer(t)
if not r.startswith("SIP/2.0 403"):
    sys.exit("FAIL: a stranger's INVITE: %s" % r[:80])
p = sipsock.udp(PBX, 1.0)
r = register(p, "mallory", 1, 300)
if not r.startswith("SIP/2.0 403"):
    sys.exit("FAIL: a REGISTER from the PBX's IP: %s" % r[:80])
print("ok: 403 to a stranger's INVITE and to a REGISTER from the PBX's IP")
# unregistration: the PBX's 200 removes it here too
ch = challenge(register(s, "alice", 5, 0))
r = register(s, "alice", 6, 0, digest(ch, "alice", "alice-secret", uri))
with open(LOG) as f:
    gone = any("granted expires=0" in l for l in f)
if not r.startswith("SIP/2.0 200") or not gone:
    sys.exit("FAIL: unregistration: %s" % r[:60])
print("ok: unregistered at the PBX and here")
