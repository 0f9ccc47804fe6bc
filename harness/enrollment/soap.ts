/**
 * SOAP 1.2 envelopes with WS-Addressing headers, as MS-MDE2 exchanges them (MS-MDE2 2.2.x message syntax, the
 * examples of 4.x), and SOAP faults (MS-MDE2 2.2.10: a code such as `s:Receiver`, a subcode such as
 * `s:Authentication` or `a:InternalServiceFault`, and a reason text).
 *
 * Reading is lenient where real services differ: a SOAP 1.1 envelope (the Windows examples of the enrollment
 * response use one) and a SOAP 1.1 fault (`faultcode`/`faultstring`, as WCF services send) are understood too.
 */
import { escapeAttr, escapeText, type XmlElement } from '../syncml/xml';
import { child, parseEnrollmentXml, trimmedText } from './dom';
import { ANONYMOUS_REPLY_TO, NS } from './names';

const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const ENVELOPE_NS = [NS.soap, SOAP11] as const;

export interface EnvelopeHeaders {
  action: string;
  /** `urn:uuid:…` of a request. */
  messageId?: string;
  /** The MessageID a response answers. */
  relatesTo?: string;
  /** The endpoint a request is sent to. */
  to?: string;
  /** A whole `<wsse:Security>` element, already serialized. */
  security?: string;
}

export interface SoapFault {
  /** `s:Receiver` or `s:Sender`, as written. */
  code: string;
  /** `s:Authentication`, `a:InternalServiceFault`, …, as written. */
  subcode?: string;
  reason: string;
}

export interface ParsedEnvelope {
  root: XmlElement;
  header?: XmlElement;
  body?: XmlElement;
  /** The first element of the Body. */
  payload?: XmlElement;
  action?: string;
  messageId?: string;
  relatesTo?: string;
  fault?: SoapFault;
}

/** The prefixes every envelope of the harness declares on its root, as Windows does. */
const ROOT_NAMESPACES =
  `xmlns:s="${NS.soap}" xmlns:a="${NS.addressing}" xmlns:u="${NS.wsu}" xmlns:wsse="${NS.wsse}" ` +
  `xmlns:wst="${NS.wst}" xmlns:ac="${NS.ac}"`;

export function soapEnvelope(headers: EnvelopeHeaders, body: string, bodyAttrs = ''): string {
  const parts = [`<a:Action s:mustUnderstand="1">${escapeText(headers.action)}</a:Action>`];
  if (headers.messageId) {
    parts.push(`<a:MessageID>${escapeText(headers.messageId)}</a:MessageID>`);
    parts.push(`<a:ReplyTo><a:Address>${ANONYMOUS_REPLY_TO}</a:Address></a:ReplyTo>`);
  }
  if (headers.relatesTo) parts.push(`<a:RelatesTo>${escapeText(headers.relatesTo)}</a:RelatesTo>`);
  if (headers.to) parts.push(`<a:To s:mustUnderstand="1">${escapeText(headers.to)}</a:To>`);
  if (headers.security) parts.push(headers.security);
  return `<?xml version="1.0" encoding="utf-8"?><s:Envelope ${ROOT_NAMESPACES}><s:Header>${parts.join('')}</s:Header>` +
    `<s:Body${bodyAttrs}>${body}</s:Body></s:Envelope>`;
}

/** A fault envelope (MS-MDE2 2.2.10). */
export function soapFaultEnvelope(fault: SoapFault, action: string, relatesTo?: string): string {
  const subcode = fault.subcode ? `<s:Subcode><s:Value>${escapeText(fault.subcode)}</s:Value></s:Subcode>` : '';
  // A subcode in the WCF dispatcher namespace (a:InternalServiceFault, a:InvalidSecurity) needs its prefix bound there.
  const dispatcher = fault.subcode?.startsWith('a:') ? ` xmlns:a="${NS.wcfDispatcher}"` : '';
  const body = `<s:Fault><s:Code${dispatcher}><s:Value>${escapeText(fault.code)}</s:Value>${subcode}</s:Code>` +
    `<s:Reason><s:Text xml:lang="en-US">${escapeText(fault.reason)}</s:Text></s:Reason></s:Fault>`;
  return soapEnvelope({ action, relatesTo }, body);
}

/** One line for a fault: `SOAP fault s:Receiver/s:Authentication: reason`. */
export function describeFault(fault: SoapFault): string {
  return `SOAP fault ${fault.code}${fault.subcode ? `/${fault.subcode}` : ''}: ${fault.reason || '(no reason given)'}`;
}

export function parseEnvelope(input: Uint8Array | string): ParsedEnvelope | { error: string } {
  const parsed = parseEnrollmentXml(input);
  if ('error' in parsed) return { error: `not XML: ${parsed.error}` };
  const root = parsed.root;
  if (!ENVELOPE_NS.includes(root.ns as (typeof ENVELOPE_NS)[number]) || !root.name.endsWith('Envelope')) {
    return { error: `not a SOAP envelope: the root element is <${root.name}>` };
  }
  const header = child(root, ENVELOPE_NS, 'Header');
  const body = child(root, ENVELOPE_NS, 'Body');
  const payload = body?.children.find((c): c is XmlElement => c.type === 'element');
  const out: ParsedEnvelope = { root, header, body, payload };
  out.action = trimmedText(child(header, NS.addressing, 'Action') ?? headerByLocalName(header, 'Action'));
  out.messageId = trimmedText(child(header, NS.addressing, 'MessageID'));
  out.relatesTo = trimmedText(child(header, NS.addressing, 'RelatesTo'));
  if (payload && ENVELOPE_NS.includes(payload.ns as (typeof ENVELOPE_NS)[number]) && payload.name.endsWith('Fault')) out.fault = readFault(payload);
  return out;
}

/** Some services write `<Action>` without a namespace (the Windows enrollment response example does). */
function headerByLocalName(header: XmlElement | undefined, local: string): XmlElement | undefined {
  return header?.children.find((c): c is XmlElement => c.type === 'element' && (c.name === local || c.name.endsWith(`:${local}`)));
}

function readFault(fault: XmlElement): SoapFault {
  const code = child(fault, ENVELOPE_NS, 'Code');
  if (code) {
    const subcode = child(code, ENVELOPE_NS, 'Subcode');
    const reason = child(child(fault, ENVELOPE_NS, 'Reason'), ENVELOPE_NS, 'Text');
    return {
      code: trimmedText(child(code, ENVELOPE_NS, 'Value')) ?? '',
      subcode: trimmedText(child(subcode, ENVELOPE_NS, 'Value')),
      reason: trimmedText(reason) ?? '',
    };
  }
  // SOAP 1.1: faultcode and faultstring are unqualified.
  return { code: trimmedText(child(fault, '', 'faultcode')) ?? '', reason: trimmedText(child(fault, '', 'faultstring')) ?? '' };
}

/** `<name attr="…">` helpers for the message builders. */
export function element(name: string, text: string, attrs: Record<string, string> = {}): string {
  const rendered = Object.entries(attrs).map(([k, v]) => ` ${k}="${escapeAttr(v)}"`).join('');
  return `<${name}${rendered}>${escapeText(text)}</${name}>`;
}
