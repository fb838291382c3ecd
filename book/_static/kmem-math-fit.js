// kmembook: math that is wider than the text column (a phone) is typeset smaller until it fits, instead of
// scrolling inside its box or being cut. MathJax 3 breaks no lines, so each formula is scaled as a whole, down to
// MIN_SCALE of its size; only a formula that does not fit even then scrolls in its own box (class
// kmem-math-scroll, book/_static/kmem.css). Runs after MathJax has typeset the page and again when the window
// width changes. Loaded only on pages with math (tools/offline_assets.py drops it with MathJax elsewhere), after
// Sphinx's MathJax configuration and kmem-mathjax-compat.js, before MathJax itself.
(function () {
  "use strict";
  var MIN_SCALE = 0.75;
  var config = window.MathJax;
  if (!config || config.version) {
    return;
  }

  function available(el) {
    // the width of the text block that holds the formula (a paragraph, list item, the display box itself)
    var block = el;
    while (block && block !== document.body) {
      var d = getComputedStyle(block).display;
      if (block !== el && d !== "inline" && d !== "inline-block" && d !== "contents") {
        break;
      }
      if (block === el && el.getAttribute("display") === "true") {
        break;
      }
      block = block.parentElement;
    }
    var cs = getComputedStyle(block);
    return block.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  }

  function fit(el) {
    if (el.closest(".jupyter-widgets")) {
      return; // widget labels are laid out by the widget
    }
    if (el.dataset.kmemFontSize === undefined) {
      el.dataset.kmemFontSize = el.style.fontSize || "";
    }
    el.style.fontSize = el.dataset.kmemFontSize;
    el.classList.remove("kmem-math-scroll", "kmem-math-scaled");
    var display = el.getAttribute("display") === "true";
    var room = available(el);
    if (!(room > 0)) {
      return; // hidden (a folded solution): fitted when it is shown
    }
    // display math: everything its box would scroll; inline math: its own width (a glyph's overhang is not cut,
    // inline math is no box)
    var math = el.querySelector("mjx-math") || el;
    var need = Math.max(display ? el.scrollWidth : 0, math.getBoundingClientRect().width);
    if (need <= room + 0.5) {
      return;
    }
    var scale = Math.max(MIN_SCALE, Math.floor((room / need) * 1000) / 1000 - 0.005);
    var size = parseFloat(getComputedStyle(el).fontSize);
    el.style.fontSize = (size * scale).toFixed(2) + "px";
    el.classList.add("kmem-math-scaled");
    var after = Math.max(display ? el.scrollWidth : 0, math.getBoundingClientRect().width);
    if (after > room + 0.5) {
      el.classList.add("kmem-math-scroll");
    }
  }

  function fitAll(root) {
    var els = (root || document).querySelectorAll("main mjx-container");
    for (var i = 0; i < els.length; i++) {
      fit(els[i]);
    }
  }

  var lastWidth = 0;
  function onResize() {
    var w = document.documentElement.clientWidth;
    if (w !== lastWidth) {
      lastWidth = w;
      fitAll();
    }
  }

  config.startup = config.startup || {};
  var userPageReady = config.startup.pageReady;
  config.startup.pageReady = function () {
    var mj = window.MathJax;
    var ready = userPageReady ? userPageReady() : mj.startup.defaultPageReady();
    return Promise.resolve(ready).then(function () {
      lastWidth = document.documentElement.clientWidth;
      fitAll();
      var timer = null;
      window.addEventListener("resize", function () {
        clearTimeout(timer);
        timer = setTimeout(onResize, 100);
      });
      // a folded solution or a hidden cell holds math with no width until it is opened
      document.addEventListener("toggle", function (ev) { fitAll(ev.target); }, true);
      document.addEventListener("click", function () { setTimeout(fitAll, 50); });
    });
  };
})();
