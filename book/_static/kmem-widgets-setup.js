// kmembook: make @jupyter-widgets/html-manager (embed-amd.js) find its own files on this site.
// Loaded on widget pages only, before require.js and embed-amd.js (first entry of nb_ipywidgets_js in
// _config.yml). The files come from tools/offline_assets.py and live in _static/kmem-offline/.
(function () {
  var me = document.currentScript;
  if (!me || !me.src) {
    return;
  }
  var base = new URL("kmem-offline/html-manager/", me.src).href;
  // embed-amd.js registers its modules as "@jupyter-widgets/html-manager/dist/..." and resolves its font
  // files relative to those module URLs; without this mapping RequireJS puts them next to the page.
  // A global `require` object defined before require.js loads is RequireJS's configuration.
  // The bundled widget modules (@jupyter-widgets/controls, base, output) take webpack's public path from
  // their RequireJS module.uri, so their CSS fonts (FontAwesome for checkboxes and button icons) resolve
  // next to that uri: map the whole scope to the same folder, where the font files are.
  var dir = base.replace(/\/$/, "");
  window.require = { paths: { "@jupyter-widgets/html-manager/dist": dir, "@jupyter-widgets": dir } };
  window.__jupyter_widgets_assets_path__ = base;
})();
