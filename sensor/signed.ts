/**
 * Adopting a signed policy or IoC list: verified with the Ed25519 key pinned at enrolment, and
 * never older than the one in force. Anything else is refused and the previous one stays.
 */
import type { z } from 'zod';
import { SignedDocumentError, verifyDocument } from '../src/sensor/protocol.ts';

export type Adoption<T> = { adopted: true; body: T } | { adopted: false; reason: string };

export function adoptSigned<S extends z.ZodType<{ version: number }>>(
  document: unknown,
  pinnedKeyPem: string,
  schema: S,
  currentVersion: number,
): Adoption<z.infer<S>> {
  let body: z.infer<S>;
  try {
    body = verifyDocument(document, pinnedKeyPem, schema);
  } catch (error) {
    if (error instanceof SignedDocumentError) return { adopted: false, reason: error.message };
    return { adopted: false, reason: `unreadable: ${(error as Error).message}` };
  }
  if (body.version < currentVersion) {
    return { adopted: false, reason: `version ${body.version} is older than ${currentVersion} in force` };
  }
  return { adopted: true, body };
}
