/**
 * The dashboard's HTTP server (Node's http module): the page, the state as JSON, live updates as
 * server-sent events, and the controls of an emulated machine. The protocol is model.ts's header;
 * docs/dashboard.md documents it with examples.
 *
 * Safety: it binds 127.0.0.1 unless told otherwise; bound beyond loopback it requires a token
 * (`Authorization: Bearer <token>` or `?token=`) on every request. A request whose Host is not
 * the server's own (DNS rebinding) or whose Origin is another site's is refused with 403. POST
 * bodies are bounded (64 KiB) and parsed strictly. A slow or closed client never blocks: an
 * event stream whose socket does not take more is skipped, and sent a fresh snapshot when it
 * drains; nothing is queued for it.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseSize, UsageError } from '../common/args.js';
import type { DashBuffer, DashDelta, DashPoint, DashSnapshot } from './model.js';
import { PAGE_HTML } from './page.js';
import { ControlError, sameJson } from './sources.js';
import type { AllocRequest, DashboardSource, DashState } from './sources.js';

/** Milliseconds between two updates of the event streams. */
export const UPDATE_MS = 250;
/** The timeline keeps the last 5 minutes. */
const TIMELINE_MS = 5 * 60_000;
/** The largest POST body (bytes). */
export const MAX_BODY = 64 * 1024;

export interface DashboardOptions {
  readonly source: DashboardSource;
  readonly host?: string;
  readonly port?: number;
  /** Required beyond loopback (generated when not given); optional on loopback. */
  readonly token?: string;
  /** Warnings for the user (binding beyond loopback, a source that failed). */
  readonly warn: (line: string) => void;
  /** The page to serve (default: page.ts's). */
  readonly page?: string;
  /** What happens to event-stream clients (tests wait on it). */
  readonly onClient?: (event: 'open' | 'blocked' | 'drained' | 'closed') => void;
}

export interface Dashboard {
  /** Where the page is (with `?token=` when a token is required). */
  readonly url: string;
  /** The token, or null when none is required. */
  readonly token: string | null;
  /** The current state, computed now (tests, benchmarks). */
  update(): Promise<{ snapshot: DashSnapshot; delta: DashDelta | null }>;
  /** The event-stream clients, oldest first: skipped while blocked, and what waits in their socket's buffer (bytes). */
  clients(): { blocked: boolean; buffered: number; seq: number | null }[];
  close(): Promise<void>;
}

interface ErrorBody {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function ascending(l: readonly DashBuffer[]): boolean {
  for (let i = 1; i < l.length; i++) if (l[i - 1]!.ino >= l[i]!.ino) return false;
  return true;
}

/** The change from `prev` to `next` (model.ts DashDelta): unchanged entries are the same objects, or equal. */
export function deltaOf(prev: DashSnapshot, next: DashSnapshot): DashDelta {
  const d: { -readonly [K in keyof DashDelta]: DashDelta[K] } = { seq: next.seq, base: prev.seq, t: next.t };
  if (!sameJson(prev.heaps, next.heaps)) d.heaps = next.heaps;
  if (!sameJson(prev.areas, next.areas)) d.areas = next.areas;
  if (!sameJson(prev.processes, next.processes)) d.processes = next.processes;
  if (!sameJson(prev.workload, next.workload)) d.workload = next.workload;
  const changed: DashBuffer[] = [];
  const gone: number[] = [];
  const pb = prev.buffers;
  const nb = next.buffers;
  if (ascending(pb) && ascending(nb)) {
    // both lists in inode order (the emulated sources'): one merge walk, no map
    let i = 0;
    let j = 0;
    while (i < pb.length || j < nb.length) {
      const p = pb[i];
      const n = nb[j];
      if (n === undefined || (p !== undefined && p.ino < n.ino)) {
        gone.push(p!.ino);
        i++;
      } else if (p === undefined || n.ino < p.ino) {
        changed.push(n);
        j++;
      } else {
        if (p !== n && !sameJson(p, n)) changed.push(n);
        i++;
        j++;
      }
    }
  } else {
    const before = new Map<number, DashBuffer>();
    for (const b of pb) before.set(b.ino, b);
    for (const b of nb) {
      const p = before.get(b.ino);
      before.delete(b.ino);
      if (p === undefined || (p !== b && !sameJson(p, b))) changed.push(b);
    }
    gone.push(...before.keys());
  }
  if (changed.length > 0) d.buffers = changed;
  if (gone.length > 0) d.gone = gone;
  const seen = new Map<number, DashSnapshot['findings'][number]>();
  for (const f of prev.findings) seen.set(f.id, f);
  const nf = next.findings.filter((f) => {
    const p = seen.get(f.id);
    return p === undefined || (p !== f && !sameJson(p, f));
  });
  if (nf.length > 0) d.findings = nf;
  const lastT = prev.timeline[prev.timeline.length - 1]?.t ?? -1;
  const np = next.timeline.filter((p) => p.t > lastT);
  if (np.length > 0) d.timeline = np;
  return d;
}

/** A strict JSON object body: at most `MAX_BODY` bytes, an object, only `keys`. */
async function readBody(req: IncomingMessage, keys: readonly string[]): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new ControlError(415, 'bad-content-type', `the body must be JSON (Content-Type: application/json), not '${type.slice(0, 60)}'`, 'send Content-Type: application/json');
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > MAX_BODY) throw new ControlError(413, 'too-large', `the body is ${declared} bytes; at most ${MAX_BODY}`, 'send a smaller request');
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    const b = c as Buffer;
    n += b.length;
    if (n > MAX_BODY) throw new ControlError(413, 'too-large', `the body is longer than ${MAX_BODY} bytes`, 'send a smaller request');
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let v: unknown;
  try {
    v = text === '' ? {} : JSON.parse(text);
  } catch (e) {
    throw new ControlError(400, 'bad-json', `the body is not JSON: ${e instanceof Error ? e.message : String(e)}`, 'send a JSON object, e.g. {"heap": "system", "size": "1M"}');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new ControlError(400, 'bad-request', 'the body must be a JSON object', `its keys: ${keys.join(', ') || '(none)'}`);
  for (const k of Object.keys(v)) if (!keys.includes(k)) throw new ControlError(400, 'bad-request', `unknown key '${k.slice(0, 40)}'`, `the keys: ${keys.join(', ') || '(none)'}`);
  return v as Record<string, unknown>;
}

function str(body: Record<string, unknown>, k: string, max: number, required: boolean): string | undefined {
  const v = body[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > max) throw new ControlError(400, 'bad-request', `${k} must be a string of 1 to ${max} characters`, 'see docs/dashboard.md, "HTTP API"');
  return v;
}

function sizeOf(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  if (typeof v === 'string' && v.length <= 40) {
    try {
      return parseSize(v, 'size', { min: 1 });
    } catch (e) {
      if (e instanceof UsageError) throw new ControlError(400, 'bad-size', e.message, e.hint ?? 'a size: 4096, 64K, 1M');
      throw e;
    }
  }
  throw new ControlError(400, 'bad-size', 'size must be a positive whole number of bytes or a size text (4096, 64K, 1M)', 'e.g. {"heap": "system", "size": "1M"}');
}

/**
 * Numbers the states, keeps the timeline (the last 5 minutes) and computes each state's delta
 * against the previous one: the server's work per update besides the source's own.
 */
export class Stepper {
  private seq = 0;
  private timeline: DashPoint[] = [];
  private prev: DashSnapshot | null = null;

  step(t: number, s: DashState): { snapshot: DashSnapshot; delta: DashDelta | null } {
    const heaps: Record<string, number> = {};
    for (const h of s.heaps) heaps[h.name] = h.used ?? 0;
    const point: DashPoint = { t, heaps, buffers: s.buffers.length };
    let cut = 0;
    while (cut < this.timeline.length && this.timeline[cut]!.t < t - TIMELINE_MS) cut++;
    this.timeline = cut > 0 ? [...this.timeline.slice(cut), point] : [...this.timeline, point];
    const next: DashSnapshot = { seq: ++this.seq, t, ...s, timeline: this.timeline };
    const delta = this.prev === null ? null : deltaOf(this.prev, next);
    this.prev = next;
    return { snapshot: next, delta };
  }
}

interface Client {
  readonly res: ServerResponse;
  /** The seq it has (null: needs a snapshot). */
  seq: number | null;
  /** The socket did not take the last write: skip until 'drain'. */
  blocked: boolean;
}

/** Starts the dashboard; resolves when it listens. */
export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const host = opts.host ?? '127.0.0.1';
  const loopback = isLoopback(host);
  const token = opts.token ?? (loopback ? null : randomBytes(24).toString('base64url'));
  const source = opts.source;
  const page = opts.page ?? PAGE_HTML;
  const started = Date.now();
  let current: DashSnapshot | null = null;
  let currentAt = -Infinity;
  let dirty = true;
  let computing: Promise<{ snapshot: DashSnapshot; delta: DashDelta | null }> | null = null;
  let lastError: string | null = null;
  const clients = new Set<Client>();
  let allowedHosts = new Set<string>();

  const stepper = new Stepper();
  const compute = async (): Promise<{ snapshot: DashSnapshot; delta: DashDelta | null }> => {
    const t = Date.now() - started;
    const r = stepper.step(t, await source.snapshot(t));
    current = r.snapshot;
    currentAt = Date.now();
    dirty = false;
    return r;
  };
  /** One computation at a time: callers meanwhile share it. */
  const update = (): Promise<{ snapshot: DashSnapshot; delta: DashDelta | null }> => {
    computing ??= compute().finally(() => {
      computing = null;
    });
    return computing;
  };
  const latest = async (): Promise<DashSnapshot> => {
    if (current !== null && !dirty && Date.now() - currentAt < UPDATE_MS) return current;
    return (await update()).snapshot;
  };

  const send = (c: Client, event: string, data: string, seqSent: number): void => {
    if (c.res.destroyed || c.res.writableEnded) return;
    c.seq = seqSent;
    if (!c.res.write(`event: ${event}\ndata: ${data}\n\n`)) {
      c.blocked = true;
      opts.onClient?.('blocked');
      c.res.once('drain', () => {
        // the next update sends it a delta if it missed none meanwhile, else the newest snapshot (never a backlog)
        c.blocked = false;
        opts.onClient?.('drained');
      });
    }
  };

  const tick = async (): Promise<void> => {
    if (clients.size === 0) return;
    let r;
    try {
      r = await update();
    } catch (e) {
      const m = e instanceof Error ? e.message : String(e);
      if (m !== lastError) opts.warn(`dmaheap dashboard: the source failed: ${m}`);
      lastError = m;
      for (const c of clients) if (!c.blocked) c.res.write(`event: error\ndata: ${JSON.stringify({ error: { code: 'source', message: m, hint: 'the dashboard tries again every 250 ms' } })}\n\n`);
      return;
    }
    lastError = null;
    let deltaText: string | null = null;
    let snapText: string | null = null;
    for (const c of clients) {
      if (c.blocked) continue;
      if (r.delta !== null && c.seq === r.delta.base) {
        deltaText ??= JSON.stringify(r.delta);
        send(c, 'delta', deltaText, r.snapshot.seq);
      } else if (c.seq !== r.snapshot.seq) {
        snapText ??= JSON.stringify(r.snapshot);
        send(c, 'snapshot', snapText, r.snapshot.seq);
      }
    }
  };
  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void tick().finally(() => {
      ticking = false;
    });
  }, UPDATE_MS);
  timer.unref();

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    res.end(text);
  };
  const fail = (res: ServerResponse, e: ErrorBody): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    json(res, e.status, { error: { code: e.code, message: e.message, hint: e.hint } });
  };

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    if (token === null) return true;
    const auth = req.headers.authorization;
    const given = auth !== undefined && auth.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const control = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => {
    const controls = source.controls;
    if (controls === undefined) {
      const why = source.kind === 'linux' ? 'the real kernel is shown read-only: the dashboard never changes it' : 'a dmaheap run belongs to its program: the dashboard only watches it';
      throw new ControlError(403, 'read-only', `${path}: ${why}`, 'controls work on an emulated machine: dmaheap dashboard --backend emulated');
    }
    let answer: object;
    if (path === '/api/alloc') {
      const b = await readBody(req, ['heap', 'size', 'name', 'process']);
      const name = str(b, 'name', 255, false);
      const proc = str(b, 'process', 15, false);
      const r: AllocRequest = { heap: str(b, 'heap', 255, true)!, size: sizeOf(b['size']), ...(name !== undefined ? { name } : {}), ...(proc !== undefined ? { process: proc } : {}) };
      answer = controls.alloc(r);
    } else if (path === '/api/free') {
      const b = await readBody(req, ['ino']);
      const ino = b['ino'];
      if (typeof ino !== 'number' || !Number.isSafeInteger(ino) || ino <= 0) throw new ControlError(400, 'bad-request', 'ino must be a positive whole number (a buffer\'s inode)', 'e.g. {"ino": 3}');
      answer = controls.free(ino);
    } else if (path === '/api/fault') {
      const b = await readBody(req, ['spec']);
      answer = controls.fault(str(b, 'spec', 4096, true)!);
    } else {
      const w = controls.workload;
      const b = await readBody(req, path === '/api/workload/step' ? ['us'] : []);
      if (w === undefined) throw new ControlError(409, 'no-workload', 'no workload runs on this machine', 'start the dashboard with --workload FILE');
      if (path === '/api/workload/pause') answer = w.pause();
      else if (path === '/api/workload/resume') answer = w.resume();
      else {
        const us = b['us'] ?? 1000;
        if (typeof us !== 'number' || !Number.isSafeInteger(us) || us <= 0 || us > 3_600_000_000) throw new ControlError(400, 'bad-request', 'us must be a whole number of simulated microseconds, 1 to 3600000000', 'e.g. {"us": 1000}');
        answer = w.step(us);
      }
    }
    dirty = true;
    json(res, 200, answer);
  };

  const POSTS = new Set(['/api/alloc', '/api/free', '/api/fault', '/api/workload/pause', '/api/workload/resume', '/api/workload/step']);
  const GETS = new Set(['/', '/index.html', '/api/snapshot', '/api/events']);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // DNS rebinding: on loopback (no token needed) only this server's own names; beyond it the token decides
    const hostHeader = (req.headers.host ?? '').toLowerCase();
    if (loopback && !allowedHosts.has(hostHeader)) throw new ControlError(403, 'bad-host', `Host '${hostHeader.slice(0, 80)}' is not this server's`, `open the dashboard at http://${[...allowedHosts][0] ?? host}/`);
    // another site's page: a browser says where it comes from, and it must be this server
    const origin = req.headers.origin;
    if (origin !== undefined && origin.toLowerCase() !== `http://${hostHeader}`) {
      throw new ControlError(403, 'bad-origin', `requests from ${origin.slice(0, 80)} are refused: the dashboard answers its own page only`, 'open the dashboard\'s own page');
    }
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    if (!authorized(req, url)) throw new ControlError(401, 'token', 'this dashboard needs its token', 'add ?token=<token> (printed when it started) or the header Authorization: Bearer <token>');
    const method = req.method ?? 'GET';
    if (POSTS.has(path)) {
      if (method !== 'POST') throw new ControlError(405, 'method', `${path} takes POST, not ${method}`, 'POST a JSON object');
      await control(req, res, path);
      return;
    }
    if (!GETS.has(path)) throw new ControlError(404, 'not-found', `no ${path.slice(0, 80)} here`, 'the routes: /, /api/snapshot, /api/events, POST /api/alloc, /api/free, /api/fault, /api/workload/{pause,resume,step}');
    if (method !== 'GET' && method !== 'HEAD') throw new ControlError(405, 'method', `${path} takes GET, not ${method}`, 'use GET');
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'" });
      res.end(method === 'HEAD' ? undefined : page);
      return;
    }
    if (path === '/api/snapshot') {
      json(res, 200, await latest());
      return;
    }
    // /api/events
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    const c: Client = { res, seq: null, blocked: false };
    clients.add(c);
    const gone = (): void => {
      if (clients.delete(c)) opts.onClient?.('closed');
    };
    res.on('close', gone);
    res.on('error', gone);
    opts.onClient?.('open');
    try {
      const s = await latest();
      send(c, 'snapshot', JSON.stringify(s), s.seq);
    } catch (e) {
      res.write(`event: error\ndata: ${JSON.stringify({ error: { code: 'source', message: e instanceof Error ? e.message : String(e), hint: 'the dashboard tries again every 250 ms' } })}\n\n`);
    }
  };

  const server = createServer((req, res) => {
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    handle(req, res).catch((e: unknown) => {
      if (e instanceof ControlError) fail(res, e);
      else if (e instanceof UsageError) fail(res, { status: 400, code: 'bad-request', message: e.message, hint: e.hint ?? 'see docs/dashboard.md' });
      else fail(res, { status: 500, code: 'internal', message: e instanceof Error ? e.message : String(e), hint: 'this is a bug: please report it with the request' });
      // a refused body is not read: do not keep the connection for it
      if (!req.complete) res.once('finish', () => req.destroy());
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!loopback) opts.warn(`dmaheap dashboard: listening on ${host}, beyond this machine: anyone who can reach it and has the token can see${opts.source.controls !== undefined ? ' and change' : ''} the machine`);

  const hostPart = host.includes(':') ? `[${host}]` : host;
  allowedHosts = new Set([`${hostPart}:${port}`.toLowerCase()]);
  if (loopback) for (const h of ['127.0.0.1', 'localhost', '[::1]']) allowedHosts.add(`${h}:${port}`);
  const url = `http://${hostPart}:${port}/${token !== null ? `?token=${token}` : ''}`;
  return {
    url,
    token,
    update,
    clients: () => [...clients].map((c) => ({ blocked: c.blocked, buffered: c.res.writableLength, seq: c.seq })),
    close: async () => {
      clearInterval(timer);
      for (const c of clients) c.res.destroy();
      clients.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      source.close?.();
    },
  };
}
