// Sizes of what an app ships, shared by bench/size.sh (bench/pieces.mjs) and the browser
// benchmark: an app's esbuild bundle split where the code says `import()`, and compressed sizes.
import { resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

/** Raw, gzip -9 and brotli -q 11 sizes of `bytes`. */
export const sizes = (bytes) => ({
  raw: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

/** The sum of several sizes. */
export const add = (...xs) => ({
  raw: xs.reduce((a, x) => a + x.raw, 0),
  gzip: xs.reduce((a, x) => a + x.gzip, 0),
  brotli: xs.reduce((a, x) => a + x.brotli, 0),
});

/**
 * An app's bundle of `entry`, minified, split where the code says `import()`: `eager` is what
 * the page fetches at start (the entry and the chunks it imports statically), `lazy` each chunk
 * it imports only on demand, by name.
 */
export async function bundled(entry, external = []) {
  const out = await esbuild.build({
    entryPoints: [entry], bundle: true, splitting: true, format: 'esm', minify: true, write: false,
    outdir: '/out', metafile: true, external, logLevel: 'error',
  });
  const files = new Map(out.outputFiles.map((f) => [f.path, f.contents]));
  const outputs = out.metafile.outputs;
  const start = Object.keys(outputs).find((k) => outputs[k].entryPoint);
  const eager = new Set();
  const visit = (name) => {
    if (eager.has(name)) return;
    eager.add(name);
    for (const i of outputs[name].imports) if (i.kind === 'import-statement' && outputs[i.path]) visit(i.path);
  };
  visit(start);
  // The metafile names outputs relative to the working directory; the files are absolute.
  const pick = (names) => add(...names.map((n) => sizes(Buffer.from(files.get(resolve(n))))));
  const lazy = Object.keys(outputs).filter((k) => k.endsWith('.js') && !eager.has(k));
  return { eager: pick([...eager]), lazy: Object.fromEntries(lazy.map((n) => [n.replace(/^.*\//, ''), pick([n])])) };
}
