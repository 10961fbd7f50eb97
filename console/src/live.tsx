// Live-update context: a tick that pages watch to refetch, and the newest pushed indicators.
import { createContext, useContext } from 'react';
import type { IndicatorView } from './api.ts';

export interface LiveItem {
  change: 'created' | 'updated';
  indicator: IndicatorView;
}

export const LiveTickContext = createContext(0);
export const useLiveTick = () => useContext(LiveTickContext);
