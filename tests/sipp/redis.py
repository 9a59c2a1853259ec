#!/usr/bin/env python3
"""store = redis, at the SIP level: two nodes on one Redis (redis.sh).
A REGISTER through node 1 is answered 200; a MESSAGE to that user sent
to node 2 arrives at the phone through node 1 (node 1's Via on top of
node 2's: node 2 forwarded it there, node 1 sent it over the phone's
flow); the phone's 200 goes back to the sender. Unregistered through
node 1 (Expires: 0), the user is gone on node 2 too: 480.

    redis.py HOST NODE1_PORT NODE2_PORT"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, N1, N2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
phone, caller = sipsock.udp(HOST, 1.0), sipsock.udp(HOST, 1.0)
PP, CP = phone.getsockname()[1], caller.getsockname()[1]


def recv(s, want):
    """The first message starting with want (a 100 skipped), or None."""
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            d = s.recv(65535)
        except socket.timeout:
            continue
        if d.startswith(want.encode()) and not d.startswith(b"SIP/2.0 100 "):
            return d.decode(errors="replace")
    return None


def register(expires, n):
    sipsock.send(phone, (HOST, N1), "REGISTER sip:%s:%d SIP/2.0" % (HOST, N1), [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrdr%d" % (HOST, PP, n),
        "Max-Forwards: 70", "From: <sip:ua@pinhole.test>;tag=r",
        "To: <sip:ua@pinhole.test>", "Call-ID: rd-reg", "CSeq: %d REGISTER" % n,
        "Contact: <sip:ua@%s:%d>;expires=%d" % (HOST, PP, expires)])
    got = recv(phone, "SIP/2.0 ")
    if not got or not got.startswith("SIP/2.0 200 "):
        sys.exit("FAIL: REGISTER (expires %d) through node 1: %r" %
                 (expires, got and got.split("\r\n")[0]))


def message(n):
    sipsock.send(caller, (HOST, N2), "MESSAGE sip:ua@pinhole.test SIP/2.0", [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrdm%d" % (HOST, CP, n),
        "Max-Forwards: 70", "From: <sip:caller@pinhole.test>;tag=m%d" % n,
        "To: <sip:ua@pinhole.test>", "Call-ID: rd-msg-%d" % n,
        "CSeq: 1 MESSAGE"])


register(120, 1)
time.sleep(0.5)  # node 2 learns it by pub/sub
message(1)
req = recv(phone, "MESSAGE ")
if not req:
    sys.exit("FAIL: the MESSAGE sent to node 2 did not reach the phone")
head, _, _ = req.partition("\r\n\r\n")
lines = head.split("\r\n")
vias = [v for v in lines if v.lower().startswith(("via:", "v:"))]
if len(vias) < 3 or ":%d;" % N1 not in vias[0] or ":%d;" % N2 not in vias[1]:
    sys.exit("FAIL: the MESSAGE did not come node 2 -> node 1 -> phone: %r" % vias)
resp = ["SIP/2.0 200 OK"] + [v for v in lines if v.lower().startswith(
    ("via:", "v:", "from:", "f:", "to:", "t:", "call-id:", "i:", "cseq:"))]
phone.sendto(("\r\n".join(resp) + "\r\nContent-Length: 0\r\n\r\n").encode(),
             (HOST, N1))
got = recv(caller, "SIP/2.0 ")
if not got or not got.startswith("SIP/2.0 200 "):
    sys.exit("FAIL: the phone's 200 did not come back: %r" % got)
print("ok: registered through node 1, a MESSAGE through node 2 reached it via node 1")

register(0, 2)
time.sleep(0.5)
message(2)
got = recv(caller, "SIP/2.0 ")
if not got or not got.startswith("SIP/2.0 480 "):
    sys.exit("FAIL: unregistered through node 1, node 2 answers %r" % got)
print("ok: unregistered through node 1, node 2 answers 480")
