(function () {
  function key(cell) {
    if (!cell) { return null; }
    var raw = cell.getAttribute('data-sort');
    if (raw !== null) { return raw === '' ? null : (isNaN(Number(raw)) ? raw.toLowerCase() : Number(raw)); }
    var text = cell.textContent.trim();
    var m = text.match(/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i);
    if (m) { return parseFloat(m[0]); }
    return (text === '' || text === '\u2013') ? null : text.toLowerCase();
  }
  function compare(x, y) {
    if (typeof x !== typeof y) { return typeof x === 'number' ? -1 : 1; }
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  function sortBy(table, heads, th, col) {
    var now = th.getAttribute('aria-sort');
    var dir = now === 'ascending' ? 'descending' : (now === 'descending' ? 'ascending' :
              (th.getAttribute('data-first') || 'ascending'));
    heads.forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir);
    var sign = dir === 'ascending' ? 1 : -1;
    Array.prototype.forEach.call(table.tBodies, function (body) {
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a.cells[col]), y = key(b.cells[col]);
        if (x === null || y === null) {
          if (x !== y) { return x === null ? 1 : -1; }
        } else {
          var c = compare(x, y) * sign;
          if (c !== 0) { return c; }
        }
        return Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index'));
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll('figure img'), function (img) {
    img.title = 'click to enlarge (click again or Escape to close)';
    img.addEventListener('click', function () { img.parentNode.classList.toggle('zoom'); });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      Array.prototype.forEach.call(document.querySelectorAll('figure.zoom'), function (f) { f.classList.remove('zoom'); });
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[table.tHead.rows.length - 1].cells);
    heads.forEach(function (th, col) {
      th.tabIndex = 0;
      th.addEventListener('click', function () { sortBy(table, heads, th, col); });
      th.addEventListener('keydown', function (e) {
        if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sortBy(table, heads, th, col); }
      });
    });
  });
})();
