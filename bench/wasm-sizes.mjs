// Where the .wasm's bytes go: reads a module that still has its name section and prints its
// sections, its functions' code sizes grouped by crate and module, and the largest functions.
//   node bench/wasm-sizes.mjs file.wasm [--top 25]
// bench/size.sh runs it on an optimized build that keeps the names (sizes are raw bytes of code).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[process.argv.indexOf('--top') + 1]) || 25;
if (!file) {
  console.error('usage: node bench/wasm-sizes.mjs file.wasm [--top N]');
  process.exit(2);
}
const bytes = readFileSync(file);

let at = 8;
const u32 = () => {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = bytes[at++];
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
    shift += 7;
  }
};
const text = (end) => {
  const n = u32();
  const s = bytes.toString('utf8', at, at + n);
  at += n;
  return s;
};

const sections = [];
let imported = 0;
const bodies = [];
const names = new Map();
const SECTION = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global', 'export', 'start', 'element', 'code', 'data', 'data count'];
while (at < bytes.length) {
  const id = bytes[at++];
  const size = u32();
  const end = at + size;
  let name = SECTION[id] ?? `section ${id}`;
  if (id === 0) {
    const custom = text();
    name = `custom "${custom}"`;
    if (custom === 'name') {
      while (at < end) {
        const kind = bytes[at++];
        const length = u32();
        const stop = at + length;
        if (kind === 1) {
          for (let n = u32(); n > 0; n -= 1) {
            const index = u32();
            names.set(index, text());
          }
        }
        at = stop;
      }
    }
  } else if (id === 2) {
    for (let n = u32(); n > 0; n -= 1) {
      text();
      text();
      const kind = bytes[at++];
      if (kind === 0) (u32(), (imported += 1));
      else if (kind === 1) (at++, u32() & 1 ? (u32(), u32()) : u32());
      else if (kind === 2) (bytes[at++] & 1 ? (u32(), u32()) : u32());
      else at += 2;
    }
  } else if (id === 10) {
    for (let n = u32(); n > 0; n -= 1) {
      const length = u32();
      bodies.push(length);
      at += length;
    }
  }
  sections.push({ name, size });
  at = end;
}
if (!names.size) {
  console.error(`${file} has no function names: build it without --strip-debug`);
  process.exit(1);
}

// Rust symbols as wasm-bindgen leaves them: `crate::module::Type::method::h0123abcd` or
// `<T as Trait>::method`. Group by the first two path segments of the (inner) path.
function group(name) {
  const plain = name.replace(/::h[0-9a-f]{16}$/, '');
  const inner = plain.startsWith('<') ? plain.slice(1).split(/ as |>/)[0].replace(/^&(mut )?/, '') : plain;
  const parts = inner.split('::').filter((p) => !p.includes('{'));
  if (parts.length < 2) return parts[0] || plain;
  return parts.slice(0, ['core', 'alloc', 'std'].includes(parts[0]) || parts[0] === 'casino_realtime' ? 2 : 1).join('::');
}

const functions = bodies.map((size, i) => ({ size, name: names.get(imported + i) ?? `function[${imported + i}]` }));
const code = functions.reduce((sum, f) => sum + f.size, 0);
const groups = new Map();
for (const f of functions) {
  const g = group(f.name);
  const entry = groups.get(g) ?? { size: 0, count: 0 };
  entry.size += f.size;
  entry.count += 1;
  groups.set(g, entry);
}

const pad = (s, n) => String(s).padStart(n);
console.log(`where the .wasm's bytes go (raw, before compression; the name section itself is not shipped)`);
for (const s of sections.filter((s) => s.name !== 'custom "name"')) console.log(`  ${pad(s.size, 8)}  ${s.name}`);
console.log(`\n  code by crate or module (${functions.length} functions, ${code} bytes)`);
for (const [g, e] of [...groups].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
  console.log(`  ${pad(e.size, 8)}  ${pad(((100 * e.size) / code).toFixed(1), 5)}%  ${pad(e.count, 4)} fn  ${g}`);
}
console.log(`\n  largest functions`);
for (const f of [...functions].sort((a, b) => b.size - a.size).slice(0, top)) {
  console.log(`  ${pad(f.size, 8)}  ${f.name.replace(/::h[0-9a-f]{16}$/, '').slice(0, 110)}`);
}
