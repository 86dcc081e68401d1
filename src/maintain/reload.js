// Petrol Watch dev server: reload on rebuild, show build errors.
(() => {
  let box = null;
  const show = (message) => {
    if (!box) {
      box = document.createElement("pre");
      box.id = "petrol-watch-build-error";
      Object.assign(box.style, {
        position: "fixed", inset: "auto 0.5rem 0.5rem 0.5rem", maxHeight: "60vh", overflow: "auto",
        margin: "0", padding: "1rem", background: "#2b1011", color: "#ffd8d8", font: "13px/1.5 ui-monospace, monospace",
        border: "2px solid #e03131", borderRadius: "8px", whiteSpace: "pre-wrap", zIndex: "2147483647",
      });
      document.body.append(box);
    }
    box.textContent = "Build failed; this is the last good version of the page.\n\n" + message;
  };
  const events = new EventSource("/__petrol_watch/events");
  events.addEventListener("reload", () => location.reload());
  events.addEventListener("build-error", (e) => show(e.data));
})();
