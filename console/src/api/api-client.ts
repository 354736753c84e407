/**
 * The console's one way to the platform: REST and GraphQL on the same origin, with the signed-in
 * token. Every failure becomes an ApiError with the platform's code and message, so a page shows
 * "you need the approver role" instead of breaking.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  /** The signed-in principal lacks the role (403) or is not signed in (401). */
  get forbidden(): boolean {
    return this.status === 401 || this.status === 403 || this.code === 'FORBIDDEN' || this.code === 'UNAUTHENTICATED';
  }
}

interface ErrorBody {
  error?: string;
  message?: string;
}

interface GraphqlResponse<T> {
  data?: T | null;
  errors?: { message: string; extensions?: { code?: string; status?: number } }[];
}

/** The platform's GraphQL error codes, as the HTTP statuses its REST API gives the same errors. */
const GRAPHQL_STATUS: Record<string, number> = { UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400, SERVICE_UNAVAILABLE: 503 };

export class ApiClient {
  constructor(private readonly token: string) {}

  async get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  async put<T>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  /** A binary resource (a task's image) as an object URL for <img>; the caller revokes it. */
  async objectUrl(path: string): Promise<string> {
    const res = await fetch(path, { headers: this.headers() });
    if (!res.ok) throw await toError(res);
    return URL.createObjectURL(await res.blob());
  }

  /** A text resource (a redacted report). */
  async text(path: string): Promise<string> {
    const res = await fetch(path, { headers: this.headers() });
    if (!res.ok) throw await toError(res);
    return res.text();
  }

  async graphql<T, V extends object = Record<string, never>>(query: string, variables?: V): Promise<T> {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { ...this.headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables: variables ?? {} }),
    });
    let body: GraphqlResponse<T>;
    try {
      body = (await res.json()) as GraphqlResponse<T>;
    } catch {
      throw new ApiError(res.status, `HTTP_${res.status}`, `the platform answered ${res.status} without a GraphQL body`);
    }
    const first = body.errors?.[0];
    if (first) {
      const code = first.extensions?.code ?? 'GRAPHQL_ERROR';
      const status = first.extensions?.status ?? GRAPHQL_STATUS[code] ?? res.status;
      throw new ApiError(status, code, first.message);
    }
    if (!body.data) throw new ApiError(res.status, 'GRAPHQL_ERROR', 'the platform answered without data');
    return body.data;
  }

  private headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? this.headers() : { ...this.headers(), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw await toError(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }
}

async function toError(res: Response): Promise<ApiError> {
  let body: ErrorBody = {};
  try {
    body = (await res.json()) as ErrorBody;
  } catch {
    // Not the platform's JSON error body (a proxy's page): the status says enough.
  }
  return new ApiError(res.status, body.error ?? `HTTP_${res.status}`, body.message ?? `the platform answered ${res.status}`);
}

/** Builds a query string from the defined values only. */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
