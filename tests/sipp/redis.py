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
        "Contact: <sip:ua@%s:%d>;expires=%d" % (HOST, PP, expires),
        "Firewall-Window: %s;mapping=eim;filtering=eif" % HOST])
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


def headers(msg, *names):
    """The values of every header line named so (compact forms too)."""
    head = msg.partition("\r\n\r\n")[0].split("\r\n")[1:]
    return [h.split(":", 1)[1].strip() for h in head
            if h.split(":", 1)[0].strip().lower() in names]


def reply(s, req, status, extra, dst):
    """A response to req, its Via, From, To, Call-ID and CSeq copied."""
    hdrs = [h for h in req.partition("\r\n\r\n")[0].split("\r\n")[1:]
            if h.split(":", 1)[0].strip().lower() in (
                "via", "v", "from", "f", "to", "t", "call-id", "i", "cseq",
                "record-route")]
    hdrs = [h + ";tag=ph" if h.lower().startswith(("to:", "t:")) and
            "tag=" not in h else h for h in hdrs]
    s.sendto(sipsock.sip("SIP/2.0 " + status, hdrs + extra), dst)


def top_vias(req):
    return headers(req, "via", "v")


def dialog():
    """A call from node 2's caller to the phone of node 1: both nodes
    Record-Route, and the caller's BYE, sent to node 2 along its route
    set, reaches the phone through node 1 (over the phone's flow)."""
    sdp = "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n" \
          "m=audio 40000 RTP/AVP 0\r\n" % (HOST, HOST)
    base = ["From: <sip:caller@pinhole.test>;tag=c", "Call-ID: rd-call"]
    caller.sendto(sipsock.sip("INVITE sip:ua@pinhole.test SIP/2.0", [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrdi1" % (HOST, CP),
        "Max-Forwards: 70", "To: <sip:ua@pinhole.test>", "CSeq: 1 INVITE",
        "Contact: <sip:caller@%s:%d>" % (HOST, CP),
        "Firewall-Window: %s;mapping=eim;filtering=eif" % HOST,
        "Content-Type: application/sdp"] + base, sdp), (HOST, N2))
    inv = recv(phone, "INVITE ")
    if not inv:
        sys.exit("FAIL: the INVITE sent to node 2 did not reach the phone")
    reply(phone, inv, "200 OK", [
        "Contact: <sip:ua@%s:%d>" % (HOST, PP),
        "Content-Type: application/sdp"], (HOST, N1))
    ok = recv(caller, "SIP/2.0 200 ")
    if not ok:
        sys.exit("FAIL: the phone's 200 to the INVITE did not reach the caller")
    routes = []
    for v in headers(ok, "record-route"):
        routes += [r.strip(" ,") for r in v.replace(">,", ">\n").split("\n")]
    routes.reverse()
    to = headers(ok, "to", "t")[0]
    # the phone's own request in the dialog: node 1, node 2, the caller
    sipsock.send(phone, (HOST, N1), "INFO sip:caller@%s:%d SIP/2.0" % (HOST, CP), [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrdp1" % (HOST, PP),
        "Max-Forwards: 70", "From: " + to, "To: <sip:caller@pinhole.test>;tag=c",
        "Call-ID: rd-call", "CSeq: 1 INFO"] +
        ["Route: " + r for r in reversed(routes)])
    info = recv(caller, "INFO ")
    vias = info and top_vias(info)
    if not vias or len(vias) < 3 or ":%d;" % N2 not in vias[0] or \
            ":%d;" % N1 not in vias[1]:
        sys.exit("FAIL: the phone's INFO did not come node 1 -> node 2 -> "
                 "caller: %r" % vias)
    reply(caller, info, "200 OK", [], (HOST, N2))
    if not recv(phone, "SIP/2.0 200 "):
        sys.exit("FAIL: the caller's 200 to the INFO did not reach the phone")
    for n, method in ((1, "ACK"), (2, "BYE")):
        sipsock.send(caller, (HOST, N2), "%s sip:ua@%s:%d SIP/2.0" %
                     (method, HOST, PP), [
            "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrdb%d" % (HOST, CP, n),
            "Max-Forwards: 70", "To: " + to, "CSeq: %d %s" % (n if n > 1 else 1,
                                                             method)] +
            ["Route: " + r for r in routes] + base)
    bye = recv(phone, "BYE ")
    if not bye:
        sys.exit("FAIL: the caller's BYE (sent to node 2, Route %r) did not "
                 "reach the phone" % routes)
    vias = top_vias(bye)
    if len(vias) < 3 or ":%d;" % N1 not in vias[0] or ":%d;" % N2 not in vias[1]:
        sys.exit("FAIL: the caller's BYE did not come node 2 -> node 1 -> "
                 "phone: %r" % vias)
    reply(phone, bye, "200 OK", [], (HOST, N1))
    if not recv(caller, "SIP/2.0 200 "):
        sys.exit("FAIL: the phone's 200 to the BYE did not reach the caller")
    print("ok: in the dialog, the phone's INFO went via node 1 and node 2, "
          "the caller's BYE at node 2 reached the phone via node 1")


def tcp_binding():
    """A phone behind a NAT registered over TCP through node 1 (its
    Contact names its private address): a MESSAGE to node 1 reaches it over
    its connection, the binding having been written to Redis and read
    back (a record names no connection: node 1 keeps its own)."""
    t = socket.create_connection((HOST, N1), timeout=3)
    tp = t.getsockname()[1]
    t.sendall(sipsock.sip("REGISTER sip:%s:%d;transport=tcp SIP/2.0" % (HOST, N1), [
        "Via: SIP/2.0/TCP %s:%d;rport;branch=z9hG4bKrdt1" % (HOST, tp),
        "Max-Forwards: 70", "From: <sip:tcp@pinhole.test>;tag=t",
        "To: <sip:tcp@pinhole.test>", "Call-ID: rd-tcp", "CSeq: 1 REGISTER",
        "Contact: <sip:tcp@127.0.0.2:9;transport=tcp>;expires=120"]))
    if not t.recv(65535).startswith(b"SIP/2.0 200 "):
        sys.exit("FAIL: REGISTER over TCP through node 1")
    time.sleep(0.3)  # the edit's answer taken
    sipsock.send(caller, (HOST, N1), "MESSAGE sip:tcp@pinhole.test SIP/2.0", [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKrdtm" % (HOST, CP),
        "Max-Forwards: 70", "From: <sip:caller@pinhole.test>;tag=tm",
        "To: <sip:tcp@pinhole.test>", "Call-ID: rd-tcp-msg", "CSeq: 1 MESSAGE"])
    try:
        got = t.recv(65535)
    except socket.timeout:
        got = b""
    if not got.startswith(b"MESSAGE "):
        sys.exit("FAIL: a MESSAGE to the phone registered over TCP did not "
                 "come over its connection: %r" % recv(caller, "SIP/2.0 "))
    t.close()
    print("ok: a binding over TCP is reached over its connection")


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

dialog()
tcp_binding()

register(0, 2)
time.sleep(0.5)
message(2)
got = recv(caller, "SIP/2.0 ")
if not got or not got.startswith("SIP/2.0 480 "):
    sys.exit("FAIL: unregistered through node 1, node 2 answers %r" % got)
print("ok: unregistered through node 1, node 2 answers 480")
