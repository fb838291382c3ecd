// kmembook: ipywidgets 8 typesets widget labels through the MathJax 2 API (MathJax.Hub.Queue), but the book
// loads MathJax 3, where that call throws "Cannot read properties of undefined (reading 'Queue')".
// This provides that single entry point on top of MathJax 3. It runs after Sphinx's inline
// `window.MathJax = {...config...}` and before the deferred MathJax script (priority 501 in _config.yml).
(function () {
  var config = window.MathJax;
  if (!config || config.version) {
    return; // no math on this page (Sphinx loads MathJax only where there is math), or MathJax already loaded
  }
  var pending = [];

  function typeset(element) {
    var mj = window.MathJax;
    mj.startup.promise = mj.startup.promise
      .then(function () { return mj.typesetPromise(element ? [element] : undefined); })
      .catch(function (err) { console.warn("kmembook: MathJax typeset failed", err); });
  }

  function run(calls) {
    for (var i = 0; i < calls.length; i++) {
      var call = calls[i];
      if (typeof call === "function") {
        call();
      } else if (Array.isArray(call) && call[0] === "Typeset") {
        typeset(call[2]);
      }
    }
  }

  config.startup = config.startup || {};
  var userReady = config.startup.ready;
  config.startup.ready = function () {
    if (userReady) { userReady(); } else { window.MathJax.startup.defaultReady(); }
    window.MathJax.Hub = { Queue: function () { run(arguments); } };
    pending.splice(0).forEach(run);
  };
  // Calls made before MathJax has started are replayed once it is ready.
  window.MathJax.Hub = { Queue: function () { pending.push(Array.prototype.slice.call(arguments)); } };
})();
