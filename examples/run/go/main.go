// A Go program (static: Go makes its system calls itself, no libc) that allocates, maps and
// writes a DMA-BUF. Build: cd examples/run/go && CGO_ENABLED=0 go build -o alloc-go .
// Run: dmaheap run -- ./alloc-go. SPDX-License-Identifier: MIT
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"unsafe"
)

type allocData struct {
	Len       uint64
	Fd        uint32
	FdFlags   uint32
	HeapFlags uint64
}

func main() {
	heap, err := os.OpenFile("/dev/dma_heap/system", os.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	req := allocData{Len: 1 << 16, FdFlags: syscall.O_RDWR | syscall.O_CLOEXEC}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, heap.Fd(), 0xC0184800, uintptr(unsafe.Pointer(&req))); e != 0 {
		fmt.Println("alloc:", e)
		os.Exit(1)
	}
	mem, err := syscall.Mmap(int(req.Fd), 0, 1<<16, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		fmt.Println("mmap:", err)
		os.Exit(1)
	}
	copy(mem, "gopher")
	info, _ := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", req.Fd))
	var keep []string
	for _, l := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(l, "size:") || strings.HasPrefix(l, "count:") || strings.HasPrefix(l, "exp_name:") {
			keep = append(keep, strings.ReplaceAll(l, "\t", " "))
		}
	}
	fmt.Printf("go: fd %d, wrote %q; %s\n", req.Fd, string(mem[:6]), strings.Join(keep, ", "))
	syscall.Munmap(mem)
	syscall.Close(int(req.Fd))
}
