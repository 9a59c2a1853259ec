"""What the scripted SIP tests (device.py, expiry.py) share: a UDP socket
on the test's address and a request to pinholed without a body."""
import socket


def udp(host, timeout):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(timeout)
    return s


def send(s, dst, start, hdrs):
    """start line and header lines, then Content-Length: 0."""
    s.sendto(("\r\n".join([start] + hdrs + ["Content-Length: 0", "", ""]))
             .encode(), dst)
