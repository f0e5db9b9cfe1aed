#!/usr/bin/env python3
"""Make kernel memory grow on purpose, hold it, release it on exit.

grow.py threads N   N parked threads: N kernel stacks, vmalloc areas of
                    20480 bytes under kernel_clone on this kernel
grow.py pipes N     N open pipes: kmalloc-cg-1k (pipe buffers) and more
grow.py files DIR N N empty files in DIR (a tmpfs): dentry, shmem_inode_cache
grow.py steady KIND N SECONDS   add N/SECONDS of KIND every second (a slow leak)

Prints "ready" once everything is held, then waits for stdin to close."""
import os
import resource
import sys
import threading
import time


def hold_threads(n, held):
    ev = threading.Event()
    threading.stack_size(64 * 1024)
    for _ in range(n):
        t = threading.Thread(target=ev.wait, daemon=True)
        t.start()
        held.append(t)
    return ev


def hold_pipes(n, held):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * (n + len(held)) + 64))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    for _ in range(n):
        held.append(os.pipe())


def main():
    kind = sys.argv[1]
    held = []
    if kind == "threads":
        hold_threads(int(sys.argv[2]), held)
    elif kind == "pipes":
        hold_pipes(int(sys.argv[2]), held)
    elif kind == "files":
        d, n = sys.argv[2], int(sys.argv[3])
        for i in range(n):
            open(os.path.join(d, "f%d" % i), "w").close()
    elif kind == "steady":
        what, n, secs = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
        per = max(1, n // secs)
        print("started", flush=True)
        for _ in range(secs):
            (hold_threads if what == "threads" else hold_pipes)(per, held)
            time.sleep(1)
    print("ready", flush=True)
    sys.stdin.read()


if __name__ == "__main__":
    main()
