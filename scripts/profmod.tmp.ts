import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const self = new Map<number, number>();
const dt = p.timeDeltas; for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt[i]);
const parent = new Map<number, number>(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (n: any) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//,'nm/').replace('/work/main/','')}:${n.callFrame.lineNumber + 1}`;
const totalBy = new Map<string, number>(); const selfBy = new Map<string, number>();
let total = 0;
for (const [id, t] of self) { total += t; const k0 = key(byId.get(id)); selfBy.set(k0, (selfBy.get(k0) ?? 0) + t);
  const seen = new Set<string>(); let cur: number | undefined = id; while (cur !== undefined) { const k = key(byId.get(cur)); if (!seen.has(k)) { seen.add(k); totalBy.set(k, (totalBy.get(k) ?? 0) + t); } cur = parent.get(cur); } }
console.log('total ms', (total/1000).toFixed(0), 'wall', ((p.endTime - p.startTime)/1000).toFixed(0));
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(v/1000).toFixed(0).padStart(6)}ms ${k}`).join('\n');
console.log('SELF\n' + top(selfBy, Number(process.argv[3] ?? 15)));
console.log('TOTAL\n' + top(totalBy, Number(process.argv[4] ?? 40)));
