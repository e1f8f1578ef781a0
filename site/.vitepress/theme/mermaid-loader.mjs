// What vitepress-plugin-mermaid's component imports as "mermaid". Mermaid itself is not
// bundled: its own ESM build (node_modules/mermaid/dist/mermaid.esm.min.mjs and its chunks)
// is copied into the site as it is and loaded the first time a page shows a diagram. The
// site builds several times faster (Rollup never parses Mermaid's megabytes), and a page
// without a diagram never downloads it.
import { withBase } from "vitepress";

let loading = null;
let config = {};

function load() {
  loading ??= import(/* @vite-ignore */ withBase("/mermaid/mermaid.esm.min.mjs")).then((module) => module.default);
  return loading;
}

export default {
  initialize(next) {
    config = next;
  },
  async render(id, code) {
    const mermaid = await load();
    mermaid.initialize(config);
    return mermaid.render(id, code);
  },
  async registerExternalDiagrams(diagrams) {
    if (!diagrams || diagrams.length === 0) return;
    const mermaid = await load();
    await mermaid.registerExternalDiagrams(diagrams);
  },
};
