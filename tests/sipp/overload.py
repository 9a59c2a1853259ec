#!/usr/bin/env python3
"""Overload control with a limit of one call being set up (pinholed run
with overload_calls=1, overload_retry_after=7): while a call rings, a new
INVITE is answered 503 with Retry-After: 7 and never reaches the callee;
a REGISTER, the BYE of an established call and the CANCEL of the ringing
one still go through; once the ringing call has ended a new call is let in.

    overload.py HOST PORT"""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, PORT = sys.argv[1], int(sys.argv[2])
PH = (HOST, PORT)


def udp():
    return sipsock.udp(HOST, 0.2)


def msg(start, hdrs):
    return ("\r\n".join([start] + hdrs + ["Content-Length: 0", "", ""])).encode()


COMPACT = {"t": "to", "f": "from", "i": "call-id", "v": "via", "m": "contact"}


def headers(d, name):
    """Every value of header name in d, in order (compact forms too:
    pinholed's stateless answers use them, RFC 3261 7.3.3)."""
    out = []
    for line in d.decode(errors="replace").split("\r\n")[1:]:
        if not line:
            break
        k, _, v = line.partition(":")
        k = k.strip().lower()
        if COMPACT.get(k, k) == name.lower():
            out.append(v.strip())
    return out


def wait(s, pred, what, secs=3.0):
    """The first datagram on s that pred accepts within secs; fails if none."""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            d, _ = s.recvfrom(65535)
        except socket.timeout:
            continue
        if pred(d):
            return d
    sys.exit("FAIL: no %s within %.0f s" % (what, secs))


def starts(prefix):
    return lambda d: d.startswith(prefix.encode())


def answer(callee, req, status):
    """The callee's answer to req, its Via and Record-Route copied."""
    to = headers(req, "To")[0]
    if status > 100 and ";tag=" not in to:
        to += ";tag=callee"
    h = ["Via: %s" % v for v in headers(req, "Via")]
    h += ["Record-Route: %s" % r for r in headers(req, "Record-Route")]
    h += ["From: %s" % headers(req, "From")[0], "To: %s" % to,
          "Call-ID: %s" % headers(req, "Call-ID")[0],
          "CSeq: %s" % headers(req, "CSeq")[0],
          "Contact: <sip:bob@%s:%d>" % (HOST, callee.getsockname()[1])]
    phrase = {180: "Ringing", 200: "OK", 487: "Request Terminated"}[status]
    callee.sendto(msg("SIP/2.0 %d %s" % (status, phrase), h), PH)


def invite(caller, cid):
    p = caller.getsockname()[1]
    hdrs = ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s" % (HOST, p, cid),
            "Max-Forwards: 70", "From: <sip:alice@example.com>;tag=a%s" % cid,
            "To: <sip:bob@example.com>", "Call-ID: %s" % cid,
            "CSeq: 1 INVITE", "Contact: <sip:alice@%s:%d>" % (HOST, p)]
    caller.sendto(msg("INVITE sip:bob@example.com SIP/2.0", hdrs), PH)
    return hdrs


def in_dialog(caller, method, cid, cseq, ok, branch):
    """ACK or BYE of call cid along the Record-Route of its 2xx ok."""
    p = caller.getsockname()[1]
    h = ["Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bK%s" % (HOST, p, branch),
         "Max-Forwards: 70"]
    h += ["Route: %s" % r for r in reversed(headers(ok, "Record-Route"))]
    h += ["From: <sip:alice@example.com>;tag=a%s" % cid,
          "To: %s" % headers(ok, "To")[0], "Call-ID: %s" % cid,
          "CSeq: %d %s" % (cseq, method)]
    target = headers(ok, "Contact")[0].strip("<>")
    caller.sendto(msg("%s %s SIP/2.0" % (method, target), h), PH)


callee = udp()
cp = callee.getsockname()[1]


def register(cseq):
    callee.sendto(msg("REGISTER sip:%s:%d SIP/2.0" % PH, [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKreg%d" % (HOST, cp, cseq),
        "Max-Forwards: 70", "From: <sip:bob@example.com>;tag=b",
        "To: <sip:bob@example.com>", "Call-ID: reg-bob",
        "CSeq: %d REGISTER" % cseq, "Contact: <sip:bob@%s:%d>" % (HOST, cp),
        "Expires: 300"]), PH)
    wait(callee, starts("SIP/2.0 200 "), "200 to REGISTER %d" % cseq)


register(1)

# call A: established (its INVITE transaction ends with the 200)
a = udp()
invite(a, "call-a")
req = wait(callee, starts("INVITE "), "INVITE of call A at the callee")
answer(callee, req, 200)
ok_a = wait(a, starts("SIP/2.0 200 "), "200 of call A")
in_dialog(a, "ACK", "call-a", 1, ok_a, "acka")
wait(callee, starts("ACK "), "ACK of call A at the callee")
print("ok: call A established")

# call B: rings, so it is the one call being set up
b = udp()
invite(b, "call-b")
req_b = wait(callee, starts("INVITE "), "INVITE of call B at the callee")
answer(callee, req_b, 180)
wait(b, starts("SIP/2.0 180 "), "180 of call B")
print("ok: call B rings")

# call C: refused, statelessly, before anything reaches the callee
c = udp()
invite(c, "call-c")
r = wait(c, lambda d: d.startswith(b"SIP/2.0 ") and not d.startswith(b"SIP/2.0 1"),
         "final answer to call C")
if not r.startswith(b"SIP/2.0 503 ") or headers(r, "Retry-After") != ["7"]:
    sys.exit("FAIL: call C while overloaded: %r" % r[:300])
if ";tag=" not in headers(r, "To")[0]:
    sys.exit("FAIL: the 503 has no To tag: %r" % r[:300])
print("ok: call C refused: %s, Retry-After: 7"
      % r.split(b"\r\n", 1)[0].decode())
end = time.monotonic() + 0.5
while time.monotonic() < end:
    try:
        if callee.recv(65535).startswith(b"INVITE "):
            sys.exit("FAIL: the refused call C reached the callee")
    except socket.timeout:
        pass

# still served while overloaded: REGISTER, BYE in a dialog, CANCEL
register(2)
in_dialog(a, "BYE", "call-a", 2, ok_a, "byea")
bye = wait(callee, starts("BYE "), "BYE of call A at the callee")
answer(callee, bye, 200)
wait(a, starts("SIP/2.0 200 "), "200 to the BYE of call A")
print("ok: REGISTER and call A's BYE served while overloaded")

p = b.getsockname()[1]
b.sendto(msg("CANCEL sip:bob@example.com SIP/2.0", [
    "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKcall-b" % (HOST, p),
    "Max-Forwards: 70", "From: <sip:alice@example.com>;tag=acall-b",
    "To: <sip:bob@example.com>", "Call-ID: call-b", "CSeq: 1 CANCEL"]), PH)
cancel = wait(callee, starts("CANCEL "), "CANCEL of call B at the callee")
callee.sendto(msg("SIP/2.0 200 OK", ["Via: %s" % v for v in headers(cancel, "Via")] + [
    "From: %s" % headers(cancel, "From")[0], "To: %s" % headers(cancel, "To")[0],
    "Call-ID: call-b", "CSeq: 1 CANCEL"]), PH)
answer(callee, req_b, 487)
wait(b, starts("SIP/2.0 487 "), "487 of the cancelled call B")
print("ok: call B cancelled while overloaded")

# the ringing call has ended: a new call gets through
d = udp()
invite(d, "call-d")
wait(callee, lambda m: m.startswith(b"INVITE ") and b"call-d" in m,
     "INVITE of call D at the callee (after the overload)")
print("ok: call D let in once no call is being set up")
