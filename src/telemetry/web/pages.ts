/**
 * The pages' HTML and CSS (served from the package; no CDN). No inline script or style: the
 * Content-Security-Policy forbids both, so behaviour lives in /app/*.js and looks in
 * /app/style.css. Dynamic text is set with textContent by the browser code, never as HTML.
 */

const head = (title: string, script: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="icon" href="/app/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app/style.css">
<script type="module" src="/app/${script}"></script>
</head>
`;

export function devicePage(): string {
  return `${head('edgereward · device', 'device.js')}<body>
<header><span class="brand">edgereward</span><h1 id="title">device</h1><span id="conn" class="pill wait">connecting</span><span id="modelpill" class="pill model"></span></header>
<main class="device">
  <section class="card viewcard">
    <div class="cardhead"><h2>Perception and decision</h2><span id="decision" class="muted"></span></div>
    <canvas id="view" width="640" height="640" aria-label="top-down view: lidar, goal, candidate actions"></canvas>
    <div class="legend"><span>reward</span><span id="rmin" class="muted"></span><canvas id="colorbar" width="160" height="10"></canvas><span id="rmax" class="muted"></span><span class="key chosen">chosen</span><span class="key goal">goal</span><span class="key lidar">lidar</span></div>
    <div id="fallback" class="banner hidden"></div>
  </section>
  <aside>
    <section class="card"><h2>Decision loop</h2><dl id="loop" class="grid"></dl>
      <div class="sparkhead"><span>latency, last minute</span><span class="key p50">p50</span><span class="key p99">p99</span><span class="key deadline">deadline</span><span id="sparkmax" class="muted"></span></div>
      <canvas id="spark" width="380" height="90" aria-label="decision latency p50 and p99 over the last minute"></canvas></section>
    <section class="card"><h2>Model</h2><div id="model"><p class="muted">waiting</p></div></section>
    <section class="card"><h2>Streams</h2><table id="streams"><thead><tr><th>stream</th><th>rate</th><th>age</th><th>invalid</th></tr></thead><tbody></tbody></table></section>
    <section class="card"><h2>Events</h2><ol id="events" class="events"><li class="muted">none yet</li></ol></section>
  </aside>
</main>
<footer id="footer" class="muted"></footer>
</body>
</html>
`;
}

export function fleetPage(): string {
  return `${head('edgereward · fleet', 'fleet.js')}<body>
<header><span class="brand">edgereward</span><h1 id="title">fleet</h1><span id="conn" class="pill wait">connecting</span><span id="summary" class="pill model"></span></header>
<main class="fleet">
  <section class="card"><h2>Devices</h2><table id="devices"><thead><tr><th>device</th><th>online</th><th>model</th><th>last event</th><th>age</th><th>decision p99</th></tr></thead><tbody><tr><td colspan="6" class="muted">waiting for devices</td></tr></tbody></table></section>
  <section class="card"><h2>Rollouts</h2><div id="rollouts"><p class="muted">no model announced to this fleet</p></div></section>
</main>
<footer id="footer" class="muted"></footer>
</body>
</html>
`;
}

export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#12161c"/><circle cx="16" cy="19" r="5" fill="#4fc3f7"/><path d="M16 14 L10 5 M16 14 L16 4 M16 14 L22 5" stroke="#ffd54f" stroke-width="2.5" fill="none" stroke-linecap="round"/></svg>
`;

export const STYLE_CSS = `:root { --bg:#0e1116; --card:#161b22; --line:#2a313c; --fg:#e6edf3; --muted:#8b949e; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#4fc3f7; --gold:#ffd54f; }
* { box-sizing: border-box; }
html, body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; align-items: center; gap: 12px; padding: 10px 18px; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
.brand { color: var(--accent); font-weight: 700; letter-spacing: .02em; }
.pill { border-radius: 999px; padding: 2px 10px; font-size: 12px; border: 1px solid var(--line); }
.pill.ok { color: var(--ok); border-color: var(--ok); }
.pill.wait { color: var(--warn); border-color: var(--warn); }
.pill.bad { color: var(--bad); border-color: var(--bad); }
.pill.model { color: var(--gold); border-color: #5a4a12; font-family: ui-monospace, monospace; }
main.device { display: grid; grid-template-columns: minmax(360px, 660px) minmax(320px, 1fr); gap: 14px; padding: 14px 18px; align-items: start; }
main.fleet { display: grid; gap: 14px; padding: 14px 18px; }
aside { display: grid; gap: 14px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; position: relative; }
.card h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 8px; font-weight: 600; }
.cardhead { display: flex; justify-content: space-between; align-items: baseline; gap: 8px; }
.viewcard canvas#view { width: 100%; height: auto; display: block; background: #0a0d12; border-radius: 6px; }
.legend, .sparkhead { display: flex; align-items: center; gap: 8px; font-size: 12px; margin-top: 8px; flex-wrap: wrap; }
.key::before { content: ""; display: inline-block; width: 14px; height: 3px; margin-right: 4px; vertical-align: middle; background: var(--muted); }
.key.chosen::before { background: #ffffff; height: 4px; }
.key.goal::before { background: var(--ok); height: 8px; width: 8px; border-radius: 50%; }
.key.lidar::before { background: #ff7043; }
.key.p50::before { background: var(--accent); }
.key.p99::before { background: var(--gold); }
.key.deadline::before { background: var(--bad); height: 1px; }
.banner { position: absolute; left: 24px; right: 24px; top: 52px; padding: 8px 12px; border-radius: 6px; background: rgba(248,81,73,.15); border: 1px solid var(--bad); color: #ffb4ae; font-weight: 600; }
.hidden { display: none; }
.muted { color: var(--muted); }
dl.grid { display: grid; grid-template-columns: repeat(3, 1fr); gap: 6px 12px; margin: 0 0 6px; }
dl.grid div { min-width: 0; }
dl.grid dt { font-size: 11px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
dl.grid dd { margin: 0; font-size: 17px; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
dd.bad { color: var(--bad); }
#spark { width: 100%; height: 90px; display: block; background: #0a0d12; border-radius: 4px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; font-size: 11px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; border-bottom: 1px solid var(--line); padding: 4px 6px; }
td { padding: 4px 6px; border-bottom: 1px solid #1f252e; }
td.bad { color: var(--bad); } td.ok { color: var(--ok); } td.warn { color: var(--warn); }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
.prov { margin: 6px 0 0; display: grid; grid-template-columns: max-content 1fr; gap: 2px 10px; font-size: 12px; }
.prov dt { color: var(--muted); } .prov dd { margin: 0; word-break: break-word; }
details summary { cursor: pointer; font-size: 12px; margin-top: 6px; }
.events { list-style: none; margin: 0; padding: 0; max-height: 260px; overflow-y: auto; font-size: 12px; }
.events li { padding: 4px 0; border-bottom: 1px solid #1f252e; display: grid; grid-template-columns: 64px 92px 1fr; gap: 6px; }
.events li.muted { display: block; }
.ev { font-weight: 600; }
.ev.activated, .ev.confirmed, .ev.swap { color: var(--ok); }
.ev.rejected, .ev.rolled_back { color: var(--bad); }
.ev.canary { color: var(--gold); }
.ev.received, .ev.verified, .ev.stored, .ev.announced { color: var(--accent); }
.rollout { border-top: 1px solid var(--line); padding: 10px 0; }
.rollout:first-child { border-top: 0; padding-top: 0; }
.rollout h3 { margin: 0 0 4px; font-size: 15px; font-family: ui-monospace, monospace; }
.stages { display: grid; grid-template-columns: repeat(6, minmax(90px, 1fr)); gap: 8px; margin-top: 8px; }
.stage { background: #0a0d12; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
.stage b { display: block; font-size: 20px; font-variant-numeric: tabular-nums; }
.stage span { font-size: 11px; color: var(--muted); text-transform: uppercase; }
.stage.rolled_back.nz b, .stage.rejected.nz b { color: var(--bad); }
.stage.rolled_back.nz .bar i, .stage.rejected.nz .bar i { background: var(--bad); }
.stage.activated b { color: var(--ok); }
.bar { height: 4px; background: var(--line); border-radius: 2px; margin-top: 4px; overflow: hidden; }
.bar i { display: block; height: 100%; background: var(--accent); width: 0; }
footer { padding: 6px 18px 14px; font-size: 12px; }
@media (max-width: 900px) { main.device { grid-template-columns: 1fr; } .stages { grid-template-columns: repeat(3, 1fr); } }
`;
