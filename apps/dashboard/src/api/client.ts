// The REST client: the route list from @bench/events, the bearer token on every call, and the
// server's ErrorBody turned into an ApiError whose message is what the user sees.
import {
  API_ROUTES,
  apiPath,
  type ApiRouteName,
  type BatchView,
  type ErrorBody,
  type FloorView,
  type LoginResponse,
  type SlotDetailView,
  type SummaryView,
  type UserView,
} from '@bench/events';

/** What each route the dashboard calls answers with. */
export interface ApiResponses {
  login: LoginResponse;
  logout: unknown;
  me: UserView;
  floor: FloorView;
  slot: SlotDetailView;
  summary: SummaryView;
  batches: BatchView[];
  createBatch: BatchView;
  pauseBatch: BatchView;
  resumeBatch: BatchView;
  cancelBatch: BatchView;
  /** The configuration in force; the dashboard reads the retry policies' names. */
  config: { policies: Record<string, unknown> };
  /** The morning report page (HTML, not JSON: the client hands over the text). */
  batchReportHtml: string;
  startRun: unknown;
  cancelRun: unknown;
  retryRun: unknown;
  pauseSlot: unknown;
  resumeSlot: unknown;
  powerCycleSlot: unknown;
  clearQuarantine: unknown;
  cableReplaced: unknown;
}
export type DashboardRoute = keyof ApiResponses & ApiRouteName;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
    this.name = 'ApiError';
  }
}

export function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorBody).statusCode === 'number' &&
    typeof (value as ErrorBody).message === 'string'
  );
}

/** The error body the server sent, or one made from the status when the body is not ours (a proxy's page). */
export function errorBodyOf(status: number, statusText: string, body: unknown): ErrorBody {
  if (isErrorBody(body)) return body;
  return {
    statusCode: status,
    error: statusText || 'Error',
    message: status === 0 ? 'cannot reach the server' : `${status} ${statusText || 'error'}`.trim(),
  };
}

export interface ApiClientOptions {
  token: () => string | null;
  /** The token was refused: the app returns to the login screen. */
  onUnauthorized: () => void;
  fetch?: typeof fetch;
}

export interface CallOptions {
  params?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
}

export type ApiClient = <N extends DashboardRoute>(
  name: N,
  options?: CallOptions,
) => Promise<ApiResponses[N]>;

export function createApiClient(options: ApiClientOptions): ApiClient {
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init));
  return async (name, { params, body, signal } = {}) => {
    const route = API_ROUTES[name];
    const headers: Record<string, string> = { accept: 'application/json' };
    const token = options.token();
    if (token && route.access !== 'public') headers.authorization = `Bearer ${token}`;
    const hasBody = route.method !== 'GET';
    if (hasBody) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(apiPath(name, params), {
        method: route.method,
        headers,
        body: hasBody ? JSON.stringify(body ?? {}) : undefined,
        signal,
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      throw new ApiError(0, errorBodyOf(0, '', undefined));
    }
    const payload = await readJson(response);
    if (!response.ok) {
      // A refused login is the form's error to show, not a session that ended.
      if (response.status === 401 && route.access !== 'public') options.onUnauthorized();
      throw new ApiError(response.status, errorBodyOf(response.status, response.statusText, payload));
    }
    return payload as ApiResponses[typeof name];
  };
}

async function readJson(response: Response): Promise<unknown> {
  const raw = await response.text();
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** What the user reads when a call failed: the server's message, or the error's. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
