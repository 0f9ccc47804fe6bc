/*
 * The conformance summary page: draws the run inlined as #page-data (conformance-report.json, conformance-tests.json
 * and the catalogue's coverage cells, see index.ts). Plain browser JavaScript, no dependency, no network.
 * Everything that comes from the data is inserted as text, never as markup: message bodies are whatever the
 * implementation under test sent.
 */
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('page-data').textContent);
  const report = data.report;
  const tests = data.tests || [];
  const app = document.getElementById('app');

  const VERDICTS = [
    { id: 'fail', label: 'failed', key: 'failed' },
    { id: 'warn', label: 'warned', key: 'warned' },
    { id: 'pass', label: 'passed', key: 'passed' },
    { id: 'not-applicable', label: 'not applicable', key: 'notApplicable' },
    { id: 'inconclusive', label: 'not judged', key: 'inconclusive' },
  ];

  // ---------------------------------------------------------------------------------------------------------------
  // DOM helpers

  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    append(e, children);
    return e;
  }

  function append(parent, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      parent.append(c instanceof Node ? c : String(c));
    }
    return parent;
  }

  function svg(tag, attrs) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    return e;
  }

  /** Only web links leave the page; anything else in the data stays text. */
  function safeUrl(u) {
    return typeof u === 'string' && /^https?:\/\//i.test(u) ? u : undefined;
  }

  /** Elements are looked up in their own subtree: diagrams are built before they join the document. */
  function byId(root, id) {
    return root.querySelector(`[id="${id}"]`);
  }

  function badge(cls, text) {
    return el('span', { class: `badge ${cls}`, text });
  }

  function plural(n, one, many) {
    return `${n} ${n === 1 ? one : many || `${one}s`}`;
  }

  function ms(n) {
    return n >= 1000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Indexes

  const testIndexByTitle = new Map(tests.map((t, i) => [t.title, i]));
  const expected = new Map(((report.expectations && report.expectations.met) || []).map((x) => [x.id, x]));
  const phaseTitle = new Map(data.phases.map((p) => [p.id, p.title]));
  const sideName = report.mode === 'server' ? 'server' : report.mode === 'client' ? 'client' : null;
  // grade and proxy judge traffic between a device and a server: both sides, every row of the catalogue.
  const judgedTraffic = sideName === null;
  const trafficName = report.mode === 'proxy' ? 'traffic through the judging proxy' : 'captured traffic';

  function testLink(title, text) {
    const i = testIndexByTitle.get(title);
    return i === undefined ? el('span', { text: text || title }) : el('a', { href: `#test-${i}`, text: text || title });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Header, verdict, counts

  function header() {
    const iut = report.iut || {};
    const rows = [
      ['implementation under test', report.mode === 'server' ? iut.url : report.mode === 'client' ? iut.trigger : undefined],
      ['inputs', Array.isArray(iut.inputs) ? iut.inputs.join(', ') : undefined],
      ['upstream server', iut.upstream],
      ['sides judged', iut.role],
      ['devices', Array.isArray(iut.devices) ? iut.devices.join(', ') : undefined],
      ['device id', iut.deviceId],
      ['application auth', iut.auth],
      ['features declared', Array.isArray(iut.features) ? iut.features.join(', ') || 'none' : undefined],
      ['capability profile', iut.profile],
      ['started', report.startedAt],
      ['duration', ms(report.durationMs)],
      ['tests executed', report.tests ? String(report.tests.executed) : undefined],
      ['seed', report.seed !== undefined ? String(report.seed) : undefined],
      ['harness', `${report.harness.name} ${report.harness.version}${report.strict ? ' (strict: SHOULD-level deviations fail)' : ''}`],
    ].filter((r) => r[1] !== undefined && r[1] !== '');
    return [
      el('h1', { text: judgedTraffic ? `MS-MDM conformance of ${trafficName}` : `MS-MDM ${sideName} conformance` }),
      el('div', { class: 'muted', text: judgedTraffic
        ? `The device and server messages of the ${trafficName}, judged against the MS-MDM requirements catalogue by the passive checks of mdm-conformance.`
        : `Conformance of the ${sideName} under test to the MS-MDM requirements catalogue, as judged by mdm-conformance.` }),
      el('dl', { class: 'meta' }, rows.map(([k, v]) => [el('dt', { text: k }), el('dd', { text: String(v) })])),
    ];
  }

  function banner() {
    const s = report.summary;
    const errors = (report.tests && report.tests.harnessErrors) || [];
    const advisories = (report.advisories || []).length;
    const withAdvisories = advisories ? `, with ${plural(advisories, 'security advisory', 'security advisories')}` : '';
    if (!report.tests || report.tests.executed === 0 || errors.length) {
      return el('div', { class: 'banner unjudged', id: 'verdict', text: errors.length ? `Not judged: ${plural(errors.length, 'test')} could not judge (${errors[0]})` : 'Not judged: no test ran' });
    }
    if (s.passed + s.warned + s.failed === 0) {
      return el('div', { class: 'banner unjudged', id: 'verdict', text: 'Nothing could be judged: every requirement is inconclusive or not applicable' });
    }
    if (report.expectations) {
      const x = report.expectations;
      if (x.unexpected.length || x.stale.length) {
        const parts = [];
        if (x.unexpected.length) parts.push(`${plural(x.unexpected.length, 'unexpected failure')} (${x.unexpected.join(', ')})`);
        if (x.stale.length) parts.push(`${plural(x.stale.length, 'stale expectation')} (${x.stale.map((e) => e.id).join(', ')})`);
        return el('div', { class: 'banner bad', id: 'verdict', text: `Run fails: ${parts.join('; ')}` });
      }
      if (s.failed) return el('div', { class: 'banner ok', id: 'verdict', text: `Run passes: every failure (${s.failed}) is an expected failure listed in ${x.file}${withAdvisories}` });
    }
    if (s.failed) return el('div', { class: 'banner bad', id: 'verdict', text: `Does not conform: ${plural(s.failed, 'requirement')} failed` });
    return el('div', { class: advisories ? 'banner warned' : 'banner ok', id: 'verdict', text: `Conforms${withAdvisories}: no requirement judged by this run failed` });
  }

  /** Counted from the rows this page shows, so a mismatch with the report's summary would be visible. */
  function countsOf(rows) {
    const c = { pass: 0, fail: 0, warn: 0, inconclusive: 0, 'not-applicable': 0 };
    for (const r of rows) c[r.verdict] = (c[r.verdict] || 0) + 1;
    return c;
  }

  function tiles(counts) {
    return el('div', { class: 'tiles', id: 'counts' }, VERDICTS.map((v) =>
      el('button', { class: 'tile', type: 'button', 'data-verdict': v.id, title: `show the ${v.label} requirements`, onclick: () => setFilter(v.id) },
        el('span', { class: 'count', 'data-count': v.id, text: String(counts[v.id] || 0) }), v.label)));
  }

  function expectationsBox() {
    const x = report.expectations;
    if (!x) return null;
    const row = (id, cls, text, reason) => el('tr', {},
      el('td', { class: 'id' }, el('a', { href: `#req-${id}`, text: id })),
      el('td', {}, badge(cls, text)),
      el('td', { text: reason }));
    return [
      el('h2', { text: 'Expected failures' }),
      el('p', { class: 'muted', text: `From ${x.file}. A listed requirement that fails is expected and does not fail the run; one judged and no longer failing is stale and does; one this run did not judge is neither.` }),
      el('table', {}, el('thead', {}, el('tr', {}, ['requirement', 'outcome', 'reason'].map((h) => el('th', { text: h })))),
        el('tbody', {},
          x.met.map((e) => row(e.id, 'tag', 'expected failure', e.reason)),
          x.stale.map((e) => row(e.id, 'fail', 'stale: remove it', e.reason)),
          x.notJudged.map((e) => row(e.id, 'inconclusive', 'not judged in this run', e.reason)),
          x.unexpected.map((id) => row(id, 'fail', 'unexpected failure', 'not listed')))),
    ];
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Requirements by phase, with a verdict filter

  let currentFilter = 'all';

  function setFilter(f) {
    currentFilter = f;
    for (const b of document.querySelectorAll('.filter button')) b.setAttribute('aria-pressed', String(b.dataset.filter === f));
    let shown = 0;
    for (const section of document.querySelectorAll('section.phase')) {
      let visible = 0;
      for (const tr of section.querySelectorAll('tr.req')) {
        const show = f === 'all' || tr.dataset.verdict === f;
        tr.hidden = !show;
        if (show) visible++;
      }
      section.hidden = visible === 0;
      shown += visible;
    }
    const status = document.getElementById('filter-status');
    status.dataset.shown = String(shown);
    status.textContent = f === 'all' ? `${plural(shown, 'requirement')}` : `${plural(shown, 'requirement')} ${(VERDICTS.find((v) => v.id === f) || { label: f }).label}`;
    document.getElementById('no-match').hidden = shown > 0;
  }

  function filterBar(counts, total) {
    const buttons = [{ id: 'all', label: 'all', n: total }, ...VERDICTS.map((v) => ({ id: v.id, label: v.label, n: counts[v.id] || 0 }))];
    return el('div', { class: 'filter', role: 'toolbar', 'aria-label': 'filter by verdict' },
      el('span', { class: 'muted', text: 'Show:' }),
      buttons.map((b) => el('button', { type: 'button', 'data-filter': b.id, 'aria-pressed': String(b.id === 'all'), onclick: () => setFilter(b.id) }, `${b.label} (${b.n})`)),
      el('span', { id: 'filter-status' }));
  }

  function evidenceCell(r) {
    const cell = el('td', { class: 'evidence' });
    if (r.reason) cell.append(el('p', { class: 'reason', text: `${r.outOfScope ? 'out of scope' : 'not judged'}: ${r.reason}` }));
    if (r.verdict !== 'inconclusive' || r.evidence !== 'not judged in this run') cell.append(el('pre', { text: r.evidence }));
    if (r.consequences && r.consequences.length) {
      cell.append(el('details', {}, el('summary', { text: `${plural(r.consequences.length, 'consequence')} of this failure (not counted)` }),
        el('ul', {}, r.consequences.map((c) => el('li', {}, el('a', { href: `#req-${c.id}`, text: c.id }), `: ${c.evidence}`)))));
    }
    if (r.locations && r.locations.length) {
      cell.append(el('ul', { class: 'locations' }, r.locations.map((l) => el('li', {},
        testLink(l.test, `${l.message}${l.element ? ` ${l.element}` : ''}`), el('span', { class: 'muted', text: ` in "${l.test}"` })))));
    }
    return cell;
  }

  function testsCell(r) {
    if (r.tests.length <= 1) return el('td', { class: 'tests' }, r.tests.map((t) => testLink(t)));
    return el('td', { class: 'tests' }, el('details', {}, el('summary', { text: plural(r.tests.length, 'test') }), el('ul', {}, r.tests.map((t) => el('li', {}, testLink(t))))));
  }

  function requirementRow(r) {
    const url = safeUrl(r.url);
    const tags = [];
    if (r.windowsInterop) tags.push(badge('tag', 'Windows interop'));
    if (expected.has(r.id)) tags.push(badge('tag', `expected: ${expected.get(r.id).reason}`));
    return el('tr', { class: 'req', id: `req-${r.id}`, 'data-verdict': r.verdict },
      el('td', { class: 'id' }, url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: `${r.section}: public text`, text: r.id }) : r.id),
      el('td', { class: 'text', text: (r.text || '').replace(/`/g, '') }),
      el('td', { text: r.level }),
      el('td', { text: r.role }),
      el('td', { text: r.section }),
      el('td', {}, badge(r.verdict, r.verdict), ' ', tags),
      evidenceCell(r),
      testsCell(r));
  }

  function requirementsSection(counts) {
    const rows = report.requirements;
    const phases = [...data.phases.map((p) => p.id)];
    for (const r of rows) if (!phases.includes(r.phase)) phases.push(r.phase);
    return [
      el('h2', { id: 'requirements', text: 'Requirements' }),
      filterBar(counts, rows.length),
      el('p', { id: 'no-match', class: 'muted', hidden: true, text: 'No requirement has this verdict in this run.' }),
      phases.map((phase) => {
        const inPhase = rows.filter((r) => r.phase === phase);
        if (!inPhase.length) return null;
        const c = countsOf(inPhase);
        const summary = VERDICTS.filter((v) => c[v.id]).map((v) => `${c[v.id]} ${v.label}`).join(', ');
        return el('section', { class: 'phase', 'data-phase': phase },
          el('h3', {}, phaseTitle.get(phase) || phase || 'other', el('span', { class: 'phase-counts', 'data-phase-total': String(inPhase.length), text: `${plural(inPhase.length, 'row')}: ${summary}` })),
          el('table', {},
            el('thead', {}, el('tr', {}, ['id', 'requirement', 'level', 'role', 'section', 'verdict', 'evidence', 'tests'].map((h) => el('th', { text: h })))),
            el('tbody', {}, inPhase.map(requirementRow))));
      }),
    ];
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Tests and their sequence diagrams

  const laneNames = report.mode === 'server'
    ? { device: 'device: reference device (harness)', server: 'server: under test' }
    : report.mode === 'client'
      ? { device: 'device: under test', server: 'server: reference server (harness)' }
      : { device: 'device (as captured)', server: 'server (as captured)' };

  function commandRow(c, id) {
    const parts = [el('span', { class: 'kind', text: c.kind })];
    if (c.cmdID !== undefined) parts.push(el('span', { class: 'muted', text: ` #${c.cmdID}` }));
    if (c.msgRef !== undefined || c.cmdRef !== undefined) {
      parts.push(' ', el('span', { class: 'ref', text: `\u21a9 msg ${c.msgRef ?? '?'} cmd ${c.cmdRef ?? '?'}${c.cmd ? ` (${c.cmd})` : ''}` }));
    }
    if (c.code !== undefined) parts.push(' ', el('span', { class: 'code', text: c.code }));
    if (c.uris && c.uris.length) parts.push(' ', el('span', { class: 'muted', text: c.uris.slice(0, 2).join(', ') + (c.uris.length > 2 ? ` +${c.uris.length - 2}` : '') }));
    return el('div', { class: 'row cmd', id, 'data-path': c.path, style: c.depth ? `padding-left: ${8 + c.depth * 14}px` : null, title: c.path }, parts);
  }

  function headerRowOf(m, id) {
    const h = m.hdr;
    const bits = [];
    if (h.sessionID !== undefined) bits.push(`SessionID ${h.sessionID}`);
    if (h.msgID !== undefined) bits.push(`MsgID ${h.msgID}`);
    if (h.cred) bits.push(`Cred ${h.cred.replace(/^syncml:auth-/, '')}`);
    if (h.respURI) bits.push('RespURI');
    if (h.final) bits.push('Final');
    return el('div', { class: 'row hdr', id, 'data-path': '/SyncHdr', title: [h.source && `Source ${h.source}`, h.target && `Target ${h.target}`, h.respURI && `RespURI ${h.respURI}`].filter(Boolean).join('\n') },
      el('span', { class: 'kind', text: 'SyncHdr' }), ' ', el('span', { class: 'muted', text: bits.join(' \u00b7 ') }));
  }

  function messageCard(m, prefix) {
    const http = m.http || {};
    const head = m.from === 'device'
      ? `${http.method || 'POST'} ${pathOf(http.url)}`
      : `HTTP ${http.status ?? '?'}${http.statusText ? ` ${http.statusText}` : ''}`;
    const card = el('div', { class: 'card', id: `${prefix}` },
      el('div', { class: 'card-title' }, `msg ${m.n}`, m.hdr && m.hdr.msgID !== undefined ? el('span', { class: 'muted', text: ` \u00b7 MsgID ${m.hdr.msgID}` }) : null, el('span', { class: 'muted', text: ` \u00b7 ${m.bytes} bytes` })));
    if (m.hdr) card.append(headerRowOf(m, `${prefix}-hdr`));
    m.commands.forEach((c, i) => card.append(commandRow(c, `${prefix}-c${i}`)));
    if (m.parseError) card.append(el('div', { class: 'row err', text: `not SyncML: ${m.parseError}` }));
    const headers = Object.entries(http.headers || {}).map(([k, v]) => `${k}: ${v}`).join('\n');
    const bodyText = m.decoded !== undefined ? `(WBXML, ${m.bytes} bytes, shown decoded to XML; the bytes follow)\n${m.decoded}\n\n${hexOf(m.body)}`
      : m.bodyEncoding === 'base64' ? `(not UTF-8, base64)\n${m.body}` : m.body;
    card.append(el('details', { class: 'body' }, el('summary', { text: `headers and body${m.truncated ? ' (cut)' : ''}` }), el('pre', { text: `${head}\n${headers}\n\n${bodyText || '(empty body)'}` })));
    return { card, head };
  }

  /** A base64 body as offset, hex and ASCII, 16 bytes a line. */
  function hexOf(base64) {
    let bytes;
    try {
      bytes = atob(base64);
    } catch (e) {
      return base64;
    }
    const lines = [];
    for (let at = 0; at < bytes.length; at += 16) {
      const row = bytes.slice(at, at + 16);
      const hex = [...row].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
      const text = [...row].map((c) => (c >= ' ' && c <= '~' ? c : '.')).join('');
      lines.push(`${at.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
    }
    return lines.join('\n');
  }

  function pathOf(url) {
    if (!url) return '';
    try {
      const u = new URL(url, 'https://x.invalid');
      return u.pathname + u.search;
    } catch (e) {
      return url;
    }
  }

  /** Status and Results rows point at the command they answer: the peer's message with that MsgID, the command with that CmdID (0: its SyncHdr). */
  function resolveReferences(root, messages, ids) {
    messages.forEach((m, i) => {
      m.commands.forEach((c, j) => {
        if (c.kind !== 'Status' && c.kind !== 'Results') return;
        const row = byId(root, `${ids[i]}-c${j}`);
        let target;
        for (let k = i - 1; k >= 0 && !target; k--) {
          const p = messages[k];
          if (p.from === m.from || !p.hdr || p.hdr.msgID !== c.msgRef) continue;
          if (c.cmdRef === '0') target = p.hdr ? `${ids[k]}-hdr` : undefined;
          else {
            const idx = p.commands.findIndex((x) => x.cmdID === c.cmdRef && x.kind !== 'Status');
            if (idx >= 0) target = `${ids[k]}-c${idx}`;
          }
          if (!target) break;
        }
        if (target) {
          row.dataset.refTarget = target;
          if (c.kind === 'Status' && /^[45]\d\d$/.test(c.code || '')) row.dataset.refError = 'true';
        } else {
          row.classList.add('unresolved');
          row.title = `${row.title}\nMsgRef ${c.msgRef} / CmdRef ${c.cmdRef} names no command the peer sent earlier in this session`;
        }
      });
    });
  }

  /** The element of a mark: the SyncHdr row, the deepest command row whose path starts the mark's path, or the whole card. */
  function applyMarks(root, session, messages, ids, marks) {
    for (const mark of marks) {
      if (mark.session !== null && mark.session !== session.index) continue;
      const i = messages.findIndex((m) => m.n === mark.n && m.from === mark.from);
      if (i < 0) continue;
      const card = byId(root, ids[i]);
      const cls = mark.verdict === 'fail' ? 'bad' : 'warned';
      let target = null;
      if (mark.path && mark.path.startsWith('/SyncHdr')) target = byId(root, `${ids[i]}-hdr`);
      else if (mark.path) {
        let best = -1;
        messages[i].commands.forEach((c, j) => {
          if ((mark.path === c.path || mark.path.startsWith(`${c.path}/`)) && (best < 0 || c.path.length > messages[i].commands[best].path.length)) best = j;
        });
        if (best >= 0) target = byId(root, `${ids[i]}-c${best}`);
      }
      (target || card).classList.add(cls);
      card.classList.add(cls);
      const note = `${mark.verdict === 'fail' ? '\u2717' : '!'} ${mark.id}: ${mark.evidence}`;
      if (![...card.querySelectorAll('.mark-note')].some((n) => n.textContent === note)) {
        card.insertBefore(el('div', { class: `mark-note${mark.verdict === 'fail' ? '' : ' warn'}`, text: note }), card.querySelector('details.body'));
      }
    }
  }

  function sessionDiagram(t, ti, session, count) {
    const body = el('div', { class: 'seq-body' });
    body.append(svg('svg', { class: 'refs', 'aria-hidden': 'true' }));
    const ids = [];
    const failures = new Map((session.failures || []).map((f) => [f.n, f.text]));
    session.messages.forEach((m) => {
      const id = `t${ti}-s${session.index}-m${m.n}`;
      ids.push(id);
      const { card, head } = messageCard(m, id);
      const wire = el('div', { class: 'wire' }, el('span', { class: 'arrow', text: m.from === 'device' ? '\u2192' : '\u2190' }), el('span', { text: head }));
      body.append(el('div', { class: `seq-row from-${m.from}` }, card, wire));
      if (m.from === 'device' && failures.has(m.n)) {
        body.append(el('div', { class: 'seq-row failure' }, el('div', { class: 'wire' }, el('span', { class: 'arrow', text: '\u2715' }), el('span', { text: `no reply: ${failures.get(m.n)}` }))));
      }
    });
    const tls = session.tls;
    const title = `session ${session.index + 1}${count > 1 ? ` of ${count}` : ''}: ${plural(session.messages.length, 'message')}${tls ? `, TLS ${tls.protocol || ''}${tls.authorized ? '' : ` (peer not authorized: ${tls.authorizationError || 'unknown'})`}` : ''}`;
    const seq = el('div', { class: 'seq', 'data-session': String(session.index) },
      el('div', { class: 'seq-title', text: title }),
      el('div', { class: 'seq-head' }, el('div', { class: 'lane-device', text: laneNames.device }), el('div', { class: 'lane-server', text: laneNames.server })),
      body);
    return { seq, body, ids };
  }

  const observed = [];

  /** Curves from each Status/Results row to what it answers, drawn once the diagram is laid out (and again on resize). */
  function drawReferences(body) {
    const layer = body.querySelector('svg.refs');
    const box = body.getBoundingClientRect();
    layer.replaceChildren();
    if (!box.width || !box.height) return;
    layer.setAttribute('width', String(box.width));
    layer.setAttribute('height', String(box.height));
    layer.setAttribute('viewBox', `0 0 ${box.width} ${box.height}`);
    const defs = svg('defs');
    for (const [id, color] of [['ref-head', '#3b6fb6'], ['ref-head-bad', '#b3261e'], ['ref-head-error', '#9a4d00']]) {
      const marker = svg('marker', { id: `${id}-${body.dataset.key}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
      marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', style: `fill: ${color}; stroke: none` }));
      defs.append(marker);
    }
    layer.append(defs);
    for (const row of body.querySelectorAll('.row[data-ref-target]')) {
      const target = document.getElementById(row.dataset.refTarget);
      if (!target) continue;
      const a = row.getBoundingClientRect();
      const b = target.getBoundingClientRect();
      const fromServer = !!row.closest('.from-server');
      const x1 = (fromServer ? a.left : a.right) - box.left;
      const y1 = a.top + a.height / 2 - box.top;
      const x2 = (fromServer ? b.right : b.left) - box.left;
      const y2 = b.top + b.height / 2 - box.top;
      const bend = Math.max(30, Math.abs(x1 - x2) / 2);
      const c1 = fromServer ? x1 - bend : x1 + bend;
      const c2 = fromServer ? x2 + bend : x2 - bend;
      const bad = row.classList.contains('bad') || target.classList.contains('bad');
      const cls = bad ? 'bad' : row.dataset.refError ? 'error' : '';
      const path = svg('path', { d: `M ${x1} ${y1} C ${c1} ${y1}, ${c2} ${y2}, ${x2} ${y2}`, 'marker-end': `url(#ref-head${cls ? `-${cls}` : ''}-${body.dataset.key})`, 'data-from': row.id, 'data-to': target.id });
      if (cls) path.setAttribute('class', cls);
      layer.append(path);
    }
  }

  function testSection(t, ti) {
    const failing = t.findings.filter((f) => f.graded === 'fail');
    const warned = t.findings.filter((f) => f.graded === 'warn');
    const open = t.status !== 'passed' && t.status !== 'skipped';
    const details = el('details', { class: 'test', id: `test-${ti}`, 'data-status': t.status, open },
      el('summary', {}, badge(t.status, t.status), ' ', el('span', { class: 'muted', text: `${phaseTitle.get(t.phase) || t.phase || ''} \u00b7 ` }), t.title,
        el('span', { class: 'muted', text: ` \u00b7 ${plural(t.sessions.length, 'session')} \u00b7 ${ms(t.durationMs)}` })));
    const inner = el('div', { class: 'test-body' });
    details.append(inner);
    if (t.requirements.length) inner.append(el('div', { class: 'chips' }, el('span', { class: 'muted', text: 'judges' }), t.requirements.map((id) => el('a', { class: 'chip', href: `#req-${id}`, text: id }))));
    if (t.error && !failing.length) inner.append(el('pre', { class: 'row err', text: t.error }));
    if (failing.length || warned.length) {
      inner.append(el('ul', { class: 'findings' },
        failing.map((f) => el('li', { class: 'fail' }, el('a', { href: `#req-${f.id}`, text: f.id }), `: ${f.evidence}`)),
        warned.map((f) => el('li', { class: 'warn' }, el('a', { href: `#req-${f.id}`, text: f.id }), ` (warning): ${f.evidence}`))));
    }
    if (t.repro) inner.append(el('p', {}, 'Replay with curl: ', el('a', { href: t.repro, text: t.repro })));
    if (t.notes.length) inner.append(el('details', {}, el('summary', { class: 'muted', text: plural(t.notes.length, 'note') }), el('ul', {}, t.notes.map((n) => el('li', { text: n })))));
    t.sessions.forEach((s) => {
      const { seq, body, ids } = sessionDiagram(t, ti, s, t.sessions.length);
      body.dataset.key = `t${ti}s${s.index}`;
      inner.append(seq);
      resolveReferences(seq, s.messages, ids);
      applyMarks(seq, s, s.messages, ids, t.marks || []);
      observed.push(body);
    });
    if (!t.sessions.length) inner.append(el('p', { class: 'muted', text: 'This test recorded no HTTP exchange.' }));
    return details;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Coverage

  function coverageSection() {
    const cov = report.coverage;
    const levels = data.coverage.levels.filter((l) => cov.byLevel[l] && cov.byLevel[l].rows);
    const line = (c) => [c.rows, c.judged, c.notApplicable, c.notJudged, c.outOfScope];
    const table = el('table', { class: 'coverage', id: 'coverage-table' },
      el('thead', {}, el('tr', {}, ['level', 'rows', 'judged', 'not applicable', 'not judged', 'out of scope'].map((h) => el('th', { text: h })))),
      el('tbody', {},
        levels.map((l) => el('tr', { 'data-level': l }, el('td', { text: l }), line(cov.byLevel[l]).map((n, i) => el('td', { class: i === 1 && n === cov.byLevel[l].rows ? 'full' : '', text: String(n) })))),
        el('tr', { 'data-level': 'all' }, el('td', { text: 'all' }), line(cov).map((n, i) => el('td', { 'data-judged': i === 1 ? String(n) : undefined, text: String(n) })))));
    const notJudged = report.requirements.filter((r) => r.verdict === 'inconclusive');
    return [
      el('h2', { id: 'coverage', text: 'Coverage' }),
      el('p', {}, judgedTraffic
        ? `This run judged ${cov.judged} of the ${cov.rows} catalogue rows on the ${trafficName} (each captured DM session is one test). A row is judged when a session showed its situation, whatever the verdict; every other row is listed below the requirement tables with the reason.`
        : `This run judged ${cov.judged} of the ${cov.rows} catalogue rows that bind the ${sideName} (role "${report.mode}" or "both"). A row is judged when a test of this run exercised it, whatever the verdict; every other row is listed below the requirement tables with the reason.`),
      table,
      notJudged.length
        ? el('details', {}, el('summary', { text: `${plural(notJudged.length, 'row')} not judged or out of scope` }),
          el('ul', { class: 'idlist' }, notJudged.map((r) => el('li', {}, el('a', { href: `#req-${r.id}`, text: r.id }), `: ${r.reason || ''}`))))
        : el('p', { text: judgedTraffic ? 'Every row was judged.' : `Every row binding the ${sideName} was judged.` }),
    ];
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Security advisories, the sources legend, and how each row is proven

  function advisoriesSection() {
    const advisories = report.advisories || [];
    if (!advisories.length) return null;
    return el('section', { id: 'advisories', class: 'advisories' },
      el('h2', { text: `Security advisories (${advisories.length})` }),
      el('p', { class: 'muted', text: 'Weaknesses the security probes found where the catalogue has no requirement. They never change a verdict or the exit code; each deserves a look.' }),
      el('table', {}, el('thead', {}, el('tr', {}, ['probe', 'evidence', 'test'].map((h) => el('th', { text: h })))),
        el('tbody', {}, advisories.map((a) => el('tr', { class: 'advisory', 'data-probe': a.probe },
          el('td', { class: 'id', text: a.probe }), el('td', {}, el('pre', { text: a.evidence })), el('td', {}, a.test ? testLink(a.test) : ''))))));
  }

  function sourcesLegend() {
    const sources = data.sources || [];
    if (!sources.length) return null;
    return el('section', { id: 'sources' },
      el('h2', { text: 'Sources' }),
      el('p', { class: 'muted', text: 'What the abbreviations of the section column stand for.' }),
      el('dl', { class: 'legend' }, sources.map((s) => {
        const url = safeUrl(s.url);
        return [el('dt', { text: s.key }), el('dd', {}, url ? el('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: s.title }) : s.title)];
      })));
  }

  function proofSection() {
    const proof = data.proof;
    if (!proof) return null;
    const cell = (list) => (list.length ? list.join(', ') : '');
    return el('section', { id: 'proof' },
      el('details', {}, el('summary', { text: 'How this harness judges each row, and the faulty peers that show each check failing' }),
        el('table', {}, el('thead', {}, el('tr', {}, ['id', 'judged by', 'shown failing by the fault(s)', 'out of scope because'].map((h) => el('th', { text: h })))),
          el('tbody', {}, proof.map((p) => el('tr', { 'data-proof': p.id },
            el('td', { class: 'id' }, el('a', { href: `#req-${p.id}`, text: p.id })),
            el('td', { text: cell(p.judgedBy) || 'nothing in this harness yet' }),
            el('td', { text: cell(p.provenBy) }),
            el('td', { text: p.outOfScope || '' })))))));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Page

  const counts = countsOf(report.requirements);
  append(app, [
    header(),
    banner(),
    advisoriesSection(),
    coverageSection(),
    tiles(counts),
    expectationsBox(),
    requirementsSection(counts),
    sourcesLegend(),
    proofSection(),
    el('h2', { id: 'tests', text: `Tests (${tests.length})` }),
    tests.length ? null : el('p', { class: 'muted', text: 'No per-test data was found beside the report (conformance-tests.json).' }),
    tests.map(testSection),
    el('p', { class: 'muted', text: `Generated ${data.generatedAt} from conformance-report.json and conformance-tests.json.` }),
  ]);
  setFilter(currentFilter);

  // Diagrams are laid out only when visible: draw on every size change, including a closed test being opened.
  const observer = new ResizeObserver((entries) => {
    for (const e of entries) drawReferences(e.target);
  });
  for (const body of observed) observer.observe(body);

  // A link to a test inside a closed <details> opens it.
  document.addEventListener('click', (ev) => {
    const a = ev.target instanceof Element ? ev.target.closest('a[href^="#test-"]') : null;
    if (!a) return;
    const d = document.getElementById(a.getAttribute('href').slice(1));
    if (d && d.tagName === 'DETAILS') d.open = true;
  });
  document.body.dataset.ready = 'true';
})();
