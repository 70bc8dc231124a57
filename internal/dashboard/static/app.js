// The dashboard's script: the live journal (Server-Sent Events), the
// panels' refresh, and the buttons and forms, which call the admin API.
// Everything a client sent is set with textContent, never as markup; the
// only markup inserted comes from the server's own html/template views.
'use strict';

(function () {
  const MAX_ROWS = 500; // rows kept on the page; older ones leave it
  const REFRESH_MS = 2000;

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));

  // ---- flash messages -----------------------------------------------------
  const flash = $('#flash');
  function say(text, isError) {
    flash.textContent = text;
    flash.className = isError ? 'error' : 'ok';
    flash.hidden = false;
  }

  // ---- the admin API ------------------------------------------------------
  async function call(method, url, body) {
    const init = { method, credentials: 'same-origin', headers: {} };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(url, init);
    if (res.status === 401) {
      location.reload(); // the login form
      throw new Error('log in again');
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!res.ok) {
      let msg = (data && (data.detail || data.title)) || ('HTTP ' + res.status);
      if (data && Array.isArray(data.errors)) {
        msg += ': ' + data.errors.map((v) => (v.location ? v.location + ' ' : '') + v.detail).join('; ');
      }
      throw new Error(msg);
    }
    return data;
  }

  // ---- panels: server-rendered fragments, refreshed in place ---------------
  function panelURL(name) {
    let url = '/__mock/ui/panels/' + name;
    if (name === 'tokens') {
      const q = new URLSearchParams();
      for (const [k, v] of new FormData($('#token-filter'))) {
        if (v) q.set(k, v);
      }
      if (q.toString()) url += '?' + q;
    }
    return url;
  }
  async function refresh(name) {
    const el = $('[data-panel="' + name + '"]');
    if (!el) return;
    const res = await fetch(panelURL(name), { credentials: 'same-origin' });
    if (res.status === 401) { location.reload(); return; }
    if (!res.ok) return;
    const html = await res.text();
    if (el.dataset.html !== html) {
      el.dataset.html = html;
      el.innerHTML = html; // html/template output of the server: escaped
    }
  }
  function refreshAll() {
    return Promise.all(['active', 'tokens', 'clock', 'upstream'].map((n) => refresh(n).catch(() => {})));
  }
  setInterval(() => { if (!document.hidden) refreshAll(); }, REFRESH_MS);
  $('#token-filter').addEventListener('change', () => refresh('tokens'));

  // ---- buttons and forms that call the admin API --------------------------
  function formBody(form) {
    const body = {};
    for (const el of form.elements) {
      if (!el.name || el.value === '') continue;
      body[el.name] = el.type === 'number' ? Number(el.value) : el.value;
    }
    return body;
  }
  function describe(method, url, data) {
    if (url === '/__mock/tokens' && method === 'POST' && data) {
      return 'Seeded ' + data.realm + ' token ' + data.token + (data.owner ? ' for ' + data.owner : '') + ' (shown this once).';
    }
    if (url.startsWith('/__mock/tokens/') && data) {
      return 'Token ' + data.token + ' is now ' + data.state + '.';
    }
    if (url === '/__mock/clock' && data) {
      return 'Clock: ' + data.now + ' (offset ' + data.offset + ').';
    }
    if (url === '/__mock/scenarios/active' && method === 'DELETE') return 'Every activation cleared.';
    return 'Done.';
  }
  async function run(method, url, body) {
    try {
      const data = await call(method, url, body);
      say(describe(method, url, data), false);
    } catch (e) {
      say(e.message, true);
    }
    await refreshAll();
  }
  document.addEventListener('submit', (ev) => {
    const form = ev.target;
    if (form.matches('form.activate')) {
      ev.preventDefault();
      const name = form.dataset.scenario;
      const body = formBody(form);
      run('POST', '/__mock/scenarios/' + encodeURIComponent(name) + '/activate', body).then(() => {
        if (!flash.classList.contains('error')) {
          say('Activated ' + name + (body.operation ? ' for ' + body.operation : '') +
            (body.times ? ' for the next ' + body.times + ' request(s).' : ' until cleared.'), false);
        }
      });
    } else if (form.matches('form.call')) {
      ev.preventDefault();
      const [method, url] = form.dataset.call.split(' ');
      run(method, url, formBody(form));
    }
  });
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-call], button[data-advance]');
    if (!b) return;
    if (b.dataset.advance) {
      run('POST', '/__mock/clock', { advance: b.dataset.advance });
      return;
    }
    const [method, url] = b.dataset.call.split(' ');
    let body;
    if (b.dataset.id) body = { realm: b.dataset.realm, id: Number(b.dataset.id) };
    run(method, url, body);
  });

  // ---- the live journal ---------------------------------------------------
  const tbody = $('#journal tbody');
  const status = $('#stream-status');
  const receivedEl = $('#received');
  const missedEl = $('#missed');
  let source = null;
  let queue = [];
  let scheduled = false;
  let received = 0;
  let missed = 0;
  let selected = null;

  function cell(tr, text, cls) {
    const td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function statusClass(s) {
    if (s === 0) return 'st-none';
    return 'st-' + String(s)[0] + 'xx';
  }
  function row(item) {
    const tr = document.createElement('tr');
    if (item.missed) {
      tr.className = 'missed';
      const td = document.createElement('td');
      td.colSpan = 8;
      td.textContent = (item.exact ? '' : 'up to ') + item.missed + ' request(s) went by unseen' +
        (item.exact ? ' (the page could not keep up)' : ' (they left the journal before the page reconnected)');
      tr.appendChild(td);
      return tr;
    }
    const e = item.entry;
    tr.dataset.id = e.id;
    tr.className = statusClass(e.status) + ' v-' + e.validation;
    tr.tabIndex = 0;
    cell(tr, String(e.id));
    cell(tr, (e.time || '').substring(11, 23));
    cell(tr, e.operation || '-');
    cell(tr, e.method + ' ' + e.path, 'mono');
    tr.cells[3].title = e.method + ' ' + e.path;
    cell(tr, e.status ? String(e.status) : (e.fault || 'none'));
    cell(tr, e.validation + (e.violations ? ' (' + e.violations + ')' : ''));
    cell(tr, e.scenario || '');
    cell(tr, e.lifecycle || '');
    tr.title = 'answered in ' + e.durationMs.toFixed(2) + ' ms' + (e.rule ? ', chosen by ' + e.rule : '');
    if (selected === String(e.id)) tr.classList.add('selected');
    return tr;
  }
  function flush() {
    scheduled = false;
    if (queue.length === 0) return;
    const frag = document.createDocumentFragment();
    for (let i = queue.length - 1; i >= 0; i--) frag.appendChild(row(queue[i]));
    queue = [];
    tbody.prepend(frag);
    while (tbody.rows.length > MAX_ROWS) tbody.deleteRow(-1);
    receivedEl.textContent = String(received);
    missedEl.textContent = String(missed);
  }
  function push(item) {
    queue.push(item);
    // Bounded even while the tab is hidden and nothing is drawn: rows past
    // MAX_ROWS would leave the table at once anyway.
    if (queue.length > MAX_ROWS) queue.splice(0, queue.length - MAX_ROWS);
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, 50);
    }
  }
  function connect() {
    if (source) source.close();
    queue = [];
    tbody.replaceChildren();
    received = 0;
    missed = 0;
    receivedEl.textContent = '0';
    missedEl.textContent = '0';
    const q = new URLSearchParams();
    for (const [k, v] of new FormData($('#filters'))) {
      if (v) q.set(k, v);
    }
    status.textContent = 'connecting';
    source = new EventSource('/__mock/requests/stream' + (q.toString() ? '?' + q : ''));
    source.addEventListener('open', () => { status.textContent = 'live'; });
    source.addEventListener('error', () => {
      // EventSource reconnects by itself, with Last-Event-ID: nothing the
      // journal still holds is lost.
      status.textContent = source.readyState === EventSource.CLOSED ? 'closed (reload the page)' : 'reconnecting';
    });
    source.addEventListener('request', (ev) => {
      received++;
      push({ entry: JSON.parse(ev.data) });
    });
    source.addEventListener('missed', (ev) => {
      const m = JSON.parse(ev.data);
      missed += m.missed;
      push(m);
    });
    source.addEventListener('cleared', () => {
      queue = [];
      tbody.replaceChildren();
    });
    source.addEventListener('refused', (ev) => {
      status.textContent = 'refused: ' + JSON.parse(ev.data).detail;
      source.close();
    });
  }
  $('#filters').addEventListener('change', connect);
  $('#filters').addEventListener('submit', (ev) => { ev.preventDefault(); connect(); });

  async function open(tr) {
    for (const r of $$('tr.selected', tbody)) r.classList.remove('selected');
    tr.classList.add('selected');
    selected = tr.dataset.id;
    const res = await fetch('/__mock/ui/requests/' + encodeURIComponent(selected), { credentials: 'same-origin' });
    if (res.status === 401) { location.reload(); return; }
    $('#detail-body').innerHTML = await res.text(); // html/template output: escaped
  }
  tbody.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr) open(tr);
  });
  tbody.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr[data-id]');
    if (tr && (ev.key === 'Enter' || ev.key === ' ')) {
      ev.preventDefault();
      open(tr);
    }
  });

  connect();
})();
