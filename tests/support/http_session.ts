/**
 * A browser's part over real HTTP, for a server started with `startServer`: a cookie jar, the
 * Origin header on unsafe requests, and the walk through the emulator's OAuth consent
 * (login_hint stands in for picking the account). The load benchmark uses it too.
 */
export class HttpSession {
  readonly jar = new Map<string, string>();

  constructor(
    readonly url: string,
    private readonly client?: Deno.HttpClient,
    /** Sees every response of the app (not the emulator's), e.g. to read its headers. */
    private readonly onResponse?: (res: Response) => void,
  ) {}

  /** The jar as one Cookie header value. */
  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async call(target: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (target.startsWith(this.url)) {
      headers.set("cookie", this.cookie);
      if (init.method && init.method !== "GET") headers.set("origin", this.url);
    }
    const res = await fetch(target, {
      ...init,
      headers,
      redirect: "manual",
      ...(this.client ? { client: this.client } : {}),
    });
    if (target.startsWith(this.url)) this.onResponse?.(res);
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";").map((part) => part.trim());
      const eq = pair.indexOf("=");
      const [name, value] = [pair.slice(0, eq), pair.slice(eq + 1)];
      // A cleared cookie (empty, Max-Age=0) leaves the jar, as a browser drops it.
      if (value === "" || attributes.some((a) => /^max-age=0$/i.test(a))) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  /** A JSON call to the app; throws on a status other than 2xx. */
  async json(path: string, method = "GET", body?: unknown) {
    const res = await this.call(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return await res.json();
  }

  async signIn(email: string): Promise<void> {
    const login = await this.call(`${this.url}/api/auth/login`);
    await login.body?.cancel();
    await this.#completeAtGoogle(login.headers.get("location")!, email);
  }

  async connect(email: string): Promise<void> {
    await this.#completeAtGoogle(
      (await this.json("/api/user/calendars/connect", "POST", {})).url,
      email,
    );
  }

  /** Signs in as the first address, connects every address, and adds a rule from first to last. */
  async setUp(emails: [string, ...string[]]): Promise<{ ruleId: string }> {
    await this.signIn(emails[0]);
    for (const email of emails) await this.connect(email);
    const { items } = await this.json("/api/user/calendars");
    const ref = (calendarId: string) => ({
      connectionId: items.find((c: { calendarId: string }) => c.calendarId === calendarId)
        .connectionId,
      calendarId,
    });
    const rule = await this.json("/api/rules", "POST", {
      name: "Mirror",
      source: ref(emails[0]),
      target: ref(emails.at(-1)!),
    });
    return { ruleId: rule.id };
  }

  async #completeAtGoogle(authUrl: string, email: string): Promise<void> {
    const auth = new URL(authUrl);
    auth.searchParams.set("login_hint", email);
    const google = await this.call(auth.href);
    await google.body?.cancel();
    const back = await this.call(google.headers.get("location")!);
    await back.body?.cancel();
    if (back.status !== 302 && back.status !== 303) throw new Error(`callback: ${back.status}`);
  }
}
