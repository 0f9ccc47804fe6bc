/**
 * The enrollment exchange: the WS-Trust RequestSecurityToken of MS-WSTEP as MS-MDE2 3.4 profiles it (TokenType
 * DeviceEnrollmentToken, RequestType Issue, the PKCS#10 request in a BinarySecurityToken, the device facts in
 * ac:AdditionalContext ContextItems; MS-MDE2 3.4.4.1.1.1.x), and the RequestSecurityTokenResponseCollection whose
 * RequestedSecurityToken carries the base64 provisioning document (MS-MDE2 3.4.4.1.1.2).
 */
import { escapeAttr, escapeText } from '../syncml/xml';
import { attr, child, children, trimmedText } from './dom';
import type { EnrollmentAdvisory } from './errors';
import { ACTION, NS, TOKEN } from './names';
import { soapEnvelope, type ParsedEnvelope } from './soap';

/** One `ac:ContextItem`; a name may repeat (Windows sends one MAC item per network adapter). */
export type ContextItem = readonly [name: string, value: string];

export function requestSecurityTokenBody(csrBase64: string, context: readonly ContextItem[]): string {
  const items = context
    .map(([name, value]) => `<ac:ContextItem Name="${escapeAttr(name)}"><ac:Value>${escapeText(value)}</ac:Value></ac:ContextItem>`)
    .join('');
  return `<wst:RequestSecurityToken><wst:TokenType>${TOKEN.deviceEnrollment}</wst:TokenType>` +
    `<wst:RequestType>${TOKEN.issue}</wst:RequestType>` +
    `<wsse:BinarySecurityToken ValueType="${TOKEN.pkcs10}" EncodingType="${TOKEN.base64Encoding}">${csrBase64}</wsse:BinarySecurityToken>` +
    `<ac:AdditionalContext xmlns="${NS.ac}">${items}</ac:AdditionalContext></wst:RequestSecurityToken>`;
}

export interface ReadRequestSecurityToken {
  tokenType?: string;
  requestType?: string;
  csrValueType?: string;
  csrBase64?: string;
  context: ContextItem[];
}

export function readRequestSecurityToken(env: ParsedEnvelope): ReadRequestSecurityToken | undefined {
  const rst = env.payload;
  if (!rst || rst.ns !== NS.wst || !rst.name.endsWith('RequestSecurityToken')) return undefined;
  const bst = child(rst, NS.wsse, 'BinarySecurityToken');
  const context = children(child(rst, NS.ac, 'AdditionalContext'), NS.ac, 'ContextItem')
    .map((item): ContextItem => [attr(item, 'Name') ?? '', trimmedText(child(item, NS.ac, 'Value')) ?? '']);
  return {
    tokenType: trimmedText(child(rst, NS.wst, 'TokenType')),
    requestType: trimmedText(child(rst, NS.wst, 'RequestType')),
    csrValueType: attr(bst, 'ValueType'),
    csrBase64: trimmedText(bst),
    context,
  };
}

/** The value of the first ContextItem with this name. */
export function contextValue(context: readonly ContextItem[], name: string): string | undefined {
  return context.find(([n]) => n === name)?.[1];
}

export function requestSecurityTokenResponse(provisioningXml: string, relatesTo: string | undefined, now: Date): string {
  const created = now.toISOString();
  const expires = new Date(now.getTime() + 5 * 60_000).toISOString();
  const security = `<wsse:Security s:mustUnderstand="1"><u:Timestamp u:Id="_0"><u:Created>${created}</u:Created>` +
    `<u:Expires>${expires}</u:Expires></u:Timestamp></wsse:Security>`;
  const body = `<RequestSecurityTokenResponseCollection xmlns="${NS.wst}"><RequestSecurityTokenResponse>` +
    `<TokenType>${TOKEN.deviceEnrollment}</TokenType><DispositionMessage xmlns="${NS.wstep}"/>` +
    `<RequestedSecurityToken><BinarySecurityToken ValueType="${TOKEN.provisionDoc}" EncodingType="${TOKEN.base64Encoding}" xmlns="${NS.wsse}">` +
    `${Buffer.from(provisioningXml, 'utf8').toString('base64')}</BinarySecurityToken></RequestedSecurityToken>` +
    `<RequestID xmlns="${NS.wstep}">0</RequestID></RequestSecurityTokenResponse></RequestSecurityTokenResponseCollection>`;
  return soapEnvelope({ action: ACTION.requestSecurityTokenResponse, relatesTo, security }, body);
}

/** The provisioning document of a response, with advisories for the MUSTs of MS-MDE2 3.4.4.1.1.2 it breaks. */
export function readRequestSecurityTokenResponse(env: ParsedEnvelope): { provisioningXml?: string; problem?: string; advisories: EnrollmentAdvisory[] } {
  const advisories: EnrollmentAdvisory[] = [];
  const collection = env.payload;
  if (!collection || collection.ns !== NS.wst || !collection.name.endsWith('RequestSecurityTokenResponseCollection')) {
    return { problem: `the answer is not a RequestSecurityTokenResponseCollection (Body holds <${collection?.name ?? 'nothing'}>)`, advisories };
  }
  const response = child(collection, NS.wst, 'RequestSecurityTokenResponse');
  if (!response) return { problem: 'RequestSecurityTokenResponseCollection holds no RequestSecurityTokenResponse', advisories };
  const tokenType = trimmedText(child(response, NS.wst, 'TokenType'));
  if (tokenType !== TOKEN.deviceEnrollment) {
    advisories.push({ probe: 'mde2-rstr-token-type', evidence: `TokenType is ${tokenType === undefined ? 'missing' : `"${tokenType}"`}, not ${TOKEN.deviceEnrollment}`, section: 'MS-MDE2 3.4.4.1.1.2' });
  }
  const bst = child(child(response, NS.wst, 'RequestedSecurityToken'), NS.wsse, 'BinarySecurityToken');
  if (!bst) return { problem: 'RequestSecurityTokenResponse has no RequestedSecurityToken/BinarySecurityToken with the provisioning document', advisories };
  const valueType = attr(bst, 'ValueType');
  if (valueType !== TOKEN.provisionDoc) {
    advisories.push({ probe: 'mde2-rstr-value-type', evidence: `BinarySecurityToken ValueType is ${valueType === undefined ? 'missing' : `"${valueType}"`}, not ${TOKEN.provisionDoc}`, section: 'MS-MDE2 3.4.4.1.1.2' });
  }
  const text = (trimmedText(bst) ?? '').replace(/\s+/g, '');
  if (!text || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return { problem: 'the BinarySecurityToken of the response is empty or not base64', advisories };
  return { provisioningXml: Buffer.from(text, 'base64').toString('utf8'), advisories };
}
