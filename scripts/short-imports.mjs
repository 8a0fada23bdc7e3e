// Gives a module's imports short names, in its .wasm and in its wasm-bindgen glue together:
// wasm-bindgen names each import `__wbg_<name>_<16 hex digits>` from a module named after the
// output file, and those names (incompressible hashes, about 60 of them) are most of the import
// section. Each import becomes a one- or two-letter name from a one-letter module; the glue's
// import object is rewritten to match, key by key, and the build fails if any key is not found
// exactly once (a wasm-bindgen upgrade that changes its output fails loudly, not at run time).
//   node scripts/short-imports.mjs pkg/casino_realtime_host
import { readFileSync, writeFileSync } from 'node:fs';

const base = process.argv[2];
const wasmFile = `${base}_bg.wasm`;
const glueFile = `${base}.js`;
const bytes = readFileSync(wasmFile);
let glue = readFileSync(glueFile, 'utf8');

function fail(message) {
  console.error(`short-imports (${base}): ${message}`);
  process.exit(1);
}

// ---- the .wasm: read its sections, rewrite the import section's names ----

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
const leb = (n) => {
  const out = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return Buffer.from(out);
};
const name = () => {
  const n = u32();
  const s = bytes.toString('utf8', at, at + n);
  at += n;
  return s;
};
const encodeName = (s) => Buffer.concat([leb(Buffer.byteLength(s)), Buffer.from(s)]);
const short = (i) => {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return i < 52 ? letters[i] : letters[Math.floor(i / 52) - 1] + letters[i % 52];
};

const sections = [];
const modules = new Map(); // old module name -> new
const renamed = []; // [module, field, newModule, newField]
while (at < bytes.length) {
  const id = bytes[at++];
  const size = u32();
  const start = at;
  const end = at + size;
  if (id !== 2) {
    sections.push(Buffer.concat([Buffer.from([id]), leb(size), bytes.subarray(start, end)]));
    at = end;
    continue;
  }
  const count = u32();
  const entries = [leb(count)];
  const perModule = new Map();
  for (let i = 0; i < count; i += 1) {
    const module = name();
    const field = name();
    const descStart = at;
    const kind = bytes[at++];
    if (kind === 0) u32();
    else if (kind === 1) { at += 1; const flags = u32(); u32(); if (flags & 1) u32(); }
    else if (kind === 2) { const flags = u32(); u32(); if (flags & 1) u32(); }
    else if (kind === 3) at += 2;
    else fail(`import kind ${kind} not understood`);
    const desc = bytes.subarray(descStart, at);
    if (!modules.has(module)) modules.set(module, short(modules.size));
    const n = perModule.get(module) ?? 0;
    perModule.set(module, n + 1);
    const newField = short(n);
    renamed.push([module, field, modules.get(module), newField]);
    entries.push(encodeName(modules.get(module)), encodeName(newField), desc);
  }
  if (at !== end) fail('the import section was not read to its end');
  const body = Buffer.concat(entries);
  sections.push(Buffer.concat([Buffer.from([2]), leb(body.length), body]));
}
writeFileSync(wasmFile, Buffer.concat([bytes.subarray(0, 8), ...sections]));

// ---- the glue: its import object, key by key ----

const replaceOnce = (find, to, what) => {
  const parts = glue.split(find);
  if (parts.length !== 2) fail(`expected one ${what}, found ${parts.length - 1}`);
  glue = parts.join(to);
};
// The glue's own functions: keys of the object it builds for its `_bg.js` module.
const own = [...modules.keys()].find((m) => m.endsWith('_bg.js'));
const snippets = new Map(); // snippet module -> [[export name, new name]]
for (const [module, field, , newField] of renamed) {
  if (module === own) replaceOnce(`        ${field}: function(`, `        ${newField}: function(`, `key ${field}`);
  else snippets.set(module, [...(snippets.get(module) ?? []), [field, newField]]);
}
// The modules: the glue's object becomes the short module; a snippet module's namespace is
// re-keyed by an object of its own.
replaceOnce(`        ${JSON.stringify(own)}: import0,`, `        ${modules.get(own)}: import0,`, `module ${own}`);
for (const [module, fields] of snippets) {
  const line = new RegExp(`^ {8}${JSON.stringify(module).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: (import\\d+),\\n`, 'gm');
  const found = [...glue.matchAll(line)];
  if (found.length < 1) fail(`no entry for ${module}`);
  const namespace = found[0][1];
  const object = `{ ${fields.map(([f, n]) => `${n}: ${namespace}.${f}`).join(', ')} }`;
  glue = glue.replace(line, '');
  replaceOnce('    return {\n        __proto__: null,\n', `    return {\n        __proto__: null,\n        ${modules.get(module)}: ${object},\n`, 'import object');
}
writeFileSync(glueFile, glue);
console.log(`${base}: ${renamed.length} imports from ${modules.size} modules renamed`);
