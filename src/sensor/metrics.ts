/** The sensor room's own metrics, registered on the registry the caller passes in. */
import { Counter, type Registry } from 'prom-client';

export interface SensorMetrics {
  enrolments: Counter<'outcome'>;
  batches: Counter<never>;
  events: Counter<'type'>;
  /** Every refused request, by route and reason (auth, size, rate, chain, schema...). */
  rejections: Counter<'route' | 'reason'>;
  sightings: Counter<never>;
  /** Listed domains looked up by the centre's resolver, by outcome (addresses, no-address, failed). */
  resolutions: Counter<'outcome'>;
}

export function createSensorMetrics(registry: Registry): SensorMetrics {
  return {
    enrolments: new Counter({
      name: 'tsunagi_sensor_enrolments_total',
      help: 'Sensors enrolled (new keys and keys enrolling again)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    batches: new Counter({
      name: 'tsunagi_sensor_batches_accepted_total',
      help: 'Event batches accepted into the hash chain',
      registers: [registry],
    }),
    events: new Counter({
      name: 'tsunagi_sensor_events_total',
      help: 'Events in accepted batches, by type',
      labelNames: ['type'],
      registers: [registry],
    }),
    rejections: new Counter({
      name: 'tsunagi_sensor_rejections_total',
      help: 'Requests the centre refused, by route and reason',
      labelNames: ['route', 'reason'],
      registers: [registry],
    }),
    sightings: new Counter({
      name: 'tsunagi_sensor_sightings_total',
      help: 'Observations handed to intel as sightings (IoC matches, connections to known C&C)',
      registers: [registry],
    }),
    resolutions: new Counter({
      name: 'tsunagi_sensor_domain_resolutions_total',
      help: "Listed domains the centre's resolver looked up for the IoC list, by outcome",
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
