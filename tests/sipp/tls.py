#!/usr/bin/env python3
"""SIP over TLS (PROTOCOL.md section 1): a phone registers over a TLS
connection, having checked pinholed's certificate against the test's CA;
a call to it from a UDP phone arrives over that very connection (its
Contact names a port where nothing listens), and the BYE it sends back
over TLS reaches the caller. A sips: Request-URI goes to TLS bindings
only: to a phone registered over UDP it gets 480, to the TLS phone a
sips: Record-Route. (SIPp cannot do this here: Debian builds it without
TLS.)

    tls.py HOST SIP_PORT TLS_PORT CAFILE [CERT KEY]

With CERT and KEY the phone shows that client certificate."""
import os
import re
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sipsock  # noqa: E402

HOST, PORT, TLS_PORT, CA = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
CLIENT = sys.argv[5:7]
SDP = ("v=0\r\no=- 1 1 IN IP4 {h}\r\ns=-\r\nc=IN IP4 {h}\r\nt=0 0\r\n"
       "m=audio {p} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


def fail(why):
    sys.exit("FAIL: " + why)


class TlsPhone:
    """A phone on one TLS connection; messages framed by Content-Length."""

    def __init__(self):
        ctx = ssl.create_default_context(cafile=CA)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if CLIENT:
            ctx.load_cert_chain(CLIENT[0], CLIENT[1])
        raw = socket.create_connection((HOST, TLS_PORT), timeout=3)
        self.s = ctx.wrap_socket(raw, server_hostname=HOST)
        self.port = self.s.getsockname()[1]
        self.buf = b""

    def send(self, text):
        self.s.sendall(text.encode())

    def recv(self):
        while b"\r\n\r\n" not in self.buf:
            d = self.s.recv(65535)
            if not d:
                fail("pinholed closed the TLS connection")
            self.buf += d
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        m = re.search(rb"\r\nContent-Length:\s*(\d+)", head, re.I)
        n = int(m.group(1)) if m else 0
        while len(rest) < n:
            rest += self.s.recv(65535)
        self.buf = rest[n:]
        return (head + b"\r\n\r\n" + rest[:n]).decode()

    def recv_request(self, method):
        """The next request of this method, answering none before it."""
        while True:
            m = self.recv()
            if m.startswith(method + " "):
                return m
            if not m.startswith("SIP/2.0 1"):
                fail("over TLS, expected %s, got: %s" % (method, m[:200]))


def hdrs(msg, name):
    return [v.strip() for k, v in re.findall(r"\r\n([^:\r\n]+):([^\r\n]*)", msg)
            if k.strip().lower() == name.lower()]


def rr_list(m):
    """The Record-Route URIs in order, however they are written."""
    return re.findall(r"<[^>]*>", ", ".join(hdrs(m, "Record-Route")))


def msg(start, lines, body=""):
    ct = ["Content-Type: application/sdp"] if body else []
    return "\r\n".join([start] + lines + ct +
                       ["Content-Length: %d" % len(body), "", body])


def answer(req, code, contact, body=""):
    """A response to req with req's Via, Record-Route, From, To (tagged),
    Call-ID and CSeq."""
    to = hdrs(req, "To")[0]
    lines = ["Via: " + v for v in hdrs(req, "Via")]
    lines += ["Record-Route: " + r for r in hdrs(req, "Record-Route")]
    lines += ["From: " + hdrs(req, "From")[0],
              "To: " + (to if ";tag=" in to else to + ";tag=callee"),
              "Call-ID: " + hdrs(req, "Call-ID")[0],
              "CSeq: " + hdrs(req, "CSeq")[0], "Contact: <%s>" % contact]
    return msg("SIP/2.0 %s" % code, lines, body)


def udp_recv(s, what, want):
    end = time.monotonic() + 5
    while time.monotonic() < end:
        try:
            d = s.recv(65535).decode()
        except socket.timeout:
            continue
        if d.startswith(want):
            return d
        if not d.startswith("SIP/2.0 1"):
            fail("%s: expected %s, got: %s" % (what, want, d[:200]))
    fail("%s: no %s within 5 s" % (what, want))


def register_tls(ph, user):
    contact = "sip:%s@%s:9;transport=tls" % (user, HOST)
    ph.send(msg("REGISTER sip:%s SIP/2.0" % HOST, [
        "Via: SIP/2.0/TLS %s:%d;rport;branch=z9hG4bKtr%s" % (HOST, ph.port, user),
        "Max-Forwards: 70", "From: <sip:%s@%s>;tag=r" % (user, HOST),
        "To: <sip:%s@%s>" % (user, HOST), "Call-ID: reg-%s" % user,
        "CSeq: 1 REGISTER", "Contact: <%s>" % contact, "Expires: 300"]))
    r = ph.recv()
    if not r.startswith("SIP/2.0 200 ") or contact not in r:
        fail("REGISTER over TLS: %s" % r[:300])
    return contact


def register_udp(user):
    s = sipsock.udp(HOST, 0.5)
    p = s.getsockname()[1]
    sipsock.send(s, (HOST, PORT), "REGISTER sip:%s SIP/2.0" % HOST, [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKur%s" % (HOST, p, user),
        "Max-Forwards: 70", "From: <sip:%s@%s>;tag=r" % (user, HOST),
        "To: <sip:%s@%s>" % (user, HOST), "Call-ID: reg-%s" % user,
        "CSeq: 1 REGISTER", "Contact: <sip:%s@%s:%d>" % (user, HOST, p),
        "Expires: 300"])
    udp_recv(s, "REGISTER over UDP", "SIP/2.0 200 ")
    return s


def invite(c, ruri, call_id):
    p = c.getsockname()[1]
    body = SDP.format(h=HOST, p=40000)
    c.sendto(msg("INVITE %s SIP/2.0" % ruri, [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKi%s" % (HOST, p, call_id),
        "Max-Forwards: 70", "From: <sip:caller@%s>;tag=c" % HOST,
        "To: <%s>" % ruri, "Call-ID: %s" % call_id, "CSeq: 1 INVITE",
        "Contact: <sip:caller@%s:%d>" % (HOST, p)], body).encode(), (HOST, PORT))


def call_over_tls(ph, contact):
    """UDP caller -> TLS phone: INVITE, 200, ACK, then the phone's BYE."""
    c = sipsock.udp(HOST, 0.5)
    cp = c.getsockname()[1]
    invite(c, "sip:alice@%s" % HOST, "tls-call")
    inv = ph.recv_request("INVITE")
    if not hdrs(inv, "Via")[0].startswith("SIP/2.0/TLS "):
        fail("INVITE to the TLS binding: top Via %s" % hdrs(inv, "Via")[0])
    print("ok: the INVITE to the binding came over its TLS connection")
    # RFC 5658: one Record-Route for each side's transport, the callee's
    # on top
    rr = rr_list(inv)
    if (len(rr) != 2 or not rr[0].startswith("<sip:%s:%d;lr;transport=tls;" % (HOST, TLS_PORT))
            or not rr[1].startswith("<sip:%s:%d;lr;ph-a=" % (HOST, PORT))):
        fail("UDP caller, TLS callee: Record-Route %s" % rr)
    print("ok: UDP caller, TLS callee: two Record-Routes, TLS on top, UDP below")
    ph.send(answer(inv, "200 OK", contact, SDP.format(h=HOST, p=40002)))
    ok = udp_recv(c, "caller", "SIP/2.0 200 ")
    if rr_list(ok) != rr:
        fail("the 200's Record-Route: %s" % rr_list(ok))
    route = ["Route: " + r for r in rr]
    c.sendto(msg("ACK %s SIP/2.0" % contact, [
        "Via: SIP/2.0/UDP %s:%d;rport;branch=z9hG4bKack" % (HOST, cp),
        "Max-Forwards: 70", "From: " + hdrs(ok, "From")[0],
        "To: " + hdrs(ok, "To")[0], "Call-ID: tls-call", "CSeq: 1 ACK"] +
        route[::-1]).encode(), (HOST, PORT))
    ph.recv_request("ACK")
    ph.send(msg("BYE sip:caller@%s:%d SIP/2.0" % (HOST, cp), [
        "Via: SIP/2.0/TLS %s:%d;rport;branch=z9hG4bKbye" % (HOST, ph.port),
        "Max-Forwards: 70", "From: " + hdrs(ok, "To")[0],
        "To: " + hdrs(ok, "From")[0], "Call-ID: tls-call", "CSeq: 2 BYE"] +
        route))
    bye = udp_recv(c, "caller", "BYE ")
    c.sendto(answer(bye, "200 OK", "sip:caller@%s:%d" % (HOST, cp)).encode(),
             (HOST, PORT))
    r = ph.recv()
    if not r.startswith("SIP/2.0 200 ") or "BYE" not in hdrs(r, "CSeq")[0]:
        fail("BYE over TLS: %s" % r[:200])
    print("ok: the call over TLS completed (INVITE, ACK, BYE and its 200)")


def sips_only_tls(ph, contact):
    register_udp("bob")
    c = sipsock.udp(HOST, 0.5)
    invite(c, "sips:bob@%s" % HOST, "sips-udp")
    r = udp_recv(c, "sips: to a UDP binding", "SIP/2.0 480 ")
    if "TLS" not in r.split("\r\n")[0]:
        fail("sips: to a UDP binding: %s" % r.split("\r\n")[0])
    print("ok: a sips: Request-URI is not sent to a binding over UDP: %s"
          % r.split("\r\n")[0])
    invite(c, "sips:alice@%s" % HOST, "sips-tls")
    inv = ph.recv_request("INVITE")
    rr = hdrs(inv, "Record-Route")
    if not rr or not rr[0].startswith("<sips:"):
        fail("sips: INVITE: Record-Route %s" % rr)
    ph.send(answer(inv, "486 Busy Here", contact))
    udp_recv(c, "caller", "SIP/2.0 486 ")
    ph.recv_request("ACK")
    print("ok: a sips: Request-URI goes to the TLS binding, Record-Route %s"
          % rr[0].split(";")[0])


phone = TlsPhone()
print("ok: TLS to pinholed, certificate checked: %s, %s"
      % (phone.s.version(), phone.s.cipher()[0]))
alice = register_tls(phone, "alice")
print("ok: REGISTER over TLS")
call_over_tls(phone, alice)
sips_only_tls(phone, alice)
