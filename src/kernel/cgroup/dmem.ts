/**
 * The dmem cgroup controller (CONFIG_CGROUP_DMEM, v6.14): device-memory "regions" registered by
 * drivers, and per cgroup one page counter per region, counted in bytes, with the limits
 * dmem.min, dmem.low and dmem.max. A charge goes to the pool of the charging task's dmem css and
 * every ancestor's (the root's too: unlike the memory controller, the root pool is charged).
 *
 * The CMA heaps (2026 dmem series v2) and the coherent heap (2026 coherent heap series) are the
 * region users here: see KernelServices.dmem and docs/accounting.md.
 *
 * @kernel kernel/cgroup/dmem.c, include/linux/cgroup_dmem.h, mm/page_counter.c
 */
import { Errno } from '../../uapi/errno.js';
import type { KResult } from '../result.js';
import { memparse } from './memcontrol.js';

const E = Errno;

/** The controller's name in cgroup.controllers / cgroup.subtree_control. */
export const DMEM_CONTROLLER = 'dmem';

/** struct dmem_cgroup_region: a named amount of device memory, registered by its allocator. */
export class DmemRegion {
  /** dmem_cgroup_unregister_region() was called: no new pools, charges fail with ENODEV. */
  unregistered = false;
  constructor(
    /** The name shown in every dmem.* file (e.g. `cma/reserved`, `coh/vpu-pool`). */
    readonly name: string,
    /** Bytes (dmem.capacity). */
    readonly size: number,
  ) {}
}

/**
 * struct dmem_cgroup_pool_state: one region's page counter in one css. Its units are bytes
 * (the counter is charged with the allocation size).
 */
export class DmemPool {
  usage = 0;
  /** page_counter.watermark */
  watermark = 0;
  max: number;
  min = 0;
  low = 0;
  constructor(
    readonly region: DmemRegion,
    readonly css: DmemCss,
    /** The parent css's pool for the same region (page_counter.parent); null at the root. */
    readonly parent: DmemPool | null,
    max: number,
  ) {
    this.max = max;
  }
}

/** struct dmemcg_state: the dmem css of one cgroup, with its pools in creation order. */
export class DmemCss {
  readonly pools = new Map<DmemRegion, DmemPool>();
  /** css_offline ran (rmdir, or the parent stopped enabling dmem): limits were reset. */
  offline = false;
  constructor(readonly parent: DmemCss | null) {}
}

export type DmemFile = 'current' | 'min' | 'low' | 'max';

export class DmemCore {
  /** dmem_cgroup_regions, in registration order. */
  readonly regions: DmemRegion[] = [];
  readonly root: DmemCss = new DmemCss(null);

  constructor(
    /** PAGE_COUNTER_MAX (LONG_MAX / PAGE_SIZE): "max", even though the counters count bytes. */
    readonly pageCounterMax: number,
  ) {}

  /**
   * dmem_cgroup_register_region(): a zero size registers nothing (NULL); otherwise the region
   * is appended to the global list.
   */
  registerRegion(size: number, name: string): DmemRegion | null {
    if (size === 0) return null;
    const r = new DmemRegion(name, size);
    this.regions.push(r);
    return r;
  }

  /** dmem_cgroup_unregister_region(): off the list; its pools leave every css. */
  unregisterRegion(region: DmemRegion | null): void {
    if (region === null) return;
    const i = this.regions.indexOf(region);
    if (i >= 0) this.regions.splice(i, 1);
    region.unregistered = true;
  }

  /** dmemcs_alloc(): a css without pools (they are made on first use). */
  createCss(parent: DmemCss): DmemCss {
    return new DmemCss(parent);
  }

  /** dmemcs_offline(): every pool's limits go back to min 0, low 0, max "max"; charges stay. */
  offline(css: DmemCss): void {
    css.offline = true;
    for (const p of css.pools.values()) {
      p.min = 0;
      p.low = 0;
      p.max = this.pageCounterMax;
    }
  }

  /**
   * get_cg_pool_unlocked()/get_cg_pool_locked(): the css's pool for `region`, made on first use
   * together with every missing ancestor pool (each under its parent's counter). A region that
   * was unregistered → ENODEV.
   */
  pool(css: DmemCss, region: DmemRegion): KResult<DmemPool> {
    if (region.unregistered) return -E.ENODEV;
    const found = css.pools.get(region);
    if (found !== undefined) return found;
    const parent = css.parent === null ? null : (this.pool(css.parent, region) as DmemPool);
    const p = new DmemPool(region, css, parent, this.pageCounterMax);
    css.pools.set(region, p);
    return p;
  }

  /**
   * dmem_cgroup_try_charge(): page_counter_try_charge() of `size` bytes on the css's pool and
   * every ancestor's; a level that would go over its max undoes the levels below it and the
   * charge fails with **EAGAIN** (callers return it as is: the heaps do not turn it into
   * ENOMEM). Returns the charged pool, to be passed to {@link uncharge}.
   * @kernel kernel/cgroup/dmem.c dmem_cgroup_try_charge, mm/page_counter.c page_counter_try_charge
   */
  tryCharge(css: DmemCss, region: DmemRegion, size: number): KResult<DmemPool> {
    const pool = this.pool(css, region);
    if (typeof pool === 'number') return pool;
    for (let c: DmemPool | null = pool; c !== null; c = c.parent) {
      if (c.usage + size > c.max) {
        for (let u: DmemPool | null = pool; u !== c && u !== null; u = u.parent) u.usage -= size;
        return -E.EAGAIN;
      }
      c.usage += size;
      if (c.usage > c.watermark) c.watermark = c.usage;
    }
    return pool;
  }

  /** dmem_cgroup_uncharge(): page_counter_uncharge() up the hierarchy (NULL pool: nothing). */
  uncharge(pool: DmemPool | null, size: number): void {
    for (let c: DmemPool | null = pool; c !== null; c = c.parent) c.usage -= size;
  }

  /**
   * dmem.capacity (root only): one line per registered region, `<name> <bytes>`.
   * @kernel kernel/cgroup/dmem.c dmem_cgroup_region_capacity_show
   */
  capacityShow(): string {
    return this.regions.map((r) => `${r.name} ${r.size}\n`).join('');
  }

  /**
   * dmem.current/min/low/max: one line per registered region, `<name> <value>`, the value
   * printed as `max` when it is PAGE_COUNTER_MAX or more; a css without a pool for the region
   * shows 0 (current, min, low) or max.
   * @kernel kernel/cgroup/dmem.c dmemcg_limit_show
   */
  show(css: DmemCss, file: DmemFile): string {
    let s = '';
    for (const r of this.regions) {
      const p = css.pools.get(r) ?? null;
      const v = p === null ? (file === 'max' ? this.pageCounterMax : 0) : file === 'current' ? p.usage : p[file];
      s += v < this.pageCounterMax ? `${r.name} ${v}\n` : `${r.name} max\n`;
    }
    return s;
  }

  /**
   * Writing dmem.min/low/max with the text already stripped of surrounding white space
   * (strstrip): `<region> <value>`, split at the first blank or tab; no value or no region name
   * → EINVAL; an unknown region → EINVAL; the value is `max` or a memparse() size in bytes using
   * the rest of the text (another blank → EINVAL). min and low are set as given. max goes
   * through page_counter_set_max(), which refuses a limit below the pool's current usage with
   * EBUSY — a result dmem ignores, so such a write succeeds and changes nothing.
   * @kernel kernel/cgroup/dmem.c dmemcg_limit_write, dmemcg_parse_limit, set_resource_max; mm/page_counter.c page_counter_set_max
   */
  limitWrite(css: DmemCss, text: string, file: Exclude<DmemFile, 'current'>): number {
    const sep = text.search(/[ \t]/);
    const regionName = sep < 0 ? text : text.slice(0, sep);
    if (sep < 0 || regionName === '') return -E.EINVAL;
    const region = this.regions.find((r) => r.name === regionName);
    if (region === undefined) return -E.EINVAL;
    const rest = text.slice(sep + 1);
    let limit: number;
    if (rest === 'max') {
      limit = this.pageCounterMax;
    } else {
      const v = memparse(rest);
      if (v === null) return -E.EINVAL;
      // values past 2^53 are all at or above PAGE_COUNTER_MAX: "max" for every purpose
      limit = v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
    }
    const pool = this.pool(css, region);
    if (typeof pool === 'number') return pool;
    if (file === 'max') {
      if (pool.usage <= limit) pool.max = limit;
    } else {
      pool[file] = limit;
    }
    return 0;
  }
}
