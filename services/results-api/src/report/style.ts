/** The report's and compare page's stylesheet (inline: the pages load nothing but images). */
export const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fafafa;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}h3{font-size:15px;margin:18px 0 6px}
.muted{color:#666}.warn{color:#b00020}
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #ddd;padding:4px 8px;text-align:right}
th{background:#f0f0f0}td.k,th.k{text-align:left}
.summary td:first-child{text-align:left;color:#555}
.verdict{font-size:16px;background:#fff;border:1px solid #ddd;border-left:6px solid #888;padding:10px 14px;margin:12px 0}
.verdict.shortcut-suspected{border-left-color:#b00020}.verdict.no-finding{border-left-color:#2e7d32}.verdict.inconclusive{border-left-color:#c77700}
.badge{display:inline-block;font-weight:700;text-transform:uppercase;letter-spacing:.03em;margin-right:8px}
.shortcut-suspected .badge{color:#b00020}.no-finding .badge{color:#2e7d32}.inconclusive .badge{color:#c77700}
.atlas{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}.atlas img{width:320px;height:320px;image-rendering:auto;border:1px solid #ddd;background:#eee}
.examples{display:flex;gap:8px;flex-wrap:wrap}.examples img{width:180px;height:180px;border:1px solid #ddd;background:#eee}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots svg{background:#fff;border:1px solid #ddd}
svg .t{font-size:13px;font-weight:600}svg .l{font-size:11px;fill:#444}svg .k{font-size:10px;fill:#666}
svg .ax{stroke:#999}svg .bar{fill:#4a78b5}svg .th{stroke:#b00020;stroke-dasharray:4 3}
svg .p{fill:#4a78b5;fill-opacity:.6}svg .pf{fill:#b00020}
.gallery{display:grid;grid-template-columns:repeat(auto-fill,minmax(220px,1fr));gap:12px}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;overflow-wrap:anywhere}
.card.flagged{border:2px solid #b00020}
.card img{width:100%;height:auto;min-height:80px;background:#eee;display:block}
.key{font-family:ui-monospace,monospace;font-size:12px;margin:6px 0 2px}
.tag{display:inline-block;background:#b00020;color:#fff;border-radius:3px;padding:0 5px;margin:2px 2px 0 0;font-size:12px}
.tag.o{background:#555}.tag.empty{background:#c77700}
.cams{list-style:none;margin:4px 0;padding:0}.cams li{margin:1px 0}
details{margin:8px 0}details summary{cursor:pointer;color:#4a78b5}details table{margin-top:6px}
.side{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px}
.pane{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px}
.legend{display:flex;gap:24px;align-items:center;margin:4px 0 12px}
.unseen-key{display:inline-flex;gap:6px;align-items:center;font-size:13px}
`;
