// A server-sent events client for tests: collects the stream's text until closed.

export interface SseClient {
  status: number;
  text(): string;
  /** Resolves when the stream's text matches `pattern` (false after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens `GET url` with a bearer token and reads the stream in the background. */
export async function openSse(url: string, token: string): Promise<SseClient> {
  const ctrl = new AbortController();
  const r = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: ctrl.signal,
  });
  let text = '';
  const decoder = new TextDecoder();
  const reader = r.body?.getReader();
  const reading = (async () => {
    try {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return;
        text += decoder.decode(chunk.value, { stream: true });
      }
    } catch {
      // Aborted by close().
    }
  })();
  return {
    status: r.status,
    text: () => text,
    waitFor: async (pattern, timeoutMs) => {
      const started = Date.now();
      while (!pattern.test(text)) {
        if (Date.now() - started > timeoutMs) return false;
        await new Promise((res) => setTimeout(res, 50));
      }
      return true;
    },
    close: async () => {
      ctrl.abort();
      await reading;
    },
  };
}
