// What a typical app imports from the package to run realtime managers: the entry whose bundle
// the benchmark and bench/size.sh measure as "what the page fetches".
import { applyCacheBatch, createCasinoRealtime } from '../../pkg/index.js';

export const app = { applyCacheBatch, createCasinoRealtime };
