// A webhook receiver for tests: a real HTTP server that records what Vigil posts and answers as told.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
interface Received {
  id: string;
  signature: string;
  contentType: string;
  userAgent: string;
  body: string;
}

/**
 * A webhook receiver on 127.0.0.1 that answers the n-th request (from 1) with `status(n)`, after `delayMs`; on
 * `port`, or any free one.
 */
export async function startReceiver(status: (n: number) => number, delayMs = 0, port = 0) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        id: String(req.headers['vigil-event-id']),
        signature: String(req.headers['vigil-signature']),
        contentType: String(req.headers['content-type']),
        userAgent: String(req.headers['user-agent']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      const n = received.length;
      setTimeout(() => res.writeHead(status(n)).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/hooks/vigil`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
