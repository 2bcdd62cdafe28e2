/**
 * The dashboard page's script, inlined in the page and allowed by its hash in the
 * Content-Security-Policy. Plain browser JavaScript (no template literals, so it can live in
 * this string): it reads the feed at `?events` of the page's own URL, keeps 15 minutes of
 * p50/p95/p99 per route in fixed-size rings (at most 100 routes, so an open tab stays bounded),
 * and writes the page with `textContent` only (nothing the server sends is parsed as HTML).
 *
 * @internal
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var SPAN_MS = 15 * 60 * 1000;
  var CAP = 900;
  var MAX_SERIES = 100;
  var W = 240, H = 44, COLS = 120;
  var SVG = 'http://www.w3.org/2000/svg';
  var intervalMs = Number(document.body.getAttribute('data-interval')) || 1000;
  var series = new Map();
  var source = null;
  var lastFrameAt = 0;
  var retryMs = 1000;
  var retryTimer = 0;
  var colMax = [new Float64Array(COLS), new Float64Array(COLS), new Float64Array(COLS)];
  var colHas = new Uint8Array(COLS);

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(tag, cls) {
    var node = document.createElementNS(SVG, tag);
    if (cls) node.setAttribute('class', cls);
    return node;
  }
  function ms(v) {
    if (v === null || v === undefined) return '\\u2013';
    if (v >= 100) return String(Math.round(v));
    if (v >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }
  function rate(v) { return v >= 100 ? String(Math.round(v)) : v.toFixed(1); }
  function count(v) { return v === null || v === undefined ? '\\u2013' : String(v); }
  function pct(v) { return v === null || v === undefined ? '\\u2013' : (v * 100).toFixed(1) + '%'; }
  function clock(t) { return new Date(t).toLocaleTimeString(); }
  function badge(status) {
    var b = el('span', 'badge', status);
    b.setAttribute('data-status', status);
    return b;
  }
  function cell(field, text, value, cls) {
    var td = el('td', cls, text);
    if (field) td.setAttribute('data-field', field);
    if (value !== undefined) td.setAttribute('data-value', value === null ? '' : String(value));
    return td;
  }
  function show(id, visible) { $(id).hidden = !visible; }
  function pairs(dl, list) {
    var nodes = [];
    for (var i = 0; i < list.length; i++) {
      var dd = el('dd', list[i][2] ? 'bad' : '', list[i][1]);
      nodes.push(el('dt', '', list[i][0]), dd);
    }
    dl.replaceChildren.apply(dl, nodes);
  }
  function setConn(state) {
    var c = $('conn');
    c.setAttribute('data-state', state);
    c.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting\\u2026' : 'connecting\\u2026';
  }

  function connect() {
    clearTimeout(retryTimer);
    if (source !== null) source.close();
    var url = new URL(location.href);
    url.search = '?events';
    url.hash = '';
    lastFrameAt = Date.now();
    source = new EventSource(url.href);
    source.onmessage = function (e) {
      var frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      lastFrameAt = Date.now();
      retryMs = 1000;
      setConn('live');
      render(frame);
    };
    source.onerror = function () {
      setConn('reconnecting');
      // The browser retries by itself unless it gave up (an error status): then we do.
      if (source.readyState === EventSource.CLOSED) {
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, 10000);
      }
    };
  }
  // A stream that stays open but silent (a stuck proxy) is replaced.
  setInterval(function () {
    if (source !== null && source.readyState === EventSource.OPEN && Date.now() - lastFrameAt > 5 * intervalMs + 2000) {
      setConn('reconnecting');
      connect();
    }
  }, 1000);

  var FIELDS = ['requestsPerSec', 'p50', 'p95', 'p99', 'errors', 'shed', 'timedOut'];

  // A route's row is built once and updated in place: an open tab allocates little per frame.
  function newSeries(key) {
    var row = el('tr');
    row.setAttribute('data-key', key);
    var cells = {};
    row.append(cell('key', key, undefined, 'key'));
    for (var f = 0; f < FIELDS.length; f++) {
      cells[FIELDS[f]] = cell(FIELDS[f], '');
      row.append(cells[FIELDS[f]]);
    }
    var chart = svg('svg', 'spark');
    chart.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    chart.setAttribute('role', 'img');
    var base = svg('line');
    base.setAttribute('x1', '0'); base.setAttribute('x2', String(W));
    base.setAttribute('y1', String(H - 1)); base.setAttribute('y2', String(H - 1));
    var label = svg('text');
    label.setAttribute('x', '2'); label.setAttribute('y', '9');
    var lines = [svg('path', 'p50'), svg('path', 'p95'), svg('path', 'p99')];
    chart.append(base, lines[0], lines[1], lines[2], label);
    var chartCell = el('td', 'chart');
    chartCell.append(chart);
    row.append(chartCell);
    var s = {
      key: key, row: row, cells: cells, lines: lines, label: label, lastSeen: 0,
      t: new Float64Array(CAP), v: [new Float32Array(CAP), new Float32Array(CAP), new Float32Array(CAP)],
      start: 0, len: 0
    };
    series.set(key, s);
    return s;
  }

  function put(td, text, value, bad) {
    td.textContent = text;
    td.setAttribute('data-value', value === null || value === undefined ? '' : String(value));
    td.className = bad ? 'bad' : '';
  }

  function push(s, time, r) {
    var i = (s.start + s.len) % CAP;
    if (s.len === CAP) s.start = (s.start + 1) % CAP; else s.len++;
    s.t[i] = time; s.v[0][i] = r.p50; s.v[1][i] = r.p95; s.v[2][i] = r.p99;
    while (s.len > 0 && s.t[s.start] < time - SPAN_MS) { s.start = (s.start + 1) % CAP; s.len--; }
  }

  // The x axis covers the history there is (at least a minute), up to 15 minutes.
  function draw(s, now) {
    var oldest = s.len > 0 ? s.t[s.start] : now;
    var span = Math.min(SPAN_MS, Math.max(30 * intervalMs, now - oldest));
    var from = now - span, max = 0, k, c;
    colHas.fill(0);
    for (k = 0; k < 3; k++) colMax[k].fill(0);
    for (var n = 0; n < s.len; n++) {
      var i = (s.start + n) % CAP;
      c = Math.min(COLS - 1, Math.max(0, Math.floor((s.t[i] - from) / span * COLS)));
      colHas[c] = 1;
      for (k = 0; k < 3; k++) if (s.v[k][i] > colMax[k][c]) colMax[k][c] = s.v[k][i];
      if (s.v[2][i] > max) max = s.v[2][i];
    }
    var scale = max > 0 ? (H - 12) / max : 0;
    // Columns further apart than three frames are a gap in the feed: the line breaks there.
    var maxGap = Math.max(1, Math.ceil(3 * intervalMs / (span / COLS)));
    for (k = 0; k < 3; k++) {
      var d = '', last = -COLS;
      for (c = 0; c < COLS; c++) {
        if (!colHas[c]) continue;
        var x = c * (W / COLS), y = H - 1 - colMax[k][c] * scale;
        d += (c - last <= maxGap ? 'L' : 'M') + x.toFixed(1) + ' ' + y.toFixed(1) + ' ';
        last = c;
      }
      s.lines[k].setAttribute('d', d);
    }
    s.label.textContent = max > 0 ? 'max ' + ms(max) + ' ms' : '';
  }

  var frames = 0;

  function renderRoutes(frame) {
    var body = $('routes').tBodies[0];
    var order = [];
    frames++;
    for (var i = 0; i < frame.routes.length; i++) {
      var r = frame.routes[i];
      var s = series.get(r.key) || newSeries(r.key);
      s.lastSeen = frame.time;
      push(s, frame.time, r);
      var c = s.cells;
      put(c.requestsPerSec, rate(r.requestsPerSec), r.requestsPerSec);
      put(c.p50, ms(r.p50), r.p50);
      put(c.p95, ms(r.p95), r.p95);
      put(c.p99, ms(r.p99), r.p99);
      put(c.errors, count(r.errors) + (r.errors > 0 ? ' (' + pct(r.errorRatio) + ')' : ''), r.errors, r.errors > 0);
      put(c.shed, count(r.shed), r.shed, r.shed > 0);
      put(c.timedOut, count(r.timedOut), r.timedOut, r.timedOut > 0);
      s.row.className = '';
      draw(s, frame.time);
      order.push(s.row);
    }
    // Routes quiet in this frame keep their history (dimmed, redrawn every few frames) until it
    // is older than 15 minutes; beyond MAX_SERIES routes the longest quiet go first.
    var quiet = [];
    series.forEach(function (s, key) {
      if (s.lastSeen === frame.time) return;
      if (frame.time - s.lastSeen > SPAN_MS) { series.delete(key); return; }
      s.row.className = 'idle';
      quiet.push(s);
    });
    quiet.sort(function (a, b) { return b.lastSeen - a.lastSeen; });
    while (series.size > MAX_SERIES && quiet.length > 0) series.delete(quiet.pop().key);
    for (var q = 0; q < quiet.length; q++) {
      if (frames % 5 === 0) draw(quiet[q], frame.time);
      order.push(quiet[q].row);
    }
    var current = body.children, same = current.length === order.length;
    for (var n = 0; same && n < order.length; n++) same = current[n] === order[n];
    if (!same) body.replaceChildren.apply(body, order);
    $('window').textContent = frame.window ? '(over the last ' + frame.window + ')' : '';
    show('routes-section', series.size > 0);
  }

  function renderHealth(h) {
    show('health-section', h !== null);
    if (h === null) return;
    var status = $('health-status');
    status.textContent = h.status;
    status.setAttribute('data-status', h.status);
    $('health-message').textContent = h.message;
    var rows = h.checks.map(function (c) {
      var tr = el('tr');
      tr.setAttribute('data-check', c.name);
      var st = el('td');
      st.setAttribute('data-field', 'status');
      st.setAttribute('data-value', c.status);
      st.append(badge(c.status));
      var name = cell('name', c.name);
      if (!c.critical) name.append(el('small', 'note', 'non-critical'));
      tr.append(name, st, cell('durationMs', ms(c.durationMs) + ' ms', c.durationMs), cell('output', c.output || '', undefined, 'text'));
      return tr;
    });
    var body = $('checks').tBodies[0];
    body.replaceChildren.apply(body, rows);
  }

  function renderCache(c) {
    show('cache-section', c !== null);
    if (c === null) return;
    pairs($('cache'), [
      ['L1 hit ratio (10 s)', pct(c.l1HitRatio)],
      ['L2 hit ratio (10 s)', pct(c.l2HitRatio)],
      ['factory runs', String(c.factoryRuns)],
      ['runs saved by stampede protection', String(c.factoryRunsSaved)],
      ['stale values served', String(c.staleServed), c.staleServed > 0],
      ['L2 breaker', c.breaker, c.breaker !== 'closed'],
      ['invalidation bus', c.busConnected === null ? 'none' : c.busConnected ? 'connected' : 'disconnected', c.busConnected === false],
      ['L1 entries', String(c.l1Entries)]
    ]);
  }

  function renderTable(id, sectionId, items, columns) {
    show(sectionId, items.length > 0);
    var body = $(id).tBodies[0];
    body.replaceChildren.apply(body, items.map(function (item) {
      var tr = el('tr');
      tr.setAttribute('data-name', item.name);
      tr.append.apply(tr, columns(item));
      return tr;
    }));
  }

  function counters(obj) {
    var parts = [];
    for (var k in obj) parts.push(k + ' ' + obj[k]);
    return parts.join(', ');
  }

  function renderAlerts(alerts) {
    show('alerts', alerts.length > 0);
    var list = $('alert-list');
    list.replaceChildren.apply(list, alerts.map(function (a) {
      var li = el('li');
      li.setAttribute('data-rule', a.rule);
      li.append(badge(a.severity), el('span', '', a.rule + ': ' + a.summary), el('span', 'since', 'since ' + clock(a.since)));
      return li;
    }));
  }

  function render(frame) {
    document.body.setAttribute('data-frame-time', String(frame.time));
    $('updated').textContent = 'updated ' + clock(frame.time);
    renderAlerts(frame.alerts);
    renderRoutes(frame);
    renderHealth(frame.health);
    renderCache(frame.cache);
    renderTable('queues', 'queues-section', frame.queues, function (q) {
      return [cell('name', q.name), cell('waiting', String(q.waiting) + (q.maxSize === null ? '' : ' / ' + q.maxSize), q.waiting),
        cell('running', q.running + ' / ' + q.concurrency, q.running), cell('rejectedPerSec', rate(q.rejectedPerSec), q.rejectedPerSec, q.rejectedPerSec > 0 ? 'bad' : ''),
        cell('rejected', String(q.rejected), q.rejected), cell('avgWaitMs', ms(q.avgWaitMs) + (q.avgWaitMs === null ? '' : ' ms'), q.avgWaitMs)];
    });
    show('idempotency-section', frame.idempotency !== null);
    if (frame.idempotency !== null) {
      var i = frame.idempotency;
      pairs($('idempotency'), [['executions', String(i.executions)], ['replays', String(i.replays)], ['409 in progress', String(i.conflicts)],
        ['422 key reused', String(i.keyReused)], ['store unavailable', String(i.storeUnavailable), i.storeUnavailable > 0], ['running now', String(i.running)]]);
    }
    renderTable('breakers', 'breakers-section', frame.breakers, function (b) {
      var st = el('td');
      st.setAttribute('data-field', 'state');
      st.append(badge(b.state));
      return [cell('name', b.name), st, cell('counters', counters(b.counters), undefined, 'text')];
    });
    renderTable('limiters', 'limiters-section', frame.limiters, function (l) {
      return [cell('name', l.name), cell('counters', counters(l.counters), undefined, 'text')];
    });
  }

  setConn('connecting');
  connect();
})();
`;
