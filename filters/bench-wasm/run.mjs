// The filters benchmark under Node (V8, as in Chrome): times each case of cases.txt on a
// frame of its size (1280x720 unless the case names one) in the wasm32+simd128 build, and the
// I420 and NV12 -> RGBA conversion at 720p and 1080p, reads criterion's native medians, prints the
// table and writes the wasm medians as JSON.
//
// node run.mjs WASM CASES CRITERION_DIR OUT_JSON
// FILTERS_BENCH_ONLY=REGEX runs only the cases whose id matches.
import { readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

const [wasmPath, casesPath, criterionDir, outPath] = process.argv.slice(2);
const RUNS = 60, WARMUP = 8, MAX_MS = 3000;

// Target (ms) per case id, from the issue; absent = no target.
const TARGETS = {
  grayscale: 0.7, invert: 0.7, threshold: 0.7, 'chain-bcs': 0.7, 'chain-gcg': 0.7,
  sepia: 0.7, posterize: 0.7, brightness: 0.7, contrast: 0.7, 'chain-bc': 0.7, 'posterize-32': 0.7,
  sobel: 2.0, 'blur-r1': 4, 'blur-r5': 4, 'blur-r50': 4,
  'gaussian-1.5': 5, canny: 7, cartoon: 12,
  // Issue 12's frame worker: the copy-in conversion within 1 ms at 720p.
  'yuv-i420': 1.0, 'yuv-nv12': 1.0,
};

const cases = readFileSync(casesPath, 'utf8').split('\n')
  .filter((l) => l.trim() && !l.startsWith('#'))
  .map((l) => {
    const [id, spec, size = '1280x720'] = l.split('\t');
    const [width, height] = size.split('x').map(Number);
    return { id, spec, width, height };
  });

const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const wasm = instance.exports;

// Camera-like content: smooth gradients, a few edges, sensor noise (fixed seed).
function cameraLike(WIDTH, HEIGHT) {
  const source = new Uint8Array(WIDTH * HEIGHT * 4);
  let seed = 0x2545f491;
  const noise = () => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; return (seed >>> 0) % 17 - 8; };
  const [cx, cy] = [WIDTH >> 1, HEIGHT >> 1];
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = (y * WIDTH + x) * 4;
      const disc = ((x - cx) ** 2 + (y - cy) ** 2) < 200 ** 2 ? 90 : 0;
      const stripes = (x >> 6) % 2 ? 40 : 0;
      source[i] = Math.min(255, Math.max(0, (x * 255) / WIDTH + disc + noise()));
      source[i + 1] = Math.min(255, Math.max(0, (y * 255) / HEIGHT + stripes + noise()));
      source[i + 2] = Math.min(255, Math.max(0, 128 + disc - stripes + noise()));
      source[i + 3] = 255;
    }
  }
  return source;
}

const encoder = new TextEncoder();
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// Times `step` (after `prepare` before each run): medians of wall clock and process CPU ms.
function timeRuns(prepare, step) {
  const times = [];
  const cpu = [];
  const started = performance.now();
  for (let run = 0; run < WARMUP + RUNS; run++) {
    prepare();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    const dt = performance.now() - t0;
    const c1 = process.cpuUsage(c0);
    if (run >= WARMUP) {
      times.push(dt);
      cpu.push((c1.user + c1.system) / 1000);
    }
    if (run >= WARMUP + 10 && performance.now() - started > MAX_MS) break;
  }
  return { ms: median(times), cpuMs: median(cpu) };
}

const sources = new Map();
function timeCase({ spec, width, height }) {
  const key = `${width}x${height}`;
  if (!sources.has(key)) sources.set(key, cameraLike(width, height));
  const source = sources.get(key);
  const framePtr = wasm.frame(width, height);
  const bytes = encoder.encode(spec);
  new Uint8Array(wasm.memory.buffer, wasm.text(bytes.length), bytes.length).set(bytes);
  if (!wasm.set_spec()) throw new Error(`bad spec ${spec}`);
  return timeRuns(
    () => new Uint8Array(wasm.memory.buffer, framePtr, source.length).set(source),
    () => wasm.apply(),
  );
}

// 4:2:0 planes with deterministic content (the conversion's cost does not depend on it).
function timeYuv(width, height, nv12) {
  const planesPtr = wasm.yuv_frame(width, height);
  const len = width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
  const planes = new Uint8Array(wasm.memory.buffer, planesPtr, len);
  for (let i = 0; i < len; i++) planes[i] = (i * 7) % 251;
  return timeRuns(() => {}, () => { if (!wasm.yuv_convert(nv12)) throw new Error('yuv sizes'); });
}

function nativeMs(id) {
  const file = join(criterionDir, 'filters', id, 'new', 'estimates.json');
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, 'utf8')).median.point_estimate / 1e6;
}

const results = [];
const rows = [];
const yuvCases = [
  { id: 'yuv-i420', spec: 'I420 -> RGBA (BT.601 limited)', width: 1280, height: 720, nv12: 0 },
  { id: 'yuv-nv12', spec: 'NV12 -> RGBA (BT.601 limited)', width: 1280, height: 720, nv12: 1 },
  { id: 'yuv-i420-1080p', spec: 'I420 -> RGBA (BT.601 limited)', width: 1920, height: 1080, nv12: 0 },
  { id: 'yuv-nv12-1080p', spec: 'NV12 -> RGBA (BT.601 limited)', width: 1920, height: 1080, nv12: 1 },
];
const only = process.env.FILTERS_BENCH_ONLY ? new RegExp(process.env.FILTERS_BENCH_ONLY) : null;
for (const c of [...cases, ...yuvCases].filter((c) => !only || only.test(c.id))) {
  const { id, spec, width, height } = c;
  const { ms, cpuMs } = c.nv12 === undefined ? timeCase(c) : timeYuv(width, height, c.nv12);
  results.push({ filter: id, width, height, ms: Number(ms.toFixed(4)), cpu_ms: Number(cpuMs.toFixed(4)) });
  const native = nativeMs(id);
  const target = TARGETS[id];
  let verdict = '';
  if (target !== undefined) {
    verdict = cpuMs <= target ? `≤ ${target} ✓` : `≤ ${target} ✗ (${(cpuMs / target).toFixed(2)}×, +${(cpuMs - target).toFixed(2)} ms)`;
  }
  rows.push([id, spec, `${width}x${height}`, native === null ? '–' : native.toFixed(3), ms.toFixed(3), cpuMs.toFixed(3), verdict]);
}

mkdirSync(dirname(outPath), { recursive: true });
writeFileSync(outPath, JSON.stringify(results, null, 2) + '\n');

const header = ['filter', 'pipeline', 'size', 'native ms', 'wasm ms (median)', 'wasm CPU ms (median)', 'wasm target (on CPU ms)'];
const [load1] = (await import('node:os')).loadavg();
console.log(`\nfilters, one thread (native: criterion median; wasm32+simd128 under Node ${process.version}: median of up to ${RUNS} runs, wall clock and process CPU time; load average ${load1.toFixed(1)})\n`);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.map((c, i) => (i === 1 ? '`' + c.replaceAll('|', '\\|') + '`' : c)).join(' | ')} |`);
console.log(`\nwasm results written to ${outPath}`);
