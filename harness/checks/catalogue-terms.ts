/**
 * The catalogue's vocabulary (section 0): roles, levels, bases and phases. One list each, read by the registry when
 * it loads and by the generator when it parses the catalogue, without loading the generated registry itself.
 */
export const ROLES = ['client', 'server', 'both'] as const;
export const LEVELS = ['MUST', 'MUST NOT', 'SHOULD', 'SHOULD NOT', 'MAY'] as const;
/** N normative text, W Windows documentation or product-behaviour note, O observed in captured traffic only. */
export const BASES = ['N', 'W', 'O'] as const;
export const PHASES = ['setup', 'get-result', 'management-multi-round', 'termination', 'auth', 'large-object', 'robustness'] as const;

export type Role = (typeof ROLES)[number];
export type Level = (typeof LEVELS)[number];
export type Basis = (typeof BASES)[number];
export type Phase = (typeof PHASES)[number];
