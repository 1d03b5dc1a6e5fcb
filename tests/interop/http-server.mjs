#!/usr/bin/env node
// Interop server: the official MCP TypeScript SDK's McpServer over its
// StreamableHTTPServerTransport, for the oxmcp HTTP client's tests.
//
//   node http-server.mjs [sse|json|stateless]
//
// Modes: `sse` (default; stateful, SSE replies, resumable through an event store with a
// 200 ms retry), `json` (stateful, `enableJsonResponse`), `stateless` (no session, a fresh
// server per request, GET and DELETE answer 405).
//
// Listens on 127.0.0.1, port 0, and prints `URL=http://127.0.0.1:<port>/mcp` on stdout.
// Later stdout lines: `closed <session id>` when a session ends (e.g. the client's DELETE).
// Serves until its stdin closes. Requires Node 22 (scripts/setup-interop.sh).
//
// It offers: tools `echo`, `progress` (progress and log notifications), `ask`
// (elicitation), `sample` (sampling), `slow` (one progress notification, then waits up to
// 30 s; prints `cancelled <request id>` when cancelled), `poll` (closes its SSE stream midway so the client
// must resume; sse mode), `whoami` (the session id) and `expire-session` (forgets the
// session after answering, so the next request gets 404); the resource `test://greeting`,
// the template `test://items/{id}` with completion, and the prompt `greet` with completion.

import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  isInitializeRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const mode = process.argv[2] ?? 'sse';
if (!['sse', 'json', 'stateless'].includes(mode)) {
  console.error(`usage: node http-server.mjs [sse|json|stateless] (got ${mode})`);
  process.exit(2);
}

/** Transports of live sessions, by session id. */
const sessions = new Map();

const text = (t) => ({ content: [{ type: 'text', text: t }] });

function buildServer() {
  const server = new McpServer(
    { name: 'ts-sdk-http', version: '1.0.0' },
    { capabilities: { logging: {} } },
  );

  server.registerTool(
    'echo',
    { description: 'Echoes the message', inputSchema: { message: z.string() } },
    async ({ message }) => text(`Echo: ${message}`),
  );

  server.registerTool(
    'progress',
    { description: 'Reports progress and logs each step', inputSchema: { steps: z.number().int() } },
    async ({ steps }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= steps; i++) {
        if (token !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress: i, total: steps },
          });
        }
        await extra.sendNotification({
          method: 'notifications/message',
          params: { level: 'info', logger: 'progress', data: `step ${i}` },
        });
      }
      return text(`done ${steps}`);
    },
  );

  // In JSON mode the POST reply cannot carry requests: they go on the GET stream, which
  // is where messages without a related request are sent.
  const ask = (request, schema, extra) =>
    mode === 'json'
      ? server.server.request(request, schema)
      : extra.sendRequest(request, schema);

  server.registerTool('ask', { description: 'Elicits a name' }, async (extra) => {
    const r = await ask(
      {
        method: 'elicitation/create',
        params: {
          message: 'What is your name?',
          requestedSchema: {
            type: 'object',
            properties: { name: { type: 'string' } },
            required: ['name'],
          },
        },
      },
      ElicitResultSchema,
      extra,
    );
    return text(`${r.action}: ${JSON.stringify(r.content ?? null)}`);
  });

  server.registerTool('sample', { description: 'Asks the client to sample' }, async (extra) => {
    const r = await ask(
      {
        method: 'sampling/createMessage',
        params: {
          messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }],
          maxTokens: 16,
        },
      },
      CreateMessageResultSchema,
      extra,
    );
    return text(`sampled: ${r.content.type === 'text' ? r.content.text : r.content.type} (${r.model})`);
  });

  server.registerTool('poll', { description: 'Closes its SSE stream midway' }, async (extra) => {
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', logger: 'poll', data: 'before the break' },
    });
    if (!extra.closeSSEStream) return text('no stream to close (not resumable)');
    extra.closeSSEStream();
    await new Promise((r) => setTimeout(r, 50));
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', logger: 'poll', data: 'after the break' },
    });
    // The SDK's example event store orders events by an id made of the millisecond and a
    // random suffix: a later millisecond keeps the replay in the order sent.
    await new Promise((r) => setTimeout(r, 5));
    return text('polled');
  });

  server.registerTool('slow', { description: 'Reports progress, then waits to be cancelled' }, async (extra) => {
    const token = extra._meta?.progressToken;
    if (token !== undefined) {
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: token, progress: 1 },
      });
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 30_000);
      extra.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        console.log(`cancelled ${extra.requestId}`);
        resolve();
      });
    });
    return text('slow done');
  });

  server.registerTool('whoami', { description: 'The session id' }, async (extra) =>
    text(extra.sessionId ?? 'none'),
  );

  server.registerTool('expire-session', { description: 'Forgets this session' }, async (extra) => {
    const id = extra.sessionId;
    // Forget it once the answer is out; the transport stays open but unreachable.
    setTimeout(() => {
      if (sessions.delete(id)) console.log(`forgot ${id}`);
    }, 0);
    return text(`forgetting ${id}`);
  });

  server.registerResource(
    'greeting',
    'test://greeting',
    { description: 'A greeting', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Hello from the TS SDK' }] }),
  );

  server.registerResource(
    'item',
    new ResourceTemplate('test://items/{id}', {
      list: undefined,
      complete: { id: (value) => ['alpha', 'beta', 'gamma'].filter((v) => v.startsWith(value)) },
    }),
    { description: 'An item', mimeType: 'text/plain' },
    async (uri, { id }) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: `item ${id}` }] }),
  );

  server.registerPrompt(
    'greet',
    {
      description: 'Greets someone',
      argsSchema: {
        name: completable(z.string(), (value) => ['Ada', 'Alan', 'Grace'].filter((n) => n.startsWith(value))),
      },
    },
    ({ name }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Hello ${name}` } }],
    }),
  );

  return server;
}

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks).toString('utf8');
  return body ? JSON.parse(body) : undefined;
}

function reply(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: body }, id: null }));
}

async function handle(req, res) {
  if (new URL(req.url, 'http://127.0.0.1').pathname !== '/mcp') {
    res.writeHead(404).end();
    return;
  }
  const body = req.method === 'POST' ? await readJson(req) : undefined;

  if (mode === 'stateless') {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
    return;
  }

  const sid = req.headers['mcp-session-id'];
  let transport = sid ? sessions.get(sid) : undefined;
  if (!transport) {
    if (sid) {
      reply(res, 404, 'Session not found');
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      reply(res, 400, 'No session: initialize first');
      return;
    }
    const server = buildServer();
    const created = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: mode === 'json',
      ...(mode === 'sse' ? { eventStore: new InMemoryEventStore(), retryInterval: 200 } : {}),
      onsessioninitialized: (id) => {
        sessions.set(id, created);
      },
    });
    created.onclose = () => {
      const id = created.sessionId;
      if (id) {
        sessions.delete(id);
        console.log(`closed ${id}`);
      }
    };
    await server.connect(created);
    transport = created;
  }
  await transport.handleRequest(req, res, body);
}

const httpServer = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    console.error(`http-server: ${e?.stack ?? e}`);
    if (!res.headersSent) reply(res, 500, String(e));
    else res.end();
  });
});

httpServer.listen(0, '127.0.0.1', () => {
  const { port } = httpServer.address();
  console.log(`URL=http://127.0.0.1:${port}/mcp`);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
