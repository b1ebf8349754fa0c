// The uapi layer: user-visible constants, ioctl numbers and struct layouts. No dependencies.
export * from './errno.js';
export * from './ioctl.js';
export * from './fcntl.js';
export * from './struct.js';
export * from './dma-heap.js';
export * from './dma-buf.js';
export * from './sync-file.js';
export * from './udmabuf.js';
export * from './registry.js';
