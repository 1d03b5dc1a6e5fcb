// A Streamable HTTP server built on the official TypeScript SDK 2.x
// (@modelcontextprotocol/server), for the oxmcp client's interop tests. It serves
// 2026-07-28 and, through the SDK's stateless fallback, the handshake revisions.
// Tools: `echo` (text), `ask_name` (a multi round-trip call: input_required with an
// elicitation keyed `who`, then a greeting); prompt `hello`; resource `test://doc`.
// Binds 127.0.0.1 on a free port and prints `listening on http://127.0.0.1:PORT/mcp`.
//
//   node http-server2.mjs
import http from 'node:http';
import { McpServer, acceptedContent, createMcpHandler, inputRequired } from '@modelcontextprotocol/server';
import { z } from 'zod';

function factory() {
  const server = new McpServer({ name: 'ts-sdk-2-server', version: '2.4.0' });
  server.registerTool('echo', { description: 'Returns its text.', inputSchema: z.object({ text: z.string() }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }));
  server.registerTool('ask_name', { description: 'Asks the user for a name, then greets them.', inputSchema: z.object({}) },
    async (_args, ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'who');
      if (!answer) {
        return inputRequired({
          inputRequests: {
            who: inputRequired.elicit({
              message: 'What is your name?',
              requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
            }),
          },
        });
      }
      return { content: [{ type: 'text', text: `Hello, ${answer.name}!` }] };
    });
  server.registerPrompt('hello', { description: 'Says hello.' },
    async () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'hello' } }] }));
  server.registerResource('doc', 'test://doc', { mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'the doc' }] }));
  return server;
}

const handler = createMcpHandler(factory);

// Node's http server in front of the SDK's fetch-shaped handler.
const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) {
      if (typeof v === 'string') headers.set(k, v);
    }
    const hasBody = !['GET', 'HEAD'].includes(req.method);
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers,
      body: hasBody ? Buffer.concat(chunks) : undefined,
    });
    const response = await handler.fetch(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  } catch (e) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(String(e?.stack ?? e));
  }
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}/mcp`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
