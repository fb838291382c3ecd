// kmembook: the static page's side of kmemlib.lessons.widgets.base (one widget definition, two front ends).
// Loaded on widget pages after require.js and before embed-amd.js (nb_ipywidgets_js in _config.yml). It defines
// the AMD module "kmem-widgets" with one model, PickModel: the html-manager creates it from the embedded widget
// state like any other model. It listens to the widget's controls and shows, for their current values, the output
// kmemlib computed when the book was built. No kernel, no network.
define("kmem-widgets", ["@jupyter-widgets/base"], function (base) {
  "use strict";

  function nearest(domain, value) {
    var best = 0;
    for (var i = 1; i < domain.length; i++) {
      if (Math.abs(domain[i] - value) < Math.abs(domain[best] - value)) { best = i; }
    }
    return best;
  }

  function same(a, b) {
    return a === b || (typeof a === "number" && typeof b === "number" && Math.abs(a - b) < 1e-9);
  }

  // Stored outputs name their pieces (tokens) by ids written with these digits, id_width digits per id
  // (kmemlib.lessons.widgets.base.ID_DIGITS: printable ASCII from "#" to "~" without "\\", "<" and ">").
  var DIGITS = "";
  for (var c = 0x23; c < 0x7f; c++) {
    var ch = String.fromCharCode(c);
    if (ch !== "\\" && ch !== "<" && ch !== ">") { DIGITS += ch; }
  }
  var DIGIT = {};
  for (var d = 0; d < DIGITS.length; d++) { DIGIT[DIGITS.charAt(d)] = d; }

  function decode(code, width, tokens) {
    var html = "";
    for (var i = 0; i < code.length; i += width) {
      var id = 0;
      for (var k = 0; k < width; k++) { id = id * DIGITS.length + DIGIT[code.charAt(i + k)]; }
      html += tokens[id];
    }
    return html;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  class PickModel extends base.WidgetModel {
    defaults() {
      return Object.assign(super.defaults(), {
        _model_name: "PickModel", _model_module: "kmem-widgets", _model_module_version: "1.0.0",
        controls: [], names: [], attrs: [], domains: [], snap: [], targets: [], note: null, tokens: [],
        parts: [], render: [], follow: [], bounds: [], extra: [], id_width: 1,
      });
    }

    initialize(attributes, options) {
      super.initialize(attributes, options);
      var self = this;
      this._hint = this.get("note") ? this.get("note").get("value") : "";
      this._notes = {};
      this.get("controls").forEach(function (c, i) {
        self.listenTo(c, "change:" + self.get("attrs")[i], function () { self.onControl(i); });
      });
    }

    // Position of control i in its domain. A typed number that is not stored snaps to the nearest stored one
    // (after this event, so that the box shows it) and a note says so until the control changes again.
    position(i) {
      var c = this.get("controls")[i];
      var attr = this.get("attrs")[i];
      var domain = this.get("domains")[i];
      if (attr === "index") { return c.get("index"); }
      var v = c.get(attr);
      for (var k = 0; k < domain.length; k++) {
        if (same(domain[k], v)) {
          if (!this._snapping) { delete this._notes[i]; }
          return k;
        }
      }
      if (typeof v === "boolean") { return v ? 1 : 0; }
      var j = typeof v === "number" ? nearest(domain, v) : 0;
      if (this.get("snap")[i]) {
        this._notes[i] = "This static page stores outputs for " + escapeHtml(this.get("names")[i]) + " = " +
          domain.map(escapeHtml).join(", ") + ". It shows " + escapeHtml(domain[j]) + ", the nearest to " +
          escapeHtml(v) + ". Run the chapter live (JupyterLab, Binder or Colab) for any value.";
        var self = this;
        setTimeout(function () {
          self._snapping = true;
          c.set(attr, domain[j]);
          self._snapping = false;
        }, 0);
      }
      return j;
    }

    onControl(i) {
      var controls = this.get("controls");
      var domains = this.get("domains");
      var extra = this.get("extra");
      var self = this;
      this.get("follow").forEach(function (f) {
        if (f[0] === i) {
          var src = controls[f[0]];
          var v = self.get("attrs")[f[0]] === "index" ? domains[f[0]][src.get("index")] : src.get("value");
          controls[f[1]].set("value", v);
        }
      });
      this.get("bounds").forEach(function (b) {
        if (b.source === i) {
          var m = b.maxes[self.position(i)];
          b.targets.forEach(function (t) { extra[t].set("max", m); });
          b.targets.forEach(function (t) { extra[t].set("value", m); });
        }
      });
      this.update();
    }

    update() {
      var pos = [];
      for (var i = 0; i < this.get("controls").length; i++) { pos.push(this.position(i)); }
      var notes = Object.keys(this._notes).map(function (k) { return this._notes[k]; }, this);
      var tokens = this.get("tokens");
      var width = this.get("id_width");
      var domains = this.get("domains");
      var targets = this.get("targets");
      this.get("parts").forEach(function (part, p) {
        var k = 0;
        part.args.forEach(function (a) { k = k * domains[a].length + pos[a]; });
        var html = decode(part.outputs[part.table[k]], width, tokens);
        if (targets[p].get("value") !== html) { targets[p].set("value", html); }
      });
      var note = this.get("note");
      if (note) {
        var text = notes.length ? "<span class='kmem-snap'>" + notes.join(" ") + "</span>" : "";
        note.set("value", [this._hint, text].filter(Boolean).join("<br>"));
      }
    }
  }

  PickModel.serializers = Object.assign({}, base.WidgetModel.serializers, {
    controls: { deserialize: base.unpack_models },
    targets: { deserialize: base.unpack_models },
    note: { deserialize: base.unpack_models },
    extra: { deserialize: base.unpack_models },
  });

  return { PickModel: PickModel };
});
