// Every code example in the documentation runs, as written, against the package's public entry
// points. The pages: README.md, ARCHITECTURE.md and docs/*.md (docs/api.md is generated
// declarations, left out). Every ```ts, ```typescript, ```js or ```javascript block is compiled
// with TypeScript's transpileModule, written as an ESM file inside the project (dist/doc-examples/,
// so `import 'dmaheap'` resolves through the package's self-reference and its "exports"), and
// run with node: it must exit with status 0. Examples assert what they claim with node:assert.
//
// HTML comments on the lines directly above a block's fence say how to treat it:
//   <!-- example: <name> -->   names the example (reports say "docs/client.md: discovery")
//   <!-- not-run: <reason> --> a fragment or a declaration: not run (its imports are still checked)
//   <!-- needs: linux-heaps --> runs only where /dev/dma_heap is usable (the linux backend's
//                               isAvailable()); elsewhere skipped with that reason
//   <!-- prelude -->           put in front of every later block of the page (the imports the
//                               page's examples share); not run on its own
//   <!-- setup: <name> -->     the block uses variables standing for its environment, which the
//                               runner defines (SETUPS below)
// Every block's imports, run or not, must be node built-ins or the package's public entry points
// ('dmaheap' and each subpath of package.json "exports"); a relative or deep import fails.
// Besides running them, every runnable block is type-checked together with its prelude, strict,
// against the package's declaration files: a block that cannot run here (needs: linux-heaps) is
// still checked against the API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { DtNode } from '../../src/kernel/of/tree.js';
import { board } from './client-helpers.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const OUT = join(ROOT, 'dist', 'doc-examples');
const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript']);
const MARKERS = new Set(['example', 'not-run', 'needs', 'prelude', 'setup']);

/** The pages whose code blocks are examples; why the others are left out. */
function pages(): string[] {
  const docs = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md') && f !== 'api.md').map((f) => `docs/${f}`).sort();
  return ['README.md', 'ARCHITECTURE.md', ...docs];
}

interface Block {
  readonly page: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
  readonly name: string;
  readonly notRun: string | null;
  readonly needs: string | null;
  readonly prelude: boolean;
  readonly setup: string | null;
}

/** The fenced blocks of a page with the markers above them; a marker that is not one of MARKERS is an error. */
function blocksOf(page: string): Block[] {
  const lines = readFileSync(join(ROOT, page), 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!);
    if (open === null) continue;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.startsWith('```')) end++;
    const markers = new Map<string, string>();
    for (let j = i - 1; j >= 0; j--) {
      const m = /^<!--\s*([a-z-]+)(?::\s*(.*?))?\s*-->$/.exec(lines[j]!);
      if (m === null) break;
      if (!MARKERS.has(m[1]!)) assert.fail(`${page}:${j + 1}: unknown marker '${m[1]!}' above a code block (known: ${[...MARKERS].join(', ')})`);
      markers.set(m[1]!, m[2] ?? '');
    }
    const lang = open[1]!.toLowerCase();
    if (markers.size > 0 && !RUNNABLE.has(lang)) assert.fail(`${page}:${i + 1}: markers above a \`\`\`${lang} block: only ts and js blocks are examples`);
    out.push({
      page, line: i + 1, lang, code: lines.slice(i + 1, end).join('\n'),
      name: markers.get('example') ?? `line ${i + 1}`,
      notRun: markers.get('not-run') ?? null,
      needs: markers.get('needs') ?? null,
      prelude: markers.has('prelude'),
      setup: markers.get('setup') ?? null,
    });
    i = end;
  }
  return out;
}

/** The module specifiers a block imports (static, dynamic, re-exports, require). */
function importsOf(code: string): string[] {
  return ts.preProcessFile(code, true, true).importedFiles.map((f) => f.fileName);
}

/** 'dmaheap' and its subpaths in package.json "exports", as importers name them. */
function publicEntryPoints(): Set<string> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
  return new Set(Object.keys(pkg.exports).map((k) => (k === '.' ? pkg.name : `${pkg.name}/${k.replace(/^\.\//, '')}`)));
}

interface Setup {
  /** The variables' declarations, for the type check. */
  readonly declarations: string;
  /** Makes the environment: code put before the block, and how to remove it afterwards. */
  prepare(): { code: string; cleanup: () => void };
}

/** The environments `<!-- setup: name -->` stands for. */
const SETUPS: Readonly<Record<string, Setup>> = {
  // `devicetree`: a directory laid out as /sys/firmware/devicetree/base (the RK3588 example
  // board's tree), `tree`: that board, as docs/client.md's device-tree example uses them
  'live-tree': {
    declarations: "declare const devicetree: string;\ndeclare const tree: NonNullable<import('dmaheap').EmulatedOptions['board']>;\n",
    prepare: () => {
      const dir = mkdtempSync(join(tmpdir(), 'dmaheap-dt-'));
      const walk = (n: DtNode, d: string): void => {
        mkdirSync(d, { recursive: true });
        for (const p of n.props) writeFileSync(join(d, p.name), p.value);
        for (const c of n.children) walk(c, join(d, c.name));
      };
      walk(board('rk3588').root, dir);
      const helpers = pathToFileURL(join(ROOT, 'dist/test/unit/client-helpers.js')).href;
      return {
        code: `const devicetree = ${JSON.stringify(dir)};\nconst tree = (await import(${JSON.stringify(helpers)})).board('rk3588');\n`,
        cleanup: () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
};

/** Why `needs` cannot be met here, or null. */
async function unmet(needs: string): Promise<string | null> {
  if (needs !== 'linux-heaps') return `unknown requirement '${needs}' (known: linux-heaps)`;
  const { linuxBackend } = await import('../../src/backends/linux/index.js');
  const a = linuxBackend.isAvailable();
  return a.ok ? null : `needs linux-heaps: ${a.reason}`;
}

/** The blocks to run, each with the page's preludes before it. */
function examples(): { block: Block; source: string }[] {
  const out: { block: Block; source: string }[] = [];
  for (const page of pages()) {
    let prelude = '';
    for (const b of blocksOf(page)) {
      if (!RUNNABLE.has(b.lang)) continue;
      if (b.prelude) prelude += `${b.code}\n`;
      else if (b.notRun === null) out.push({ block: b, source: `${prelude}${b.code}\n` });
    }
  }
  return out;
}

function fileName(b: Block, ext: string): string {
  return join(OUT, `${basename(b.page, '.md')}-${b.line}-${b.name.replace(/[^a-zA-Z0-9-]+/g, '_')}.${ext}`);
}

function runNode(file: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('close', (code) => resolve({ code, out }));
  });
}

test('the code blocks of every page import public entry points only', () => {
  const allowed = publicEntryPoints();
  const builtin = new Set(builtinModules);
  const bad: string[] = [];
  let n = 0;
  for (const page of pages()) {
    for (const b of blocksOf(page)) {
      if (!RUNNABLE.has(b.lang)) continue;
      n++;
      for (const spec of importsOf(b.code)) {
        if (allowed.has(spec) || spec.startsWith('node:') || builtin.has(spec)) continue;
        bad.push(`${b.page}:${b.line} (${b.name}) imports '${spec}': examples import the package's public entry points (${[...allowed].join(', ')}) or node built-ins`);
      }
    }
  }
  assert.deepEqual(bad, []);
  assert.ok(n >= 10, `only ${n} code blocks found`);
});

test('the client guide keeps its examples runnable', () => {
  const named = blocksOf('docs/client.md').filter((b) => b.notRun === null && !b.prelude && RUNNABLE.has(b.lang)).map((b) => b.name);
  for (const name of ['discovery', 'device-tree', 'choose', 'udmabuf', 'import-and-handoff', 'image', 'async', 'leak-guard']) assert.ok(named.includes(name), `docs/client.md: the example '${name}' is missing or not run`);
});

test('every doc example runs', { concurrency: 2 }, async (t) => {
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await Promise.all(examples().map(({ block: b, source }) => t.test(`${b.page}: ${b.name}`, async (st) => {
    const why = b.needs === null ? null : await unmet(b.needs);
    if (why !== null) {
      st.skip(why);
      return;
    }
    const setup = b.setup === null ? null : SETUPS[b.setup];
    if (b.setup !== null && setup === undefined) assert.fail(`${b.page}:${b.line}: unknown setup '${b.setup}' (known: ${Object.keys(SETUPS).join(', ')})`);
    const env = setup?.prepare();
    try {
      const js = ts.transpileModule(source, { fileName: `${b.name}.ts`, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText;
      const file = fileName(b, 'mjs');
      // setup code goes after the imports (they are hoisted anyway) and before the example
      writeFileSync(file, env === undefined ? js : js.replace(/^((?:import[^;]*;\n)*)/, `$1${env.code}`));
      const r = await runNode(file);
      assert.equal(r.code, 0, `${b.page}:${b.line} (${b.name}) exited with ${r.code}:\n${r.out}`);
    } finally {
      env?.cleanup();
    }
  })));
});

test('every doc example type-checks against the public API (strict)', () => {
  const dir = join(OUT, 'typecheck');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const { block: b, source } of examples()) {
    const declarations = b.setup === null ? '' : SETUPS[b.setup]?.declarations ?? '';
    const f = join(dir, basename(fileName(b, b.lang.startsWith('j') ? 'mjs' : 'mts')));
    // a .js block is checked as JavaScript (checkJs), a .ts block as TypeScript
    writeFileSync(f, `${source}${declarations !== '' ? `\n${declarations}` : ''}\nexport {};\n`);
    files.push(f);
  }
  const program = ts.createProgram(files, {
    strict: true, noUncheckedIndexedAccess: true, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16,
    target: ts.ScriptTarget.ES2022, lib: ['lib.es2023.d.ts'], types: ['node'], noEmit: true, skipLibCheck: true, allowJs: true, checkJs: true,
    typeRoots: [join(ROOT, 'node_modules/@types')],
  });
  const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file === undefined || files.includes(d.file.fileName));
  const text = diags.map((d) => `${d.file !== undefined ? basename(d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  assert.deepEqual(text, []);
});
