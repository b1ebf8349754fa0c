/**
 * The dashboard's page (a stub: the page helper's src/apps/dashboard/page.ts replaces this file).
 * It loads the state from /api/snapshot and shows it as text; the real page draws it.
 */
export const PAGE_HTML: string = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dmaheap dashboard</title></head>
<body><h1>dmaheap dashboard</h1><pre id="state">loading…</pre>
<script>
const token = new URLSearchParams(location.search).get('token');
const q = token === null ? '' : '?token=' + encodeURIComponent(token);
fetch('/api/snapshot' + q).then((r) => r.json()).then((s) => { document.getElementById('state').textContent = JSON.stringify(s, null, 2); });
</script></body></html>
`;
