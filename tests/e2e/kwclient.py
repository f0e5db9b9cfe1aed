#!/usr/bin/env python3
"""Raw protocol client for the end-to-end tests.

kwclient.py SOCKET LINE...          send each line, print each reply line
kwclient.py SOCKET --raw HEX        send raw bytes (hex), print what comes back until close
kwclient.py SOCKET --half TEXT      send TEXT without a newline, then close
kwclient.py SOCKET --metrics        send "metrics", print until "# EOF"
kwclient.py SOCKET --watch N [KIND..] print the first N lines of a watch
kwclient.py SOCKET --ring           request the ring, print the reply and whether an fd came
"""
import array
import socket
import sys


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def lines(s):
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode()
        chunk = s.recv(65536)
        if not chunk:
            if buf:
                yield buf.decode()
            return
        buf += chunk


def main():
    path, args = sys.argv[1], sys.argv[2:]
    s = connect(path)
    if args and args[0] == "--raw":
        s.sendall(bytes.fromhex(args[1]))
        s.shutdown(socket.SHUT_WR)
        for line in lines(s):
            print(line)
    elif args and args[0] == "--half":
        s.sendall(args[1].encode())
        s.close()
    elif args and args[0] == "--metrics":
        s.sendall(b"metrics\n")
        for line in lines(s):
            print(line)
            if line == "# EOF":
                break
    elif args and args[0] == "--watch":
        n = int(args[1])
        s.sendall(("watch " + " ".join(args[2:])).strip().encode() + b"\n")
        it = lines(s)
        for _ in range(n + 1):
            print(next(it))
    elif args and args[0] == "--ring":
        s.sendall(b"ring\n")
        fds = array.array("i")
        msg, anc, _, _ = s.recvmsg(65536, socket.CMSG_LEN(fds.itemsize))
        for level, typ, data in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        print(msg.decode().strip())
        if fds:
            import os
            st = os.fstat(fds[0])
            flags = __import__("fcntl").fcntl(fds[0], __import__("fcntl").F_GETFL)
            print("fd size=%d readonly=%s" % (st.st_size, (flags & os.O_ACCMODE) == os.O_RDONLY))
        else:
            print("no fd")
    else:
        it = lines(s)
        for req in args:
            s.sendall(req.encode() + b"\n")
            print(next(it))


if __name__ == "__main__":
    main()
