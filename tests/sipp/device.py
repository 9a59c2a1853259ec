#!/usr/bin/env python3
"""One device rings once: a phone that registered two Contacts for its
AoR over one flow with one Call-ID (as linphone does when it re-registers
with the public address it learned) gets one INVITE, at its newest
Contact; two phones that registered the same AoR each get theirs.

    device.py HOST PORT"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, PORT = sys.argv[1], int(sys.argv[2])


def udp():
    return sipsock.udp(HOST, 0.3)


def send(s, start, hdrs):
    sipsock.send(s, (HOST, PORT), start, hdrs)


def register(s, aor, contact, call_id, cseq):
    p = s.getsockname()[1]
    send(s, "REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKd%s%d" % (HOST, p, call_id, cseq),
        "Max-Forwards: 70", "From: <sip:%s@example.com>;tag=d" % aor,
        "To: <sip:%s@example.com>" % aor, "Call-ID: %s" % call_id,
        "CSeq: %d REGISTER" % cseq, "Contact: <%s>" % contact, "Expires: 300"])
    if not s.recv(65535).startswith(b"SIP/2.0 200 "):
        sys.exit("FAIL: REGISTER %s %s" % (aor, contact))


def invites(aor, phones):
    """INVITE aor; the INVITEs each phone socket gets within 1.5 s."""
    c = udp()
    p = c.getsockname()[1]
    send(c, "INVITE sip:%s@example.com SIP/2.0" % aor, [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKinv%s" % (HOST, p, aor),
        "Max-Forwards: 70", "From: <sip:caller@example.com>;tag=c",
        "To: <sip:%s@example.com>" % aor, "Call-ID: inv-%s" % aor,
        "CSeq: 1 INVITE", "Contact: <sip:caller@%s:%d>" % (HOST, p)])
    got = [[] for _ in phones]
    end = time.monotonic() + 1.5
    while time.monotonic() < end:
        for k, s in enumerate(phones):
            try:
                d = s.recv(65535)
            except socket.timeout:
                continue
            if d.startswith(b"INVITE "):
                ruri = d.split(b" ", 2)[1].decode()
                if ruri not in got[k]:
                    got[k].append(ruri)
    return got


one = udp()
p = one.getsockname()[1]
register(one, "dev", "sip:dev@10.0.0.9:%d" % p, "dev-1", 1)
register(one, "dev", "sip:dev@%s:%d" % (HOST, p), "dev-1", 2)
got = invites("dev", [one])
if got != [["sip:dev@%s:%d" % (HOST, p)]]:
    sys.exit("FAIL: one device, two Contacts: INVITEs to %s" % got)
print("ok: one device with two Contacts rings once, at its newest: %s" % got[0][0])

a, b = udp(), udp()
for s, cid in ((a, "two-a"), (b, "two-b")):
    register(s, "two", "sip:two@%s:%d" % (HOST, s.getsockname()[1]), cid, 1)
got = invites("two", [a, b])
if [len(g) for g in got] != [1, 1]:
    sys.exit("FAIL: two devices: INVITEs %s" % got)
print("ok: two devices of one AoR ring each")
