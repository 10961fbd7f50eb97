/**
 * The TAXII 2.1 client side of sharing: `createTaxiiClient` (discovery, collections, objects GET
 * and POST, status), `createBotFeed` (infected hosts in from a remote collection) and
 * `createC2Sharer` (the detector's C&C candidates out to a hub's submission collection).
 */
export {
  BotFeedConfig,
  C2SharerConfig,
  TaxiiClientConfig,
  type BotFeedConfigInput,
  type C2SharerConfigInput,
  type TaxiiClientConfigInput,
} from './config.ts';
export {
  createTaxiiClient,
  TaxiiClientError,
  TAXII_MEDIA_TYPE,
  type ApiRootInfo,
  type CollectionInfo,
  type Discovery,
  type ObjectsQuery,
  type PageSummary,
  type PostResult,
  type TaxiiClient,
  type TaxiiClientDeps,
  type TaxiiErrorKind,
  type TaxiiStatus,
} from './taxii-client.ts';
export {
  botAddressOf,
  canonicalAddress,
  createBotFeed,
  type BotFeed,
  type BotFeedDeps,
  type BotFeedPoll,
} from './bot-feed.ts';
export {
  candidateObjects,
  createC2Sharer,
  ShareCandidate,
  type C2Sharer,
  type C2SharerDeps,
  type FlushResult,
} from './c2-sharer.ts';
