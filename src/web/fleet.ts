/** The fleet page: devices and rollouts, one `fleet` message a second over server-sent events. */
import { $, age, el, fmt, live, setConn } from './common.js';
import type { FleetMsg, RolloutStage } from './types.js';

const STAGES: RolloutStage[] = ['received', 'verified', 'canaried', 'activated', 'rolled_back', 'rejected'];

function show(m: FleetMsg): void {
  $('title').textContent = `fleet ${m.fleet}`;
  document.title = `edgereward · fleet ${m.fleet}`;
  const online = m.devices.filter((d) => d.online).length;
  $('summary').textContent = `${online}/${m.devices.length} online`;
  const tb = ($('devices') as HTMLTableElement).tBodies[0]!;
  tb.replaceChildren();
  if (m.devices.length === 0) {
    const tr = el('tr');
    const td = el('td', 'muted', `no device has reported on ${m.broker} yet`);
    td.colSpan = 6;
    tr.append(td);
    tb.append(tr);
  }
  for (const d of m.devices) {
    const tr = el('tr');
    tr.dataset['device'] = d.device;
    tr.append(
      el('td', 'mono', d.device),
      el('td', d.online === null ? 'warn' : d.online ? 'ok' : 'bad', d.online === null ? '?' : d.online ? 'online' : 'offline'),
      el('td', 'mono', d.model ?? '–'),
      el('td', undefined, d.lastEvent ?? '–'),
      el('td', 'muted', d.lastEventAt === null ? '–' : age(m.t - d.lastEventAt)),
      el('td', undefined, d.p99Ms === null ? '–' : `${fmt(d.p99Ms)} ms`),
    );
    tb.append(tr);
  }
  const box = $('rollouts');
  box.replaceChildren();
  if (m.rollouts.length === 0) box.append(el('p', 'muted', 'no model announced to this fleet'));
  for (const r of m.rollouts) {
    const div = el('div', 'rollout');
    div.append(el('h3', undefined, `${r.model}@${r.version}${r.kind === 'revoke' ? ' (revoked)' : ''}`));
    div.append(el('div', 'muted', `${r.selector} · ${r.targeted.length} targeted of ${m.devices.length} known · published ${age(m.t - r.t)} ago`));
    const grid = el('div', 'stages');
    for (const s of STAGES) {
      const c = el('div', `stage ${s}${r.counts[s] > 0 ? ' nz' : ''}`);
      c.append(el('b', undefined, String(r.counts[s])), el('span', undefined, s.replace('_', ' ')));
      const bar = el('div', 'bar');
      const fill = el('i');
      fill.style.width = `${r.targeted.length ? Math.round((100 * r.counts[s]) / r.targeted.length) : 0}%`;
      bar.append(fill);
      c.append(bar);
      grid.append(c);
    }
    div.append(grid);
    const per = Object.entries(r.stages).map(([d, s]) => `${d}: ${s ?? 'waiting'}`).join(' · ');
    if (per) div.append(el('p', 'muted', per));
    box.append(div);
  }
  $('footer').textContent = `broker ${m.broker} · updated ${new Date(m.t).toLocaleTimeString()}`;
  document.body.dataset['devices'] = String(m.devices.length);
}

live({ fleet: (m) => show(m as FleetMsg) }, setConn);
