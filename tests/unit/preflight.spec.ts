import { expect, test } from '@playwright/test';
import { diagnose, type PreflightTarget } from '../../harness/iut/preflight';
import type { Exchange } from '../../harness/transport';

const target: PreflightTarget = { url: 'https://mdm.example.test/ManagementServer/MDM.svc', deviceId: 'DEV', serverCa: '', timeoutMs: 1_000 };
const tlsFailure = (message: string) => ({ index: 0, startedAt: 0, endedAt: 0, request: { headers: {}, body: Buffer.alloc(0) }, error: { kind: 'tls', message } }) as unknown as Exchange;

test('a server certificate the CA does not issue asks for --server-ca; an expired one or one for another host is the server\'s to fix (MDM-TRN-003)', () => {
  expect(diagnose(tlsFailure('server certificate not trusted: CN=x issued by CN=y does not chain to the configured CA (UNABLE_TO_GET_ISSUER_CERT_LOCALLY)'), target))
    .toMatch(/: pass --server-ca FILE with the CA of your server's certificate$/);
  expect(diagnose(tlsFailure('server certificate expired on 2020-01-01T00:00:00.000Z (CN=x issued by CN=y)'), target))
    .toBe('server certificate expired on 2020-01-01T00:00:00.000Z (CN=x issued by CN=y): a device cannot validate the certificate the server authenticates with (MDM-TRN-003); renew it, or issue it for the host of --url');
  expect(diagnose(tlsFailure('server certificate is not for mdm.example.test: it names DNS:other.test (CN=x issued by CN=y)'), target)).toContain('(MDM-TRN-003)');
});
