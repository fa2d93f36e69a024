import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` serves the front end on :5173 and proxies the API to a spur-app on :3001
// (SPUR_APP overrides), so the session cookie stays same-origin as in production.
const target = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env.SPUR_APP ?? "http://127.0.0.1:3001";

export default defineConfig({
  plugins: [react()],
  build: {
    // No inline scripts or styles: the page's CSP allows only files of its own origin.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  server: {
    proxy: { "/api": target, "/docs": target, "/openapi.json": target },
  },
});
