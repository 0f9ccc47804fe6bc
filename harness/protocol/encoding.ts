/**
 * The two wire encodings of a DM message (MS-MDM 2.1; catalogue MDM-TRN-005): clear XML, the default, and WBXML.
 *
 * Both peers build each message as XML text first, so that faults which edit the serialized text (element order the
 * model cannot express) keep working, then turn that text into the body of the encoding in use: the WBXML form is
 * encoded from the very element tree the text parses to, so its element order is the text's.
 */
import { WBXML_MEDIA_TYPE, XML_MEDIA_TYPE, encodeWbxml, type SyncMLEncoding } from '../syncml';
import { parseXml } from '../syncml/xml';

export type { SyncMLEncoding } from '../syncml';

/** The DM media type of an encoding (the Content-Type a conforming peer sends with it). */
export function mediaTypeOf(encoding: SyncMLEncoding): string {
  return encoding === 'wbxml' ? WBXML_MEDIA_TYPE : XML_MEDIA_TYPE;
}

/**
 * The body that carries `xml` in `encoding`: the text itself, or its WBXML. Throws (XmlError) when WBXML is asked
 * for and the text is not a well-formed document, which the peers' own messages always are.
 */
export function encodeBody(xml: string, encoding: SyncMLEncoding): string | Uint8Array {
  return encoding === 'wbxml' ? encodeWbxml(parseXml(xml)) : xml;
}

/** `xml` or `wbxml`, from a command-line or configuration value; undefined for anything else. */
export function parseEncoding(value: string | undefined): SyncMLEncoding | undefined {
  return value === 'xml' || value === 'wbxml' ? value : undefined;
}
