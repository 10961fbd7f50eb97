// The console's client for the hub API: the token lives in memory and this tab's sessionStorage
// and travels only in the Authorization header (never in a URL), so no cookie can be ridden (CSRF).
const KEY = 'tsunagi.token';
let token: string | null = (() => {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
})();

export function getToken(): string | null {
  return token;
}
export function setToken(value: string | null): void {
  token = value;
  try {
    if (value) sessionStorage.setItem(KEY, value);
    else sessionStorage.removeItem(KEY);
  } catch {
    // memory only
  }
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T>(
  path: string,
  params?: Record<string, string | number | boolean | undefined>,
): Promise<T> {
  const query = params
    ? Object.entries(params)
        .filter(([, v]) => v !== undefined && v !== '')
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&')
    : '';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/console/api/${path}${query ? `?${query}` : ''}`, {
    headers,
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) {
    let message = response.statusText;
    try {
      const body = (await response.json()) as { description?: string };
      message = body.description ?? message;
    } catch {
      // keep the status text
    }
    throw new ApiError(response.status, message);
  }
  return (await response.json()) as T;
}

/** POSTs a JSON body to the console API; errors as `api`'s. */
export async function apiPost<T>(path: string, body: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`/console/api/${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!response.ok) {
    let message = response.statusText;
    try {
      message = ((await response.json()) as { description?: string }).description ?? message;
    } catch {
      // keep the status text
    }
    throw new ApiError(response.status, message);
  }
  return (await response.json()) as T;
}

export interface LiveEvent {
  event: string;
  data: unknown;
}

/** Follows the server-sent event stream with fetch (so the token stays in a header); reconnects. */
export function followLive(
  onEvent: (e: LiveEvent) => void,
  onState: (connected: boolean) => void,
): () => void {
  let stopped = false;
  let controller: AbortController | undefined;
  const run = async () => {
    let delay = 1000;
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch('/console/api/live', {
          headers: { authorization: `Bearer ${token ?? ''}`, accept: 'text/event-stream' },
          credentials: 'omit',
          cache: 'no-store',
          signal: controller.signal,
        });
        if (!response.ok || !response.body) throw new Error(`live stream: ${response.status}`);
        onState(true);
        delay = 1000;
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end: number;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let event = 'message';
            const data: string[] = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event: ')) event = line.slice(7);
              else if (line.startsWith('data: ')) data.push(line.slice(6));
            }
            if (data.length) {
              try {
                onEvent({ event, data: JSON.parse(data.join('\n')) });
              } catch {
                // a malformed event is skipped
              }
            }
          }
        }
      } catch {
        // fall through to reconnect
      }
      onState(false);
      if (stopped) break;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}

// The API's bodies: one module with the server (src/console/api/types.ts), never copied.
export type {
  ApiTier as Tier,
  AuditBody,
  DarknetBody,
  GraphBody,
  GraphEdge,
  GraphNode,
  HealthBody,
  HostsBody,
  IndicatorDetailBody,
  IndicatorPageBody,
  IndicatorView,
  LiveIndicatorEvent,
  MeBody as Me,
  OverviewBody,
  SelfCheckAnswer,
  SharingBody,
  SurveyBody,
} from '../../src/console/api/types.ts';
