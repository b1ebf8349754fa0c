#!/usr/bin/env python3
"""Pass a DMA-BUF to a child process over a Unix socket (SCM_RIGHTS), as a camera HAL hands a
frame to a consumer: the child maps the same memory and writes into it; the parent reads it back.

    dmaheap run -- python3 examples/run/share.py
"""
import fcntl
import mmap
import os
import socket
import struct

DMA_HEAP_IOCTL_ALLOC = 0xC0184800
SIZE = 4096


def fdinfo(fd):
    with open(f"/proc/self/fdinfo/{fd}") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


heap = os.open("/dev/dma_heap/system", os.O_RDONLY | os.O_CLOEXEC)
req = bytearray(struct.pack("=QIIQ", SIZE, 0, os.O_RDWR | os.O_CLOEXEC, 0))
fcntl.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, req)
buf = struct.unpack("=QIIQ", req)[1]
os.close(heap)

parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
pid = os.fork()
if pid == 0:
    parent_end.close()
    os.close(buf)  # the child's copy from fork: it uses the one it receives
    _, fds, _, _ = socket.recv_fds(child_end, 16, 1)
    got = fds[0]
    m = mmap.mmap(got, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[:12] = b"from child\0\0"
    m.close()
    child_end.sendall(b"done")
    os.close(got)
    os._exit(0)

child_end.close()
socket.send_fds(parent_end, [b"buffer"], [buf])
assert parent_end.recv(4) == b"done"
_, status = os.waitpid(pid, 0)
print(f"child exited {os.waitstatus_to_exitcode(status)}")
m = mmap.mmap(buf, SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
print(f"parent reads: {bytes(m[:10]).decode()}")
m.close()
print(f"fdinfo count after the child is gone: {fdinfo(buf)['count']}")
os.close(buf)
with open("/sys/kernel/debug/dma_buf/bufinfo") as f:
    print(f.read().strip().splitlines()[-1])
