import { defineConfig } from 'vite';

// No plugins: the package's .wasm is found through `new URL(..., import.meta.url)`.
export default defineConfig({
  // The dev server's address, for the app's token and read API calls.
  define: { __DEVSERVER__: JSON.stringify(process.env.DEVSERVER_URL ?? 'http://127.0.0.1:54330') },
  // The package is a symlink to ../pkg; let Vite serve its .wasm from there.
  server: { fs: { allow: ['..'] } },
  // casino-realtime/react is linked from ../pkg: it must use this app's React and React Query.
  resolve: { dedupe: ['react', 'react-dom', '@tanstack/react-query'] },
  build: {
    rollupOptions: {
      // React Query marks its hooks "use client" for server components; a SPA has no use for it.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
    },
  },
});
