/** The REST API of a running platform, as the CLI uses it (TRELLIS_URL, TRELLIS_TOKEN). */
export class TrellisHttpClient {
  constructor(
    readonly baseUrl: string = process.env.TRELLIS_URL || 'http://127.0.0.1:3000',
    private readonly token: string | undefined = process.env.TRELLIS_TOKEN,
  ) {}

  /**
   * One request: a FormData body goes as multipart, a Buffer as application/octet-stream, any
   * other value as JSON. Returns the status and the raw text.
   */
  async send(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let payload: FormData | Buffer | string | undefined;
    if (body instanceof FormData) payload = body;
    else if (Buffer.isBuffer(body)) {
      headers['content-type'] = 'application/octet-stream';
      payload = body;
    } else if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { method, headers, body: payload });
    } catch (err) {
      throw new Error(`cannot reach the platform at ${this.baseUrl} (${(err as Error).message}); is it running? set TRELLIS_URL`);
    }
    return { status: res.status, text: await res.text() };
  }

  /** `send`, with the body parsed as JSON when it is, and 401/403 turned into what to do about them. */
  async request<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.send(method, path, body);
    const text = res.text;
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text for the message.
    }
    if (res.status === 401) throw new Error(`the platform refused the credentials (401): set TRELLIS_TOKEN to an API token`);
    if (res.status === 403) throw new Error(`the token lacks a role for ${method} ${path} (403): ${(parsed as { message?: string })?.message ?? ''}`);
    return { status: res.status, body: parsed as T };
  }
}

export function errorText(body: unknown): { error: string; message: string } {
  const b = body as { error?: string; message?: string } | undefined;
  return { error: b?.error ?? 'HTTP_ERROR', message: b?.message ?? String(body) };
}
