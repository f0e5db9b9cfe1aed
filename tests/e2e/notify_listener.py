#!/usr/bin/env python3
"""A NOTIFY_SOCKET owned by the test: print every sd_notify datagram, one
message per line with its newlines shown as ' | ', until SECONDS pass."""
import os
import socket
import sys
import time

path, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if os.path.exists(path):
    os.unlink(path)
s.bind(path)
open(path + ".ready", "w").close()
end = time.time() + secs
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        data = s.recv(4096)
    except socket.timeout:
        break
    print(data.decode().replace("\n", " | "), flush=True)
