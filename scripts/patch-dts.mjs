// Rewrites what wasm-bindgen cannot declare in pkg/casino_realtime_wasm.d.ts. Each edit must
// match exactly as often as expected, so a wasm-bindgen upgrade that changes its output fails the
// build instead of shipping the old declarations.
import { readFileSync, writeFileSync } from 'node:fs';

const file = new URL('../pkg/casino_realtime_wasm.d.ts', import.meta.url);
let text = readFileSync(file, 'utf8');

const FREE_DOC = `    /**
     * Releases this object's wasm memory now instead of when it is garbage-collected; later
     * calls on it throw. Rarely needed: a \`CasinoRealtime\` is ended with \`close()\`.
     */
    free(): void;`;

const edits = [
  // \`[Symbol.dispose]()\` type-checks only with lib "esnext.disposable": dropped from the types
  // (the method stays at run time) so apps on ES2022 libs type-check as they are.
  { find: /^ *\[Symbol\.dispose\]\(\): void;\n/gm, to: '', count: 3 },
  // A method cannot declare its own type parameters through wasm-bindgen.
  {
    find: 'plan(event: string, payload: unknown): CacheAction[];',
    to: 'plan<E extends EventName>(event: E, payload: EventPayloads[E]): CacheAction[];',
    count: 1,
  },
  { find: /^ {4}free\(\): void;/gm, to: FREE_DOC, count: 3 },
];

for (const { find, to, count } of edits) {
  const found = typeof find === 'string' ? text.split(find).length - 1 : (text.match(find) ?? []).length;
  if (found !== count) {
    console.error(`patch-dts: expected ${count} of ${find}, found ${found}`);
    process.exit(1);
  }
  text = typeof find === 'string' ? text.split(find).join(to) : text.replace(find, to);
}
writeFileSync(file, text);
