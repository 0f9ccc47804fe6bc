/**
 * The judging reverse proxy's core: a device → proxy → server relay that changes no byte of a body and records both
 * legs of every exchange (see reverse-proxy.ts); grouping into DM sessions and judging are done by its caller.
 */
export { ReverseProxy, type ProxyExchange, type ProxyOptions } from './reverse-proxy';
export { deviceReply, failureReply, unrelayable, upstreamRequest } from './forward';
