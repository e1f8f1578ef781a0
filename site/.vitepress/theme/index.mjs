import { nextTick, onMounted, watch } from "vue";
import { useRoute } from "vitepress";
import DefaultTheme from "vitepress/theme";
import "./course.css";

/**
 * Mermaid draws its diagrams after the page has been scrolled to its #anchor, and each one
 * pushes the content below it down: a link to a kata section below a diagram would land
 * on the wrong text. Until the reader scrolls, or for a few seconds, put the anchor back
 * in view whenever the page's content changes size.
 */
function keepAnchorInView() {
  if (typeof window === "undefined" || location.hash.length < 2) return;
  let id;
  try {
    id = decodeURIComponent(location.hash.slice(1));
  } catch {
    return;
  }
  const target = document.getElementById(id);
  const content = document.querySelector(".vp-doc");
  if (!target || !content || !content.querySelector("div.mermaid")) return;
  const events = ["wheel", "touchmove", "keydown", "mousedown"];
  const stop = () => {
    observer.disconnect();
    clearTimeout(timer);
    for (const e of events) window.removeEventListener(e, stop);
  };
  const observer = new ResizeObserver(() => target.scrollIntoView({ block: "start" }));
  observer.observe(content);
  const timer = setTimeout(stop, 8000);
  for (const e of events) window.addEventListener(e, stop, { passive: true });
}

export default {
  extends: DefaultTheme,
  setup() {
    const route = useRoute();
    onMounted(keepAnchorInView);
    watch(
      () => route.path,
      () => nextTick(keepAnchorInView),
    );
  },
};
