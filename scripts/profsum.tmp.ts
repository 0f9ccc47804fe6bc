import { readFileSync, readdirSync } from 'node:fs';
const dir = '/tmp/prof';
const f = readdirSync(dir).find((x) => x.endsWith('.cpuprofile'))!;
const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const self = new Map<number, number>();
const dt = p.timeDeltas; for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt[i]);
const parent = new Map<number, number>(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const key = (n: any) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
const selfBy = new Map<string, number>(); const totalBy = new Map<string, number>();
let total = 0;
for (const [id, t] of self) { total += t; const n = byId.get(id); selfBy.set(key(n), (selfBy.get(key(n)) ?? 0) + t);
  const seen = new Set<string>(); let cur: number | undefined = id; while (cur !== undefined) { const k = key(byId.get(cur)); if (!seen.has(k)) { seen.add(k); totalBy.set(k, (totalBy.get(k) ?? 0) + t); } cur = parent.get(cur); } }
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)}% ${k}`).join('\n');
console.log('SELF\n' + top(selfBy, Number(process.argv[2] ?? 40)));
console.log('TOTAL\n' + top(totalBy, Number(process.argv[3] ?? 60)));
