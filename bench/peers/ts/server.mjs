/**
 * Benchmark peer for `oxmcp bench`: an MCP server on the official TypeScript
 * SDK (@modelcontextprotocol/sdk) exposing one tool, `echo`, which returns its
 * `message` argument as a single text content item.
 *
 *   node server.mjs --port PORT --mode stateful   Streamable HTTP at /mcp with
 *       sessions (Mcp-Session-Id) and SSE replies: one transport per session.
 *   node server.mjs --port PORT --mode stateless  Streamable HTTP at /mcp, no
 *       sessions, JSON replies: a new server and transport for every POST.
 *   node server.mjs --stdio                       newline-delimited JSON-RPC on
 *       stdin/stdout.
 *
 * HTTP listens on 127.0.0.1 through the SDK's createMcpExpressApp (Express
 * with a JSON body parser and Host-header checks for localhost).
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';

const HOST = '127.0.0.1';
const USAGE = 'usage: node server.mjs --port PORT --mode stateful|stateless | node server.mjs --stdio';

/** A fresh MCP server with the `echo` tool registered. */
function createServer() {
  const server = new McpServer({ name: 'ts-echo', version: '0.1.0' });
  server.registerTool(
    'echo',
    {
      description: 'Returns its message argument unchanged.',
      inputSchema: { message: z.string() },
    },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  return server;
}

/** Writes a JSON-RPC error with no id and the given HTTP status. */
function rpcError(res, status, message) {
  res.status(status).json({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
}

/** Stateful mode: one transport (and server) per session, looked up by Mcp-Session-Id. */
function statefulApp() {
  const app = createMcpExpressApp({ host: HOST });
  const transports = new Map();

  app.post('/mcp', async (req, res) => {
    const sessionId = req.get('mcp-session-id');
    let transport = sessionId && transports.get(sessionId);
    if (!transport) {
      if (sessionId || !isInitializeRequest(req.body)) {
        rpcError(res, sessionId ? 404 : 400, sessionId ? 'Session not found' : 'No valid session ID provided');
        return;
      }
      transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => transports.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && transports.delete(transport.sessionId);
      await createServer().connect(transport);
    }
    await transport.handleRequest(req, res, req.body);
  });

  // GET opens the standalone SSE stream; DELETE ends the session.
  const bySession = async (req, res) => {
    const transport = transports.get(req.get('mcp-session-id') ?? '');
    if (!transport) {
      rpcError(res, 400, 'Invalid or missing session ID');
      return;
    }
    await transport.handleRequest(req, res);
  };
  app.get('/mcp', bySession);
  app.delete('/mcp', bySession);
  return app;
}

/** Stateless mode: a new server and transport for every request, JSON replies. */
function statelessApp() {
  const app = createMcpExpressApp({ host: HOST });
  app.post('/mcp', async (req, res) => {
    const server = createServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  const notAllowed = (_req, res) => rpcError(res, 405, 'Method not allowed.');
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
  return app;
}

function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: { port: { type: 'string' }, mode: { type: 'string' }, stdio: { type: 'boolean' } },
    }));
  } catch (err) {
    console.error(`${err.message}\n${USAGE}`);
    process.exit(2);
  }
  if (values.stdio) {
    createServer().connect(new StdioServerTransport());
    return;
  }
  const port = Number(values.port);
  const apps = { stateful: statefulApp, stateless: statelessApp };
  if (!Number.isInteger(port) || !(values.mode in apps)) {
    console.error(USAGE);
    process.exit(2);
  }
  const server = apps[values.mode]().listen(port, HOST, () => {
    console.error(`ts-echo (${values.mode}) listening on http://${HOST}:${port}/mcp`);
  });
  server.on('error', (err) => {
    console.error(err.message);
    process.exit(1);
  });
}

main();
