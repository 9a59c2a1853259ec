"""What the scripted SIP tests share: a UDP socket on the test's address,
a request to pinholed without a body, a message with its Content-Length,
and the failure line."""
import socket
import sys


def udp(host, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(timeout)
    return s


def send(s, dst, start, hdrs):
    """start line and header lines, then Content-Length: 0."""
    s.sendto(("\r\n".join([start] + hdrs + ["Content-Length: 0", "", ""]))
             .encode(), dst)


def fail(why):
    print("FAIL: " + why)
    sys.exit(1)


def sip(start, headers, body=""):
    lines = [start] + headers + ["Content-Length: %d" % len(body), "", body]
    return "\r\n".join(lines).encode()
