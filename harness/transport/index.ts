/**
 * HTTPS transports for the reference peers, both recording every exchange in a transcript:
 *   HttpsClient  the reference device's side (undici), POSTing to a server under test
 *   HttpsServer  the reference server's side (node:https and node:http2), answering a client under test
 * Both speak HTTP/1.1 and, by ALPN, h2.
 */
export {
  Transcript,
  bodyToJSON,
  exchangeToJSON,
  httpMessageToJSON,
  type Exchange,
  type ExchangeError,
  type ExchangeErrorKind,
  type ExchangeJSON,
  type HttpMessage,
  type HttpMessageJSON,
  type HttpVersion,
  type PeerCertificateFacts,
  type TlsFacts,
  type TranscriptJSON,
} from './transcript';
export {
  HttpsClient,
  WINDOWS_DEVICE_HEADERS,
  type HeaderOverrides,
  type HttpsClientOptions,
  type OutgoingRequest,
  type PostOptions,
} from './client';
export {
  HttpsServer,
  assertLoopback,
  type HandlerResponse,
  type HttpsServerOptions,
  type IncomingRequest,
  type RequestHandler,
} from './server';
export { DEFAULT_MAX_BODY_BYTES } from './record';
export { endToEndHeaders, hopByHopNames, isPseudoHeader } from './headers';
