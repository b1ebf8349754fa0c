#!/usr/bin/env python3
"""Allocate a DMA-BUF from /dev/dma_heap/system with nothing but the standard library.

Run it on the emulated kernel:  dmaheap run -- python3 examples/run/alloc.py
or on a real one (as a user who may open the heap):  python3 examples/run/alloc.py
"""
import ctypes
import fcntl
import mmap
import os
import struct

DMA_HEAP_IOCTL_ALLOC = 0xC0184800      # _IOWR('H', 0, struct dma_heap_allocation_data)
DMA_BUF_IOCTL_SYNC = 0x40086200        # _IOW('b', 0, struct dma_buf_sync)
DMA_BUF_SET_NAME = 0x40086201          # _IOW('b', 1, const char *)
DMA_BUF_SYNC_READ, DMA_BUF_SYNC_WRITE, DMA_BUF_SYNC_END = 1, 2, 4
SIZE = 1 << 20

heap = os.open("/dev/dma_heap/system", os.O_RDONLY | os.O_CLOEXEC)
# struct dma_heap_allocation_data { u64 len; u32 fd; u32 fd_flags; u64 heap_flags; }
req = bytearray(struct.pack("=QIIQ", SIZE, 0, os.O_RDWR | os.O_CLOEXEC, 0))
fcntl.ioctl(heap, DMA_HEAP_IOCTL_ALLOC, req)
_, fd, _, _ = struct.unpack("=QIIQ", req)
os.close(heap)
print(f"allocated {SIZE} bytes: fd {fd}")

# the name shows in fdinfo, debugfs bufinfo and /sys/kernel/dmabuf; DMA_BUF_SET_NAME takes a
# pointer to the string, which fcntl.ioctl cannot pass (its integer argument is a C int): libc's ioctl
libc = ctypes.CDLL(None, use_errno=True)
libc.ioctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_char_p)
if libc.ioctl(fd, DMA_BUF_SET_NAME, b"python-example") != 0:
    raise OSError(ctypes.get_errno(), "DMA_BUF_SET_NAME")

m = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
fcntl.ioctl(fd, DMA_BUF_IOCTL_SYNC, struct.pack("=Q", DMA_BUF_SYNC_WRITE))
m[:5] = b"hello"
fcntl.ioctl(fd, DMA_BUF_IOCTL_SYNC, struct.pack("=Q", DMA_BUF_SYNC_WRITE | DMA_BUF_SYNC_END))
fcntl.ioctl(fd, DMA_BUF_IOCTL_SYNC, struct.pack("=Q", DMA_BUF_SYNC_READ))
print(f"read back: {bytes(m[:5]).decode()}")
fcntl.ioctl(fd, DMA_BUF_IOCTL_SYNC, struct.pack("=Q", DMA_BUF_SYNC_READ | DMA_BUF_SYNC_END))

with open(f"/proc/self/fdinfo/{fd}") as f:
    info = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
print(f"fdinfo: size {info['size']} count {info['count']} exp_name {info['exp_name']} name {info.get('name', '')}")
m.close()
os.close(fd)
print("freed")
