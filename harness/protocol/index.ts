export { MessageAssembler, type HeaderInit } from './assembler';
export { DeviceSession, type CommandExecutor, type DeviceCredentials, type DeviceSessionOptions, type SessionEnd } from './device-session';
export {
  ServerSession, CONFORMING_SERVER, type CommandQueue, type SentCommand, type ServerBehaviour, type ServerCredentialCheck,
  type ServerEvent, type ServerSessionOptions,
} from './server-session';
export { credentialFor, type CredScheme } from './credentials';
export { ChunkAssembly, byteLength, prefixWithin } from './large-object';
