#!/usr/bin/env python3
"""A TCP forwarder on loopback that the test can cut (redis.sh): while
the file CUT exists, every connection through it is closed and its port
refuses new ones, as when the network between a node and Redis breaks.
Ends after LIFETIME seconds at the latest.

    tcpcut.py HOST PORT TARGET_PORT CUT LIFETIME"""
import os
import select
import socket
import sys
import time

HOST, PORT, TARGET, CUT = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                           sys.argv[4])
END = time.monotonic() + float(sys.argv[5])


def listener():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, PORT))
    s.listen(16)
    return s


lsock, peer = listener(), {}
while time.monotonic() < END:
    if os.path.exists(CUT):
        for s in list(peer) + ([lsock] if lsock else []):
            s.close()
        peer, lsock = {}, None
        time.sleep(0.05)
        continue
    if not lsock:
        lsock = listener()
    ready = select.select([lsock] + list(peer), [], [], 0.05)[0]
    for s in ready:
        if s is lsock:
            c = lsock.accept()[0]
            t = socket.create_connection((HOST, TARGET))
            peer[c], peer[t] = t, c
            continue
        if s not in peer:
            continue
        try:
            d = s.recv(65536)
        except OSError:
            d = b""
        if d:
            peer[s].sendall(d)
        else:
            other = peer.pop(s)
            peer.pop(other, None)
            s.close()
            other.close()
