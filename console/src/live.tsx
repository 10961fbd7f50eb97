// Live-update context: a tick that pages watch to refetch, and the newest pushed indicators.
import { createContext, useContext } from 'react';
import type { LiveIndicatorEvent } from './api.ts';

export type LiveItem = LiveIndicatorEvent;

export const LiveTickContext = createContext(0);
export const useLiveTick = () => useContext(LiveTickContext);
