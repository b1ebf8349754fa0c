/**
 * Multi-plane image layouts packed into one buffer, as libcamera's DmaBufAllocator and ChromeOS's
 * camera stack do it: every plane of a frame at its own offset in a single dma-buf. For each
 * format this computes each plane's stride (bytes per row, aligned), height in rows, offset
 * (aligned) and size, and the buffer's total size.
 *
 * Pure arithmetic: no kernel, no Node APIs.
 */

/**
 * Pixel formats, named as DRM fourcc codes are (drm_fourcc.h): semi-planar YUV `NV12`/`NV21`
 * (4:2:0) and `NV16`/`NV61` (4:2:2), planar YUV `YUV420` (I420), `YVU420` (YV12), `YUV422`,
 * `YUV444`, packed `YUYV`/`UYVY` (4:2:2), and single-plane RGB and grey formats.
 */
export type PixelFormat =
  | 'NV12' | 'NV21' | 'NV16' | 'NV61'
  | 'YUV420' | 'YVU420' | 'YUV422' | 'YUV444'
  | 'YUYV' | 'UYVY'
  | 'RGBA8888' | 'BGRA8888' | 'XRGB8888' | 'ARGB8888' | 'RGB888' | 'BGR888' | 'RGB565'
  | 'R8' | 'R16';

interface PlaneSpec {
  /** Plane name: `Y`, `UV`, `U`, `V`, `RGBA`, ... */
  readonly name: string;
  /** Bytes per sample; one sample covers `hsub` pixels of a row (a UV pair, a YUYV macropixel). */
  readonly bytesPerSample: number;
  /** Horizontal subsampling: the plane has ceil(width / hsub) samples per row. */
  readonly hsub: number;
  /** Vertical subsampling: the plane has ceil(height / vsub) rows. */
  readonly vsub: number;
}

const rgb = (name: string, bpp: number): readonly PlaneSpec[] => [{ name, bytesPerSample: bpp, hsub: 1, vsub: 1 }];

/** The planes of each format; samples are counted per chroma position for interleaved chroma. */
const FORMATS: Readonly<Record<PixelFormat, readonly PlaneSpec[]>> = {
  NV12: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'UV', bytesPerSample: 2, hsub: 2, vsub: 2 }],
  NV21: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'VU', bytesPerSample: 2, hsub: 2, vsub: 2 }],
  NV16: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'UV', bytesPerSample: 2, hsub: 2, vsub: 1 }],
  NV61: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'VU', bytesPerSample: 2, hsub: 2, vsub: 1 }],
  YUV420: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'U', bytesPerSample: 1, hsub: 2, vsub: 2 }, { name: 'V', bytesPerSample: 1, hsub: 2, vsub: 2 }],
  YVU420: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'V', bytesPerSample: 1, hsub: 2, vsub: 2 }, { name: 'U', bytesPerSample: 1, hsub: 2, vsub: 2 }],
  YUV422: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'U', bytesPerSample: 1, hsub: 2, vsub: 1 }, { name: 'V', bytesPerSample: 1, hsub: 2, vsub: 1 }],
  YUV444: [{ name: 'Y', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'U', bytesPerSample: 1, hsub: 1, vsub: 1 }, { name: 'V', bytesPerSample: 1, hsub: 1, vsub: 1 }],
  // packed 4:2:2: one 4-byte macropixel per two pixels
  YUYV: [{ name: 'YUYV', bytesPerSample: 4, hsub: 2, vsub: 1 }],
  UYVY: [{ name: 'UYVY', bytesPerSample: 4, hsub: 2, vsub: 1 }],
  RGBA8888: rgb('RGBA', 4),
  BGRA8888: rgb('BGRA', 4),
  XRGB8888: rgb('XRGB', 4),
  ARGB8888: rgb('ARGB', 4),
  RGB888: rgb('RGB', 3),
  BGR888: rgb('BGR', 3),
  RGB565: rgb('RGB565', 2),
  R8: rgb('R', 1),
  R16: rgb('R', 2),
};

/** Every supported format, in a stable order. */
export const PIXEL_FORMATS: readonly PixelFormat[] = Object.freeze(Object.keys(FORMATS) as PixelFormat[]);

/** What {@link imageLayout} takes. */
export interface ImageLayoutOptions {
  /** The pixel format. */
  readonly format: PixelFormat;
  /** Pixels, ≥ 1. */
  readonly width: number;
  /** Pixels, ≥ 1. */
  readonly height: number;
  /** Stride alignment in bytes: each plane's row length is rounded up to a multiple (default 1). */
  readonly align?: number;
  /** Offset alignment of each plane in bytes (default: `align`). */
  readonly planeAlign?: number;
  /** Row-count alignment of the luma/RGB plane (codecs' "scanlines", default 1); chroma rows follow it. */
  readonly heightAlign?: number;
}

/** One plane of an {@link ImageLayout}. */
export interface PlaneLayout {
  /** Position in the format's plane order. */
  readonly index: number;
  /** `Y`, `UV`, `VU`, `U`, `V`, `RGBA`, ... */
  readonly name: string;
  /** Byte offset of the plane's first row in the buffer (a multiple of `planeAlign`). */
  readonly offset: number;
  /** Bytes from one row to the next (a multiple of `align`). */
  readonly stride: number;
  /** Bytes of image data in a row (≤ stride). */
  readonly rowBytes: number;
  /** Rows. */
  readonly rows: number;
  /** stride × rows. */
  readonly size: number;
}

/** A multi-plane layout: the planes in buffer order and the bytes they need. */
export interface ImageLayout {
  /** The pixel format. */
  readonly format: PixelFormat;
  /** Pixels. */
  readonly width: number;
  /** Pixels. */
  readonly height: number;
  /** In buffer order. */
  readonly planes: readonly PlaneLayout[];
  /** Bytes from the buffer's start to the end of the last plane. */
  readonly size: number;
}

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

function positive(what: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, not ${v}`);
  return v;
}

/**
 * The layout of `format` at `width` × `height`: planes at consecutive offsets, each offset
 * aligned to `planeAlign`, each row to `align`. Subsampled planes round odd sizes up (a 5×3
 * NV12 image has a 3×2 chroma plane).
 * @throws RangeError for an unknown format or a size or alignment that is not a positive integer
 */
export function imageLayout(opts: ImageLayoutOptions): ImageLayout {
  const spec = FORMATS[opts.format] as readonly PlaneSpec[] | undefined;
  if (spec === undefined) throw new RangeError(`unknown pixel format '${String(opts.format)}': one of ${PIXEL_FORMATS.join(', ')}`);
  const width = positive('width', opts.width);
  const height = positive('height', opts.height);
  const align = positive('align', opts.align ?? 1);
  const planeAlign = positive('planeAlign', opts.planeAlign ?? align);
  const rowsOf = alignUp(height, positive('heightAlign', opts.heightAlign ?? 1));
  const planes: PlaneLayout[] = [];
  let offset = 0;
  spec.forEach((p, index) => {
    offset = alignUp(offset, planeAlign);
    const rowBytes = Math.ceil(width / p.hsub) * p.bytesPerSample;
    const stride = alignUp(rowBytes, align);
    const rows = Math.ceil(rowsOf / p.vsub);
    planes.push({ index, name: p.name, offset, stride, rowBytes, rows, size: stride * rows });
    offset += stride * rows;
  });
  return { format: opts.format, width, height, planes, size: offset };
}
