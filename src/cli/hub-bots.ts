/**
 * A detector worker's bots from the hub without the hub's store: intel's bot indicators followed
 * on its NATS subjects (`tsunagi.intel.*`, see intel/relay.ts) as they are committed, with no
 * polling. The subjects hold no history, so the worker's own list (`--bots`) stays its start.
 */
import type { Registry } from 'prom-client';
import type { Component, Logger } from '../core/index.ts';
import { followBots, followRelayedChanges } from '../intel/index.ts';
import { createNatsRelay } from '../transport/index.ts';

export interface HubBotsOptions {
  url: string;
  /** Connection name, e.g. the worker's. */
  name: string;
  /** The same floor as the hub's own detector (`botsFromIntel.minConfidence`). */
  minConfidence: number;
  /** intel's subject prefix (default tsunagi.intel, as `intel.feed.subjectPrefix`). */
  prefix?: string;
  logger: Logger;
  registry: Registry;
}

export function followHubBots(options: HubBotsOptions, onBots: (bots: readonly string[]) => void): Component {
  const relay = createNatsRelay({ url: options.url, name: options.name }, { logger: options.logger });
  const follower = followRelayedChanges(relay, {
    ...(options.prefix ? { prefix: options.prefix } : {}),
    logger: options.logger,
    registry: options.registry,
  });
  const bots = followBots(follower, { minConfidence: options.minConfidence }, onBots);
  return {
    name: 'hub-bots',
    async start() {
      await relay.start();
      await follower.start();
      await bots.start();
    },
    async stop() {
      bots.stop();
      await follower.stop();
      await relay.stop();
    },
  };
}
