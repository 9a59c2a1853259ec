#!/usr/bin/env python3
"""Retransmissions still answered once pinholed has let a call's
transactions go (issue 12: it keeps no INVITE or BYE transaction longer
than it must). Over UDP, a caller A calls a registered callee B through
pinholed; the call is answered and ACKed; then, past every 5 s timer:

  - B retransmits its 200 to the INVITE (RFC 3261 13.3.1.4: until the ACK
    reaches it): A gets it, with the same SDP as the first one (the
    relay's addresses, not B's own);
  - A sends BYE, B answers 200, and A retransmits the BYE (it may have
    lost the 200): A gets a 200 again, from pinholed or from B, and B
    never sees the retransmission as a new transaction (another branch).

    txnlife.py HOST PORT

Prints one "ok:" line per check; exits 1 at the first failure."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sipsock import (alice_headers, callee_reply, expect, fail,  # noqa: E402
                     header, recv_sip, sip, udp)

HOST, PORT = sys.argv[1], int(sys.argv[2])
WAIT = 2.0
LATE = 6.0  # past T4 (5 s), Kamailio's wait timer and nta's Timer I


def port_of(s):
    return s.getsockname()[1]


def body(msg):
    return msg.split(b"\r\n\r\n", 1)[1]


def sdp(port):
    return ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n" % (HOST, HOST, port))


def main():
    a, b = udp(HOST, WAIT), udp(HOST, WAIT)
    call_id = "txnlife-%d" % os.getpid()

    def hdr(method, s, cseq, branch, to_tag=None, extra=()):
        return alice_headers(s, call_id, method, cseq, branch, to_tag, extra)

    reg = hdr("REGISTER", b, 1, "reg1")
    reg[2] = "From: <sip:bob@%s>;tag=reg" % HOST
    reg[-1] = "Contact: <sip:bob@%s:%d>" % (HOST, port_of(b))
    b.sendto(sip("REGISTER sip:%s:%d SIP/2.0" % (HOST, PORT),
                 reg + ["Expires: 300"]), (HOST, PORT))
    expect("REGISTER bob", recv_sip(b)[0], "SIP/2.0 200 ")

    # the call, answered and ACKed
    a.sendto(sip("INVITE sip:bob@%s:%d SIP/2.0" % (HOST, PORT),
                 hdr("INVITE", a, 1, "inv1",
                     extra=["Content-Type: application/sdp"]),
                 sdp(port_of(a) + 2)), (HOST, PORT))
    inv, inv_src = recv_sip(b)
    expect("the INVITE forwarded to bob", inv, "INVITE ")
    rr = header(inv, "Record-Route")
    if not rr:
        fail("the forwarded INVITE has no Record-Route")
    ok = (b, inv, inv_src, b"200 OK", "bob", "callee", sdp(port_of(b) + 2))
    callee_reply(*ok)
    got, _ = recv_sip(a)
    expect("the 200 to the INVITE", got, "SIP/2.0 200 ")
    first_sdp = body(got)
    if b"%d" % (port_of(b) + 2) in first_sdp:
        fail("the 200's SDP is bob's own, not the relay's: %r" % first_sdp)
    route = ["Route: " + rr]
    ruri = "sip:bob@%s:%d" % (HOST, port_of(b))
    a.sendto(sip("ACK %s SIP/2.0" % ruri,
                 hdr("ACK", a, 1, "ack1", "callee", route)), (HOST, PORT))
    expect("the ACK forwarded to bob", recv_sip(b)[0], "ACK ")

    # the 200 again, late
    time.sleep(LATE)
    callee_reply(*ok)
    got, _ = recv_sip(a)
    expect("the 200 retransmitted after %.0f s" % LATE, got, "SIP/2.0 200 ")
    if body(got) != first_sdp:
        fail("the retransmitted 200's SDP differs from the first one's:\n"
             "%r\n%r" % (first_sdp, body(got)))
    print("ok: a 200 to the INVITE retransmitted after %.0f s reaches the "
          "caller, with the first one's SDP" % LATE)

    # BYE, its 200, and the BYE again, late
    bye = sip("BYE %s SIP/2.0" % ruri, hdr("BYE", a, 2, "bye1", "callee", route))
    a.sendto(bye, (HOST, PORT))
    req, req_src = recv_sip(b)
    expect("the BYE forwarded to bob", req, "BYE ")
    bye_via = header(req, "Via")
    callee_reply(b, req, req_src, b"200 OK", "bob", "callee")
    expect("the 200 to the BYE", recv_sip(a)[0], "SIP/2.0 200 ")
    time.sleep(LATE)
    a.sendto(bye, (HOST, PORT))
    # B's transaction answers a retransmission it gets: the same 200
    b.settimeout(0.5)
    try:
        again, src = b.recvfrom(65535)
    except socket.timeout:
        again = None
    if again:
        expect("the BYE retransmitted to bob", again, "BYE ")
        if header(again, "Via") != bye_via:
            fail("the retransmitted BYE reached bob as a new transaction: "
                 "Via %r, first %r" % (header(again, "Via"), bye_via))
        callee_reply(b, req, src, b"200 OK", "bob", "callee")
    expect("the BYE retransmitted after %.0f s" % LATE, recv_sip(a)[0],
           "SIP/2.0 200 ")
    print("ok: a BYE retransmitted %.0f s after its 200 is answered 200 (%s)"
          % (LATE, "forwarded, same branch" if again else "by pinholed"))
    a.close()
    b.close()


main()
