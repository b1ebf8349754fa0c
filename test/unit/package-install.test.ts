/**
 * The package as a user gets it: `npm pack` of this tree, installed into a new project from the
 * npm cache (no network: the dependencies' locked versions, which `npm ci` cached), then every
 * entry point of package.json `exports` imported (ESM, and require() where Node has require(esm))
 * and the `dmaheap` bin run from node_modules/.bin. The entry points come from package.json, so
 * new ones are covered as they are added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  files?: string[];
  dependencies?: Record<string, string>;
  engines?: Record<string, string>;
  license?: string;
}
interface LockEntry {
  dev?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson;

/** Every string in a package.json value (exports with their conditions, bin): the files it names, as written. */
function named(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (v === null || typeof v !== 'object') return [];
  return Object.values(v).flatMap(named);
}

/** `exports` as a map from subpath ('.', './api', './boards/*') to its target(s). */
function subpaths(exports: unknown): [string, unknown][] {
  if (typeof exports === 'string' || (exports !== null && typeof exports === 'object' && !Object.keys(exports).some((k) => k.startsWith('.')))) return [['.', exports]];
  return exports === null || typeof exports !== 'object' ? [] : Object.entries(exports);
}

const escapeRe = (s: string): string => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** The import specifiers `exports` offers: 'dmaheap', 'dmaheap/api', …; a pattern ('./x/*') gives one per packed file it matches. */
function specifiers(packed: readonly string[]): string[] {
  const out: string[] = [];
  for (const [sub, target] of subpaths(pkg.exports)) {
    if (!sub.includes('*')) {
      out.push(sub === '.' ? pkg.name : pkg.name + sub.slice(1));
      continue;
    }
    // expand over the files the runtime target matches (a non-'types' condition)
    const t = named(target).find((x) => !x.endsWith('.d.ts')) ?? '';
    const re = new RegExp('^' + escapeRe(t.replace(/^\.\//, '')).replace('\\*', '(.+)') + '$');
    for (const f of packed) {
      const m = re.exec(f);
      if (m !== null) out.push(pkg.name + sub.slice(1).replace('*', m[1]!));
    }
  }
  return out;
}

/** The npm that runs this test (npm test), else the one on PATH. */
function npm(args: string[], cwd: string): SpawnSyncReturns<string> {
  const ep = process.env['npm_execpath'];
  const [cmd, pre] = ep !== undefined && /npm-cli\.c?js$/.test(ep) ? [process.execPath, [ep]] : ['npm', []];
  // npm run passes its scripts settings about this project (npm_config_local_prefix, npm_package_*, …): not for npm in another project
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/.test(k) || (/^npm_config_/.test(k) && !/^npm_config_(local_prefix|call)$/.test(k))) env[k] = v;
  return spawnSync(cmd, [...pre, ...args, '--no-audit', '--no-fund', '--no-update-notifier'], { cwd, env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
}

/** The lockfile entries of the production dependencies (what a user's install gets), from this project's lockfile. */
function productionLock(): Record<string, LockEntry> {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const out: Record<string, LockEntry> = {};
  const visit = (from: string, name: string): void => {
    // node_modules resolution: the nearest node_modules/<name> from `from` up
    let dir = from;
    for (;;) {
      const key = (dir === '' ? '' : dir + '/') + 'node_modules/' + name;
      const e = lock.packages[key];
      if (e !== undefined) {
        if (key in out) return;
        out[key] = e;
        for (const d of [...Object.keys(e.dependencies ?? {}), ...Object.keys(e.optionalDependencies ?? {})]) visit(key, d);
        return;
      }
      if (dir === '') return; // an optional dependency the lockfile does not hold
      dir = dir.includes('/node_modules/') ? dir.slice(0, dir.lastIndexOf('/node_modules/')) : '';
    }
  };
  for (const d of Object.keys(pkg.dependencies ?? {})) visit('', d);
  return out;
}

/** All files under a directory of this repository, as paths relative to the root. */
function filesUnder(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

test('npm pack, installed into a new project: every export imports (ESM and require), the dmaheap bin runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dmaheap-pack-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // dist/ is built (npm test builds first); --ignore-scripts: prepare would only build it again
  const pack = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT);
  if (pack.error !== undefined && (pack.error as NodeJS.ErrnoException).code === 'ENOENT') {
    t.skip(`npm could not be run (${pack.error.message})`);
    return;
  }
  assert.equal(pack.status, 0, `npm pack failed: ${pack.stderr}`);
  const packed = (JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[])[0]!;
  const files = packed.files.map((f) => f.path);

  await t.test('the tarball holds every file exports, main, types and bin name, the example boards, the docs and the conformance cases', () => {
    const wanted = [...named(pkg.exports), ...named(pkg.main), ...named(pkg.types), ...named(pkg.bin)].map((f) => f.replace(/^\.\//, ''));
    assert.ok(wanted.length >= 4, 'package.json names its entry points');
    for (const f of wanted) {
      if (f.includes('*')) {
        const re = new RegExp('^' + escapeRe(f).replace('\\*', '.+') + '$');
        assert.ok(files.some((x) => re.test(x)), `no packed file matches ${f}`);
      } else assert.ok(files.includes(f), `${f} is not in the tarball`);
    }
    for (const d of ['examples/boards', 'docs', 'test/conformance/cases']) {
      const have = filesUnder(d);
      assert.ok(have.length > 0, d);
      for (const f of have) assert.ok(files.includes(f), `${f} is not in the tarball`);
    }
    assert.ok(!files.some((f) => f.startsWith('dist/test/') || f.startsWith('dist/bench/') || f.startsWith('node_modules/')), 'no tests, benchmarks or node_modules in the tarball');
  });

  // A new project that depends on the tarball, locked to this project's versions of the dependencies, so that npm ci can install it from the cache alone.
  const app = join(dir, 'app');
  mkdirSync(app);
  const tgz = `file:../${packed.filename}`;
  const integrity = 'sha512-' + createHash('sha512').update(readFileSync(join(dir, packed.filename))).digest('base64');
  const self = { version: pkg.version, resolved: tgz, integrity, license: pkg.license, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines };
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { [pkg.name]: tgz } }));
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify({ name: 'consumer', lockfileVersion: 3, requires: true, packages: { '': { name: 'consumer', dependencies: { [pkg.name]: tgz } }, [`node_modules/${pkg.name}`]: self, ...productionLock() } }),
  );
  // --offline: from the npm cache only; --ignore-scripts: no dependency's install script (koffi ships prebuilt binaries)
  const install = npm(['ci', '--offline', '--ignore-scripts'], app);
  if (install.status !== 0 && /ENOTCACHED/.test(install.stderr)) {
    t.skip(`the dependencies are not in the npm cache, and this test does not use the network (run npm ci in the project first): ${install.stderr.split('\n')[0]}`);
    return;
  }
  assert.equal(install.status, 0, `npm ci of the tarball failed: ${install.stderr}`);

  await t.test('every entry point of exports imports as ESM, and loads with require() where Node has require(esm)', () => {
    const specs = specifiers(files);
    assert.ok(specs.includes(pkg.name), 'the package root is exported');
    const code = `
      import { createRequire } from 'node:module';
      const require = createRequire(process.cwd() + '/');
      const out = { esm: {}, cjs: {} };
      for (const s of ${JSON.stringify(specs)}) {
        const m = await import(s, s.endsWith('.json') ? { with: { type: 'json' } } : undefined);
        out.esm[s] = s.endsWith('.json') ? m.default.name : Object.keys(m).sort();
        if (process.features.require_module) {
          const r = require(s);
          out.cjs[s] = s.endsWith('.json') ? r.name : Object.keys(r).sort();
        }
      }
      out.heaps = (await import(${JSON.stringify(pkg.name)})).emulatedBackend.createClient({ profile: '6.1' }).heaps().map((h) => h.name);
      console.log(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `importing the installed package failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { esm: Record<string, string[] | string>; cjs: Record<string, string[] | string>; heaps: string[] };
    for (const s of specs) {
      const esm = out.esm[s];
      if (s.endsWith('.json')) assert.equal(esm, pkg.name, s);
      else assert.ok(Array.isArray(esm) && esm.length > 0, `${s} exports nothing`);
      // require(esm): Node >= 20.19 (README: "As a dependency")
      if (process.features.require_module === true) assert.deepEqual(out.cjs[s], esm, `require('${s}') gives what import gives`);
    }
    assert.deepEqual(out.heaps, ['system', 'reserved'], "the root export's emulated client works");
  });

  await t.test('node_modules/.bin/dmaheap heaps --json runs the installed CLI', () => {
    const bins = typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : (pkg.bin ?? {});
    assert.deepEqual(Object.keys(bins), ['dmaheap']);
    const r = spawnSync(join(app, 'node_modules/.bin/dmaheap'), ['heaps', '--json', '--backend', 'emulated', '--profile', '6.1'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.error, undefined);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { profile: string; heaps: { name: string }[] };
    assert.equal(j.profile, '6.1');
    assert.deepEqual(
      j.heaps.map((h) => h.name),
      ['system', 'reserved'],
    );
  });
});
