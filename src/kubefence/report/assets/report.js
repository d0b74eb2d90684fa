// The kubefence HTML report's filters, tabs and namespace expansion: inlined into every page.
(function () {
  var q = function (s, root) { return Array.prototype.slice.call((root || document).querySelectorAll(s)); };
  var ns = document.getElementById('kf-filter-ns'), changed = document.getElementById('kf-filter-changed');
  var search = document.getElementById('kf-filter-search'), count = document.getElementById('kf-filter-count');
  function active() { return (ns && ns.value) || (changed && changed.checked) || (search && search.value.trim()); }
  function match(el) {
    var n = ns ? ns.value : '';
    if (n && (' ' + (el.getAttribute('data-ns') || '') + ' ').indexOf(' ' + n + ' ') < 0) return false;
    if (changed && changed.checked && !el.getAttribute('data-change')) return false;
    var t = search ? search.value.trim().toLowerCase() : '';
    return !t || (el.getAttribute('data-text') || '').indexOf(t) >= 0;
  }
  function apply() {
    var on = active();
    q('.kf-edge').forEach(function (e) { e.classList.toggle('kf-hidden', !!on && !match(e)); });
    q('svg.kf-graph').forEach(function (svg) {
      var seen = {};
      q('.kf-edge:not(.kf-hidden)', svg).forEach(function (e) {
        seen[e.getAttribute('data-src')] = 1; seen[e.getAttribute('data-dst')] = 1;
      });
      var shown = {};
      q('.kf-node', svg).forEach(function (n) {
        var hide = !!on && !seen[n.getAttribute('data-id')] && !match(n);
        n.classList.toggle('kf-hidden', hide);
        if (!hide) shown[n.getAttribute('data-group')] = 1;
      });
      q('.kf-group', svg).forEach(function (g) {  // a namespace box with nothing left in it
        g.classList.toggle('kf-hidden', !!on && !shown[g.getAttribute('data-group')]);
      });
    });
    var shown = 0, total = 0;
    q('table.kf-filterable tr[data-text]').forEach(function (r) {
      var m = !on || match(r); r.classList.toggle('kf-hidden', !m); total++; if (m) shown++;
    });
    q('details.kf-ns').forEach(function (d) {
      var n = ns ? ns.value : '';
      d.classList.toggle('kf-hidden', !!n && d.getAttribute('data-ns') !== n);
      if (n && d.getAttribute('data-ns') === n) d.open = true;
    });
    if (count) count.textContent = on ? shown + ' of ' + total + ' rows shown' : '';
  }
  [ns, changed, search].forEach(function (el) { if (el) el.addEventListener('input', apply); });
  if (changed) changed.addEventListener('change', apply);
  function show(view) {
    q('.kf-tab').forEach(function (b) { b.setAttribute('aria-selected', String(b.getAttribute('data-view') === view)); });
    q('.kf-view').forEach(function (v) { v.classList.toggle('kf-hidden', v.getAttribute('data-view') !== view); });
  }
  q('.kf-tab').forEach(function (b) { b.addEventListener('click', function () { show(b.getAttribute('data-view')); }); });
  q('.kf-zoom').forEach(function (b) {
    b.addEventListener('click', function () {
      var v = b.closest('.kf-view'), on = v.classList.toggle('kf-actual');
      b.textContent = on ? 'fit to width' : 'actual size';
    });
  });
  q('.kf-overview .kf-node').forEach(function (n) {
    n.addEventListener('click', function () {
      var d = document.getElementById('kf-ns-' + n.getAttribute('data-id'));
      if (d) { d.open = true; d.scrollIntoView({block: 'start'}); }
    });
  });
  apply();
})();
