/**
 * A surveyed device as notify reads it. The survey's findings (src/survey/types.ts) fit it as they
 * are; notify names only what it reads, so it takes findings as input and depends on no room
 * upstream of it.
 */
export type FindingStatus = 'weak-credential' | 'vulnerable-firmware' | 'exposed';

export interface Finding {
  survey: string;
  time: string;
  ip: string;
  port: number;
  service: string;
  banner: string;
  vendor?: string | undefined;
  model?: string | undefined;
  firmware?: string | undefined;
  cpe?: string | undefined;
  deviceType?: string | undefined;
  /** Only that a login was accepted, and by which rule: never a password. */
  weakCredential: { rule: string } | null;
  cves: readonly { cve: string; severity: string }[];
  severity: string;
  status: FindingStatus;
}
