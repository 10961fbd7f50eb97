/** Schemas: the notify component's settings and the routing file (ISPs, prefixes, makers, integrators). */
import { z } from 'zod';

export const Isp = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
    name: z.string().min(1),
    /** Japanese name used in ja letters; falls back to `name`. */
    nameJa: z.string().optional(),
    contact: z.string().min(1),
    asns: z.array(z.number().int().min(1).max(4294967295)).default([]),
    /** The ISP rents the CPE and can fix it itself: letters say so. */
    rentsDevices: z.boolean().default(false),
  })
  .strict();
export type Isp = z.infer<typeof Isp>;

export const RoutingFile = z
  .object({
    isps: z.array(Isp).min(1),
    /** Prefix to origin AS (a BGP table dump), or straight to an ISP id for leased blocks. */
    prefixes: z
      .array(
        z
          .object({
            prefix: z.string().min(1),
            asn: z.number().int().min(1).optional(),
            isp: z.string().optional(),
          })
          .strict()
          .refine((p) => p.asn !== undefined || p.isp !== undefined, 'a prefix needs asn or isp'),
      )
      .default([]),
    makers: z
      .array(
        z.object({ vendor: z.string().min(1), name: z.string().min(1), contact: z.string().min(1) }).strict(),
      )
      .default([]),
    /** Corporate users' system integrators, by the addresses they look after. */
    integrators: z
      .array(
        z.object({ prefix: z.string().min(1), name: z.string().min(1), contact: z.string().min(1) }).strict(),
      )
      .default([]),
  })
  .strict();
export type RoutingFile = z.infer<typeof RoutingFile>;

export const NotifyConfig = z
  .object({
    /** YAML or JSON routing file (see README). */
    routing: z.string().default(''),
    /** Who signs letters and answers questions. */
    sender: z.string().default('tsunagi survey team'),
    senderContact: z.string().default(''),
  })
  .prefault({});
export type NotifyConfig = z.infer<typeof NotifyConfig>;
