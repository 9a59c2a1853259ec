#!/usr/bin/env python3
"""A binding ends when it expires, by the clock alone: registered for 2 s,
bob gets an INVITE at once and none 4 s later (480), without any other
REGISTER in between (pinholed's 1 s tick expires it).

    expiry.py HOST PORT"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, PORT = sys.argv[1], int(sys.argv[2])


def udp():
    return sipsock.udp(HOST, 1.0)


def send(s, start, hdrs):
    sipsock.send(s, (HOST, PORT), start, hdrs)


def status(s, want_invite=False):
    end = time.monotonic() + 2
    while time.monotonic() < end:
        try:
            d = s.recv(65535)
        except socket.timeout:
            return None
        if want_invite and d.startswith(b"INVITE "):
            return "INVITE"
        if d.startswith(b"SIP/2.0 ") and not d.startswith(b"SIP/2.0 100 "):
            return d.split(b"\r\n", 1)[0].decode()
    return None


bob, caller = udp(), udp()
p = bob.getsockname()[1]
send(bob, "REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT), [
    "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKexp1" % (HOST, p),
    "Max-Forwards: 70", "From: <sip:bob@example.com>;tag=e",
    "To: <sip:bob@example.com>", "Call-ID: exp-1", "CSeq: 1 REGISTER",
    "Contact: <sip:bob@%s:%d>;expires=2" % (HOST, p)])
got = status(bob)
if not got or not got.startswith("SIP/2.0 200 "):
    sys.exit("FAIL: REGISTER for 2 s: %r" % got)


def invite(n):
    cp = caller.getsockname()[1]
    send(caller, "INVITE sip:bob@example.com SIP/2.0", [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKexpi%d" % (HOST, cp, n),
        "Max-Forwards: 70", "From: <sip:caller@example.com>;tag=c%d" % n,
        "To: <sip:bob@example.com>", "Call-ID: exp-inv-%d" % n,
        "CSeq: 1 INVITE", "Contact: <sip:caller@%s:%d>" % (HOST, cp)])


invite(1)
if status(bob, want_invite=True) != "INVITE":
    sys.exit("FAIL: no INVITE while the binding lives")
print("ok: INVITE reaches bob while his binding lives")
time.sleep(4)
while True:  # what is left of the first call
    try:
        caller.recv(65535)
    except socket.timeout:
        break
invite(2)
got = status(caller)
if not got or not got.startswith("SIP/2.0 480 "):
    sys.exit("FAIL: 4 s after it expired, the INVITE got %r, not 480" % got)
print("ok: once expired (by the clock, no REGISTER since), 480")
