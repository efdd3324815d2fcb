#!/usr/bin/env python3
"""numa_pages.py PID ADDR BYTES - where the pages of [ADDR, ADDR+BYTES) of
process PID are, asked of the kernel with move_pages(2) and a NULL node
list (the query form: nothing moves), independently of lstmsweep and hwloc.
Prints one line "node N: P pages" per node holding some (pages not yet
touched are left out).  Needs the right to query PID (root, or the same user)."""
import ctypes
import os
import sys

SYS_MOVE_PAGES = {"x86_64": 279, "aarch64": 239}[os.uname().machine]


def page_nodes(pid, addr, size):
    """{node: pages} of the touched pages of [addr, addr + size) of pid;
    OSError if the kernel refuses (the process is gone, no right)."""
    page = os.sysconf("SC_PAGE_SIZE")
    first = addr - addr % page
    n = max(1, (addr + size - first + page - 1) // page)
    pages = (ctypes.c_void_p * n)(*[first + i * page for i in range(n)])
    status = (ctypes.c_int * n)()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    rc = libc.syscall(ctypes.c_long(SYS_MOVE_PAGES), ctypes.c_int(pid), ctypes.c_ulong(n),
                      pages, None, status, ctypes.c_int(0))
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, "move_pages: " + os.strerror(err))
    count = {}
    for s in status:
        if s >= 0:              # negative: -ENOENT (not touched) or -EFAULT
            count[s] = count.get(s, 0) + 1
    return count


def area_policy(pid, addr):
    """The memory policy of the mapping of pid that holds addr, as
    /proc/PID/numa_maps names it ("default", "bind:1", "prefer (many):1"), or None if no
    mapping holds it; OSError if the process is gone."""
    start = None
    with open(f"/proc/{pid}/maps") as f:
        for line in f:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= addr < hi:
                start = lo
                break
    if start is None:
        return None
    with open(f"/proc/{pid}/numa_maps") as f:
        for line in f:
            fields = line.split()
            if int(fields[0], 16) == start:
                # "bind:1", "default", or two words: "prefer (many):1"
                many = len(fields) > 2 and fields[2].startswith("(")
                return " ".join(fields[1:3] if many else fields[1:2])
    return None


def main():
    pid, addr, size = int(sys.argv[1]), int(sys.argv[2], 16), int(sys.argv[3])
    for node, pages in sorted(page_nodes(pid, addr, size).items()):
        print("node %d: %d pages" % (node, pages))


if __name__ == "__main__":
    main()
