// The official TypeScript SDK 2.x client (@modelcontextprotocol/client) against an oxmcp
// server over Streamable HTTP, negotiating the era itself (`versionNegotiation: auto`):
// it must land on 2026-07-28 and use tools, resources, prompts, progress, a multi
// round-trip (input_required) call answered by its elicitation handler, and a listen
// stream. Prints one TAP line per check; exits 1 if any failed.
//
//   node client2.mjs <url>
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const url = process.argv[2];
if (!url) {
  console.error('usage: node client2.mjs <url>');
  process.exit(2);
}

let failed = 0;
let passed = 0;
async function check(name, f) {
  try {
    await f();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${name}: ${e?.stack ?? e}`);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
const text = (r) => (r.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('');

const client = new Client(
  { name: 'oxmcp-interop-ts2', version: '1.0.0' },
  { capabilities: { elicitation: {} }, versionNegotiation: { mode: 'auto' } },
);
let elicited = 0;
client.setRequestHandler('elicitation/create', async () => {
  elicited += 1;
  return { action: 'accept', content: { name: 'Ada' } };
});
await client.connect(new StreamableHTTPClientTransport(new URL(url)));

await check('negotiates 2026-07-28 with server/discover', () => {
  const v = client.getNegotiatedProtocolVersion();
  assert(v === '2026-07-28', `negotiated ${v}`);
});
await check('tools/list lists the fixture tools', async () => {
  const { tools } = await client.listTools();
  for (const name of ['greet', 'test_simple_text', 'test_input_required_result_elicitation']) {
    assert(tools.some((t) => t.name === name), `no ${name}`);
  }
});
await check('tools/call greet', async () => {
  const r = await client.callTool({ name: 'greet', arguments: { name: 'Bob' } });
  assert(text(r) === 'Hello, Bob!', text(r));
});
await check('an input_required call is answered by the elicitation handler and retried', async () => {
  const r = await client.callTool({ name: 'test_input_required_result_elicitation', arguments: {} });
  assert(elicited === 1, `the handler ran ${elicited} times`);
  assert(text(r).includes('"name":"Ada"'), text(r));
});
await check('progress arrives on the request stream', async () => {
  const seen = [];
  const r = await client.callTool(
    { name: 'test_tool_with_progress', arguments: {} },
    { onprogress: (p) => seen.push(p.progress) },
  );
  assert(!r.isError, text(r));
  assert(seen.length === 3 && seen[2] === 100, `progress ${JSON.stringify(seen)}`);
});
await check('resources/read', async () => {
  const r = await client.readResource({ uri: 'test://static-text' });
  assert(r.contents[0].text === 'This is the content of the static text resource.', JSON.stringify(r));
});
await check('prompts/get', async () => {
  const r = await client.getPrompt({ name: 'test_simple_prompt' });
  assert(r.messages[0].content.text === 'This is a simple prompt for testing.', JSON.stringify(r));
});
await check('a listen stream delivers a tools list change', async () => {
  const changed = new Promise((resolve) => {
    client.setNotificationHandler('notifications/tools/list_changed', () => resolve());
  });
  const sub = await client.listen({ toolsListChanged: true });
  await client.callTool({ name: 'test_trigger_tool_change', arguments: {} });
  await changed;
  await sub.close?.();
});

await client.close();
console.log(`# summary: client2: ${passed}/${passed + failed} checks passed`);
process.exit(failed === 0 ? 0 : 1);
