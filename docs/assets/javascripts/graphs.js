// Renders the trace graphs of the site: each <pre class="fxad-graph"> holds
// Mermaid text produced by fxad at build time.  Mermaid's SVG goes into the
// page itself (not a closed shadow root, as the theme's own Mermaid support
// does), so the browser test can count its nodes.
(function () {
  function render() {
    if (typeof mermaid === "undefined") return;
    var blocks = document.querySelectorAll("pre.fxad-graph:not([data-rendered])");
    if (!blocks.length) return;
    mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
    blocks.forEach(function (pre, i) {
      var text = pre.textContent;
      var id = "fxad-graph-" + Date.now() + "-" + i;
      mermaid.render(id, text).then(function (out) {
        var div = document.createElement("div");
        div.className = "fxad-graph-rendered";
        div.setAttribute("data-graph-source", text);
        div.innerHTML = out.svg;
        pre.setAttribute("data-rendered", "1");
        pre.style.display = "none";  // the theme styles <pre>, overriding `hidden`
        pre.parentNode.insertBefore(div, pre.nextSibling);
      }).catch(function (err) {
        pre.setAttribute("data-render-error", String(err));
      });
    });
  }
  if (typeof document$ !== "undefined") {
    document$.subscribe(render);
  } else {
    document.addEventListener("DOMContentLoaded", render);
  }
})();
