// Rewrites what wasm-bindgen cannot declare in the glue's .d.ts files (pkg/casino_realtime_*.d.ts;
// the package's public types import theirs from the planner's). Each edit must match exactly as
// often as expected, so a wasm-bindgen upgrade that changes its output fails the build instead
// of shipping the old declarations.
import { readFileSync, writeFileSync } from 'node:fs';

// `[Symbol.dispose]()` type-checks only with lib "esnext.disposable": dropped from the types
// (the method stays at run time) so apps on ES2022 libs type-check as they are.
const edits = [{ find: /^ *\[Symbol\.dispose\]\(\): void;\n/gm, to: '', count: 1 }];

for (const module of ['host', 'debug', 'plan']) {
  const file = new URL(`../pkg/casino_realtime_${module}.d.ts`, import.meta.url);
  let text = readFileSync(file, 'utf8');
  for (const { find, to, count } of edits) {
    const found = (text.match(find) ?? []).length;
    if (found !== count) {
      console.error(`patch-dts: expected ${count} of ${find} in ${module}, found ${found}`);
      process.exit(1);
    }
    text = text.replace(find, to);
  }
  writeFileSync(file, text);
}
