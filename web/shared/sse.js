// Server-sent events read with fetch (so the session's headers from `api.authHeaders()` go along,
// which EventSource cannot send). Reconnects with backoff; stops for good on 401/403/404.
export function openEventStream(api, path, onEvent) {
  let stopped = false;
  let ctrl = null;
  let delay = 1000;
  const run = async () => {
    while (!stopped) {
      ctrl = new AbortController();
      try {
        const res = await fetch(`/api/v1/${path}`, {
          headers: { Accept: 'text/event-stream', ...api.authHeaders() },
          signal: ctrl.signal,
        });
        if ([401, 403, 404].includes(res.status)) return;
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        delay = 1000;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            let type = 'message';
            const data = [];
            for (const line of block.split('\n')) {
              if (line.startsWith('event:')) type = line.slice(6).trim();
              else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
            }
            if (!data.length) continue;
            let parsed = data.join('\n');
            try {
              parsed = JSON.parse(parsed);
            } catch {
              /* plain text */
            }
            try {
              onEvent(type, parsed);
            } catch {
              /* a handler error must not end the stream */
            }
          }
        }
      } catch {
        if (stopped) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(30000, delay * 2);
    }
  };
  run();
  return () => {
    stopped = true;
    ctrl?.abort();
  };
}
