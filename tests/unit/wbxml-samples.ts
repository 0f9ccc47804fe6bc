/**
 * The messages both WBXML specs run over: the catalogue 3.7 skeletons and the Windows package 1 from
 * fixtures/messages, chunked Results (a large object sent in two messages, MDM-LO), a DevDetail document carried in
 * CDATA and a status with the Windows `msft:originalerror` attribute.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { item, message, meta, results, serializeSyncML, status, type SyncML } from '../../harness/syncml';

const SAMPLES = join(__dirname, '../../fixtures/messages');

const CHUNK = 'A'.repeat(300);

function chunkedResults(last: boolean): SyncML {
  const chunk = item({ source: './Vendor/MSFT/HarnessCSP/Blob', data: last ? 'tail' : CHUNK, moreData: !last, format: 'chr', type: 'text/plain', size: last ? undefined : CHUNK.length + 4 });
  return message({
    sessionID: '4A', msgID: last ? 5 : 4, target: 'https://mdm.example.test/omadm/mdm', source: 'HARNESS-DEV-0001', final: last,
    commands: [
      status({ cmdID: 1, msgRef: last ? '4' : '3', cmdRef: '0', cmd: 'SyncHdr', code: 200 }),
      results({ cmdID: 2, msgRef: '3', cmdRef: '7', cmd: 'Get', items: [chunk] }),
    ],
  });
}

const DEV_DETAIL = '<MgmtTree><VerDTD>1.2</VerDTD><Node><NodeName>DevDetail</NodeName><Node><NodeName>SwV</NodeName><Value>10.0.26100</Value></Node></Node></MgmtTree>';

function devDetailInCdata(): SyncML {
  const m = message({
    sessionID: '1B', msgID: 2, target: 'https://mdm.example.test/omadm/mdm', source: 'HARNESS-DEV-0001', final: true,
    commands: [results({ cmdID: 2, msgRef: '1', cmdRef: '3', cmd: 'Get', items: [item({ source: './DevDetail', format: 'xml', type: 'text/plain' })] })],
  });
  const r = m.body.commands[0];
  if (r.kind === 'Results') r.items[0].data = { text: DEV_DETAIL, cdata: true };
  return m;
}

function windowsStatusWithOriginalError(): SyncML {
  const m = message({
    sessionID: '1', msgID: 2, target: 'https://mdm.example.test/omadm/mdm', source: 'HARNESS-DEV-0001', final: true,
    commands: [status({ cmdID: 1, msgRef: '1', cmdRef: '5', cmd: 'Replace', code: 405 })],
    meta: meta({ maxMsgSize: 524288 }),
  });
  m.body.attrs = { 'xmlns:msft': 'http://schemas.microsoft.com/MobileDevice/MDM' };
  const st = m.body.commands[0];
  if (st.kind === 'Status' && st.data) st.data.attrs = { 'msft:originalerror': '0x86000002' };
  return m;
}

/** Name -> XML text of each sample. */
export function wbxmlSamples(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(SAMPLES).filter((f) => f.endsWith('.xml'))) out.set(file, readFileSync(join(SAMPLES, file), 'utf8'));
  out.set('chunked-results-first', serializeSyncML(chunkedResults(false)));
  out.set('chunked-results-last', serializeSyncML(chunkedResults(true)));
  out.set('devdetail-in-cdata', serializeSyncML(devDetailInCdata()));
  out.set('msft-originalerror', serializeSyncML(windowsStatusWithOriginalError()));
  return out;
}
