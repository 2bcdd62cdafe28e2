/**
 * The dashboard page's style sheet, inlined in the page and allowed by its hash in the
 * Content-Security-Policy. System fonts only: nothing is fetched.
 *
 * @internal
 */
export const PAGE_STYLE = `
:root {
  --bg: #f6f7f9; --panel: #ffffff; --text: #1d2330; --muted: #667085; --line: #e3e6ec;
  --pass: #1a7f37; --warn: #b25e00; --fail: #c62828; --info: #2f6fdd;
  --p50: #8aa4d6; --p95: #3d6fd1; --p99: #c2185b;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #12151b; --panel: #1b2029; --text: #e6e9ef; --muted: #98a2b3; --line: #2c3340;
    --pass: #4cc26b; --warn: #f0a63a; --fail: #ff6b6b; --info: #79a6ff;
    --p50: #6f86b3; --p95: #79a6ff; --p99: #ff6fa8;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { display: flex; align-items: baseline; gap: 16px; padding: 14px 20px; border-bottom: 1px solid var(--line); background: var(--panel); position: sticky; top: 0; z-index: 1; }
h1 { font-size: 18px; margin: 0; font-weight: 600; }
h2 { font-size: 14px; margin: 0 0 10px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
h2 small { text-transform: none; letter-spacing: 0; font-weight: 400; }
main { padding: 16px 20px 40px; display: grid; gap: 16px; }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; overflow-x: auto; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); align-items: start; }
.conn { font-size: 12px; padding: 2px 8px; border-radius: 10px; border: 1px solid var(--line); color: var(--muted); }
.conn[data-state="live"] { color: var(--pass); border-color: var(--pass); }
.conn[data-state="reconnecting"] { color: var(--warn); border-color: var(--warn); }
#updated { font-size: 12px; color: var(--muted); margin-left: auto; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 5px 6px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: middle; }
th:first-child, td:first-child { text-align: left; }
th { font-weight: 500; color: var(--muted); font-size: 12px; }
td.key { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; max-width: 340px; overflow: hidden; text-overflow: ellipsis; }
td.text { text-align: left; white-space: normal; color: var(--muted); min-width: 100px; max-width: 420px; overflow-wrap: anywhere; }
small.note { display: block; font-size: 11px; color: var(--muted); }
tr.idle td { opacity: .45; }
td.chart { padding: 2px 8px; width: 250px; }
svg.spark { display: block; width: 240px; height: 44px; }
svg.spark path { fill: none; stroke-width: 1.4; stroke-linejoin: round; }
svg.spark path.p50 { stroke: var(--p50); }
svg.spark path.p95 { stroke: var(--p95); }
svg.spark path.p99 { stroke: var(--p99); }
svg.spark line { stroke: var(--line); stroke-width: 1; }
svg.spark text { fill: var(--muted); font-size: 9px; }
.legend { font-size: 12px; color: var(--muted); margin: 8px 0 0; }
.legend b { font-weight: 600; }
.legend .p50 { color: var(--p50); } .legend .p95 { color: var(--p95); } .legend .p99 { color: var(--p99); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; text-transform: none; letter-spacing: 0; color: #fff; background: var(--muted); }
.badge[data-status="pass"], .badge[data-status="healthy"], .badge[data-status="closed"], .badge[data-status="info"] { background: var(--pass); }
.badge[data-status="warn"], .badge[data-status="degraded"], .badge[data-status="half-open"], .badge[data-status="warning"] { background: var(--warn); }
.badge[data-status="fail"], .badge[data-status="unhealthy"], .badge[data-status="open"], .badge[data-status="isolated"], .badge[data-status="critical"] { background: var(--fail); }
.badge[data-status="info"] { background: var(--info); }
.bad { color: var(--fail); font-weight: 600; }
dl { display: grid; grid-template-columns: auto 1fr; gap: 6px 16px; margin: 0; font-variant-numeric: tabular-nums; }
dt { color: var(--muted); }
dd { margin: 0; text-align: right; font-weight: 500; }
#alerts { border-color: var(--fail); }
#alerts ul { margin: 0; padding: 0; list-style: none; display: grid; gap: 6px; }
#alerts li { display: flex; gap: 10px; align-items: baseline; }
#alerts .since { color: var(--muted); font-size: 12px; margin-left: auto; }
`;
