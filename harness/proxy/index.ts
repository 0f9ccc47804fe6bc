/**
 * The judging reverse proxy: a device → proxy → server relay that changes no byte of a body and records both legs of
 * every exchange (reverse-proxy.ts), and the grouping of those exchanges into DM sessions judged as each ends
 * (sessions.ts).
 */
export { ReverseProxy, type ProxyExchange, type ProxyOptions } from './reverse-proxy';
export { deviceReply, failureReply, unrelayable, upstreamRequest } from './forward';
export { capturedExchange, ProxySessions, PROXY_SOURCE, type ProxySessionsOptions } from './sessions';
