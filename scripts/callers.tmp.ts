import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const target = process.argv[3]; const depth = Number(process.argv[4] ?? 6);
const byId = new Map<number, any>(p.nodes.map((n: any) => [n.id, n]));
const self = new Map<number, number>(); const dt = p.timeDeltas; for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt[i]);
const parent = new Map<number, number>(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const total = (id: number): number => (self.get(id) ?? 0) + (byId.get(id).children ?? []).reduce((a: number, c: number) => a + total(c), 0);
const key = (n: any) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*node_modules\//,'nm/').replace('/work/main/','')}:${n.callFrame.lineNumber + 1}`;
const paths = new Map<string, number>();
for (const n of p.nodes) if (n.callFrame.functionName === target) {
  // skip if an ancestor is also target
  let a = parent.get(n.id); let nested = false; while (a !== undefined) { if (byId.get(a).callFrame.functionName === target) { nested = true; break; } a = parent.get(a); }
  if (nested) continue;
  const chain: string[] = []; let c = parent.get(n.id); while (c !== undefined && chain.length < depth) { const k = key(byId.get(c)); if (!k.includes('node:internal') && !k.startsWith('(anon) :') && !k.includes('runMicrotasks')) chain.push(k.split(' ')[0] + ' ' + k.split(' ')[1].split('/').pop()); c = parent.get(c); }
  const k = chain.join(' < '); paths.set(k, (paths.get(k) ?? 0) + total(n.id));
}
for (const [k, v] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log((v/1000).toFixed(0).padStart(5), 'ms', k);
