#!/usr/bin/env node
// Interop client: the official MCP TypeScript SDK drives an oxmcp server over stdio or
// Streamable HTTP.
//
//   node stdio-client.mjs <scenario> -- <server command> [args...]          (stdio)
//   node stdio-client.mjs <scenario> --http -- <server command> [args...]   (Streamable HTTP)
//   node stdio-client.mjs <scenario> --http --url <url>   (a server that is already running)
//
// Over HTTP the harness spawns the server, reads the URL from its first stdout line
// (`listening on http://127.0.0.1:PORT/mcp`), connects with StreamableHTTPClientTransport,
// and at the end sends SIGTERM and checks that the server exits (status 0, within 2 s)
// instead of closing its stdin.
//
// Scenarios: `demo` (for `oxmcp serve --stdio`), `fixture` (for `oxmcp-conformance-server`
// over stdio, or over HTTP in its default mode: stateful, SSE replies), and the HTTP-only
// `fixture-json` (`--json`), `fixture-stateless` (`--stateless`) and
// `fixture-stateless-json` (`--stateless --json`), which say where and why they depart from
// `fixture` (see FIXTURE_MODES). Prints one line per check, `ok - <name>` or
// `not ok - <name>: <reason>` (`# SKIP <reason>`: cannot run in this mode; `# TODO known
// server issue: ...`: a documented server bug, which does not fail the run, while the same
// check passing does), then a `# summary` line; exits 0 when every check passed, 1 when one
// failed, 2 on a usage error. The server's stderr is passed through.
//
// Environment: OXMCP_INTEROP_CALL_TIMEOUT_MS (per request, default 30000),
// OXMCP_INTEROP_CHECK_TIMEOUT_MS (per check, default 60000),
// OXMCP_INTEROP_TOTAL_TIMEOUT_MS (whole run, default 300000),
// OXMCP_INTEROP_HTTP_LOG=1 (print every HTTP exchange at the end).
// Requires Node 22 (scripts/setup-interop.sh installs it under node_modules/.bin/node).

import { isDeepStrictEqual } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  CreateTaskResultSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  McpError,
} from '@modelcontextprotocol/sdk/types.js';
import { HttpLog, spawnHttpServer } from './http.mjs';

const envMs = (name, fallback) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
};
const CALL_TIMEOUT_MS = envMs('OXMCP_INTEROP_CALL_TIMEOUT_MS', 30_000);
const CHECK_TIMEOUT_MS = envMs('OXMCP_INTEROP_CHECK_TIMEOUT_MS', 60_000);
const TOTAL_TIMEOUT_MS = envMs('OXMCP_INTEROP_TOTAL_TIMEOUT_MS', 300_000);
/** Request options for every SDK call: a hung server fails the check, never the CI job. */
const CALL = { timeout: CALL_TIMEOUT_MS };
const PROTOCOL_VERSION = '2025-11-25';
/** How long a slow tool may take to send its first progress notification. */
const FIRST_PROGRESS_WITHIN_MS = 5_000;
/** A cancelled handler's notifications already in flight are tolerated for this long. */
const CANCEL_GRACE_MS = 500;
/** Time after a cancellation during which the cancelled handler must stay silent. */
const CANCEL_QUIET_MS = 2_500;
/** The SDK stdio transport SIGTERMs a server that has not exited this long after stdin closes. */
const EXIT_ON_EOF_MS = 2_000;
/** Over HTTP, the server must have exited this long after SIGTERM. */
const EXIT_ON_SIGTERM_MS = 2_000;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// Assertions: each throws an Error whose message becomes the `not ok` reason.

class CheckFailed extends Error {}

function assert(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

/** JSON for diagnostics (everything compared here is JSON), long strings cut short. */
const show = (value) =>
  value === undefined
    ? 'undefined'
    : JSON.stringify(value, (_key, v) => (typeof v === 'string' && v.length > 120 ? `${v.slice(0, 120)}...` : v));

function assertEqual(actual, expected, what) {
  assert(isDeepStrictEqual(actual, expected), `${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** The text of a result's single text item (asserts there is exactly one content item). */
function onlyText(result, what = 'result') {
  assert(Array.isArray(result?.content), `${what} has no content array: ${show(result)}`);
  assertEqual(result.content.length, 1, `${what} content length`);
  assertEqual(result.content[0].type, 'text', `${what} content[0].type`);
  return result.content[0].text;
}

/** All text items of a result joined by newlines. */
function allText(result) {
  return (result?.content ?? []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
}

function assertSuccess(result, what) {
  assert(result?.isError !== true, `${what} returned isError: true: ${show(result?.content)}`);
  assert(Array.isArray(result?.content) && result.content.length > 0, `${what} returned no content`);
}

function assertToolError(result, what) {
  assert(result?.isError === true, `${what}: expected an isError: true result, got ${show(result)}`);
  const text = allText(result);
  assert(text.length > 0, `${what}: the isError result has no text explaining the error`);
  return text;
}

/** Awaits `promise`, which must reject with a JSON-RPC error carrying `code`. */
async function assertRpcError(promise, code, what) {
  let outcome;
  try {
    outcome = { result: await promise };
  } catch (error) {
    outcome = { error };
  }
  assert(outcome.error, `${what}: expected JSON-RPC error ${code}, got a result: ${show(outcome.result)}`);
  assert(
    outcome.error instanceof McpError && outcome.error.code === code,
    `${what}: expected JSON-RPC error ${code}, got ${outcome.error?.code ?? '-'} ${outcome.error?.message}`,
  );
  return outcome.error;
}

function assertBase64Magic(data, magic, what) {
  assert(typeof data === 'string' && data.length > 0, `${what}: data is not a non-empty string`);
  const bytes = Buffer.from(data, 'base64');
  const canonical = (b64) => b64.replace(/[\s=]/g, '');
  assert(canonical(bytes.toString('base64')) === canonical(data), `${what}: data is not base64`);
  assert(bytes.subarray(0, magic.length).equals(magic), `${what}: data does not start with ${show(magic)}`);
}
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const RIFF_MAGIC = Buffer.from('RIFF');

// ---------------------------------------------------------------------------------------------
// Wire tap: every JSON-RPC message in both directions, numbered in the order seen. It lets
// checks ask what arrived between a request and its response, whatever the SDK hides.

class Wire {
  entries = [];

  constructor(transport) {
    const wire = this;
    let handler;
    // Protocol.connect assigns transport.onmessage; wrap whatever it assigns.
    Object.defineProperty(transport, 'onmessage', {
      configurable: true,
      enumerable: true,
      get: () => handler,
      set: (fn) => {
        handler = fn && ((message, extra) => {
          wire.record('in', message);
          fn(message, extra);
        });
      },
    });
    const send = transport.send.bind(transport);
    transport.send = (message, options) => {
      wire.record('out', message);
      return send(message, options);
    };
  }

  #waiters = new Set();

  record(dir, message) {
    this.entries.push({ seq: this.entries.length + 1, at: performance.now(), dir, message });
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves true once `pred()` holds (checked on every message), false after `ms`. */
  waitFor(pred, ms) {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value) => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        resolve(value);
      };
      const waiter = () => pred() && done(true);
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(waiter);
    });
  }

  get seq() {
    return this.entries.length;
  }

  /** The newest outbound request with `method` whose params satisfy `pred`, and its response. */
  exchange(method, pred = () => true) {
    const request = this.entries.findLast(
      (e) => e.dir === 'out' && e.message.method === method && e.message.id !== undefined && pred(e.message.params ?? {}),
    );
    if (!request) return {};
    const id = request.message.id;
    const response = this.entries.find(
      (e) => e.dir === 'in' && e.seq > request.seq && e.message.id === id && e.message.method === undefined,
    );
    return { request, response, id };
  }

  /** Inbound messages seen after entry `from` and (if given) before entry `to`. */
  inboundBetween(from, to, pred = () => true) {
    return this.entries.filter(
      (e) => e.dir === 'in' && e.seq > (from?.seq ?? 0) && (!to || e.seq < to.seq) && pred(e.message),
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Runner

class Runner {
  failures = 0;
  count = 0;
  /** Checks that failed as a known server issue said they would. */
  known = 0;
  skipped = 0;

  /**
   * Runs one check. With `knownIssue` (a description of a server bug, reported upstream),
   * a failure prints `not ok ... # TODO known server issue: ...` and does not fail the run,
   * while a pass fails it: the issue is fixed, so the mark must go.
   */
  async check(name, fn, { knownIssue } = {}) {
    this.count += 1;
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new CheckFailed(`timed out after ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
    });
    try {
      const note = await Promise.race([fn(), timeout]);
      if (knownIssue) {
        this.failures += 1;
        console.log(`not ok - ${name}: passes although marked as the known server issue "${knownIssue}": remove the mark`);
        return true;
      }
      console.log(`ok - ${name}${typeof note === 'string' && note ? ` # ${note}` : ''}`);
      return true;
    } catch (error) {
      const reason = error instanceof CheckFailed ? error.message : `${error?.name ?? 'Error'}: ${error?.message ?? error}`;
      if (knownIssue) {
        this.known += 1;
        console.log(`not ok - ${name}: ${reason.replaceAll('\n', ' ')} # TODO known server issue: ${knownIssue}`);
        return false;
      }
      this.failures += 1;
      console.log(`not ok - ${name}: ${reason.replaceAll('\n', ' ')}`);
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A check that cannot run in this mode, printed with the reason (never silently left out). */
  skip(name, reason) {
    this.count += 1;
    this.skipped += 1;
    console.log(`ok - ${name} # SKIP ${reason}`);
  }

  note(text) {
    console.log(`# ${text}`);
  }
}

/** Spawned servers: key -> { pid, close } (close: the client's way to let it go), so that every exit path can stop them. */
const spawned = new Map();

const isAlive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Stops every spawned server still running: close (stdin EOF), SIGTERM after 1 s, SIGKILL after 3 s. */
async function stopServers() {
  const pids = () => [...spawned.values()].map((s) => s.pid).filter((pid) => pid !== undefined);
  const signal = (sig) => {
    for (const pid of pids()) if (isAlive(pid)) try { process.kill(pid, sig); } catch { /* gone */ }
  };
  await Promise.race([Promise.allSettled([...spawned.values()].map((s) => s.close())), sleep(1_000)]);
  signal('SIGTERM');
  for (let i = 0; i < 20 && pids().some(isAlive); i += 1) await sleep(100);
  signal('SIGKILL');
  spawned.clear();
}

/**
 * Spawns the server, taps the wire and runs the MCP handshake. `server` is
 * { command, args, http }: over stdio with the SDK's StdioClientTransport, or (http) as a
 * process that prints its URL, reached with the SDK's StreamableHTTPClientTransport.
 */
async function connect(server, { capabilities, setup }) {
  const client = new Client({ name: 'oxmcp-interop-ts-sdk', version: '0.0.0' }, { capabilities });
  const errors = [];
  client.onerror = (error) => errors.push({ at: performance.now(), message: String(error?.message ?? error) });
  setup?.(client);
  const { command, args } = server;
  if (server.http) {
    // A server already running (`--url`), or one spawned here that prints its URL.
    const proc = server.url
      ? { url: server.url, child: { pid: undefined } }
      : await spawnHttpServer(command, args, CALL_TIMEOUT_MS);
    const http = new HttpLog();
    const transport = new StreamableHTTPClientTransport(new URL(proc.url), { fetch: http.fetch });
    const wire = new Wire(transport);
    const conn = { client, transport, wire, errors, http, proc, url: proc.url };
    spawned.set(conn, { pid: proc.child.pid, close: () => client.close() });
    await client.connect(transport, CALL);
    // With a session the SDK opens the GET stream after initialize without awaiting it; in
    // JSON mode that stream is the only way to the client, so let it open first (a missing
    // stream fails the HTTP checks at the end).
    if (transport.sessionId) await http.waitFor((e) => e.method === 'GET' && e.status !== undefined, CALL_TIMEOUT_MS);
    return conn;
  }
  const transport = new StdioClientTransport({ command, args, env: { ...process.env }, stderr: 'inherit' });
  const wire = new Wire(transport);
  const conn = { client, transport, wire, errors };
  const start = transport.start.bind(transport);
  transport.start = async () => {
    await start();
    spawned.set(conn, { pid: transport.pid, close: () => transport.close() });
  };
  await client.connect(transport, CALL);
  return conn;
}

/** Over stdio: closes stdin and measures how long the server takes to go away. */
async function closeAndCheckExit(runner, conn) {
  if (conn.http) return terminateAndCheckExit(runner, conn);
  await runner.check('server exits when stdin closes', async () => {
    const started = performance.now();
    await conn.client.close();
    spawned.delete(conn);
    const took = performance.now() - started;
    assert(took < EXIT_ON_EOF_MS - 100, `server still running ${Math.round(took)} ms after stdin closed (needed SIGTERM)`);
    return `${Math.round(took)} ms`;
  });
}

/**
 * Over HTTP: SIGTERM while the client is still connected (its GET stream, if any, open);
 * the server must drain and exit with status 0 within EXIT_ON_SIGTERM_MS.
 */
async function terminateAndCheckExit(runner, conn) {
  if (typeof conn.proc.child.kill !== 'function') {
    // `--url`: the server is not ours to stop; whoever started it checks its exit.
    runner.skip('server exits cleanly on SIGTERM', 'the server was already running (--url): its owner stops it');
    await conn.client.close();
    return;
  }
  await runner.check('server exits cleanly on SIGTERM', async () => {
    const started = performance.now();
    conn.proc.child.kill('SIGTERM');
    const status = await Promise.race([conn.proc.exited, sleep(EXIT_ON_SIGTERM_MS).then(() => undefined)]);
    const took = Math.round(performance.now() - started);
    await conn.client.close();
    assert(status, `server still running ${EXIT_ON_SIGTERM_MS} ms after SIGTERM`);
    spawned.delete(conn);
    assertEqual(status, { code: 0, signal: null }, 'exit status');
    return `${took} ms`;
  });
  // Diagnostics: what the SDK's transport reported (e.g. a refused SSE resumption), and
  // with OXMCP_INTEROP_HTTP_LOG=1 every HTTP exchange.
  for (const e of conn.errors) runner.note(`client transport error: ${e.message}`);
  if (process.env.OXMCP_INTEROP_HTTP_LOG === '1') for (const e of conn.http.exchanges) runner.note(`http: ${JSON.stringify(e)}`);
}

// ---------------------------------------------------------------------------------------------
// Checks shared by both scenarios

/** Resolves local `$ref`s (`#/$defs/X`, `#/definitions/X`) against the root schema. */
function deref(schema, root) {
  let s = schema;
  for (let i = 0; i < 8 && s && typeof s.$ref === 'string' && s.$ref.startsWith('#/'); i += 1) {
    s = s.$ref.slice(2).split('/').reduce((node, key) => node?.[key], root);
  }
  return s;
}

/** The allowed values of an enum-like schema: `enum`, or `oneOf`/`anyOf` of `const`s. */
function enumValues(schema, root) {
  const s = deref(schema, root);
  if (Array.isArray(s?.enum)) return s.enum;
  const options = s?.oneOf ?? s?.anyOf;
  return Array.isArray(options) ? options.map((o) => deref(o, root)?.const).filter((v) => v !== undefined) : [];
}

/**
 * Checks one tool of a tools/list result against `spec`:
 * { name, args: { argName: 'string' | 'number' | ['number', 'integer'] | { enum: [...] } }, required: [...] }
 */
function checkToolShape(tools, spec) {
  const tool = tools.find((t) => t.name === spec.name);
  assert(tool, `tool ${spec.name} not listed (have: ${tools.map((t) => t.name).join(', ')})`);
  assert(typeof tool.description === 'string' && tool.description.length > 0, `${spec.name} has no description`);
  const schema = tool.inputSchema;
  assertEqual(schema?.type, 'object', `${spec.name} inputSchema.type`);
  for (const [arg, want] of Object.entries(spec.args ?? {})) {
    const prop = deref(schema.properties?.[arg], schema);
    assert(prop, `${spec.name} inputSchema has no property ${arg}`);
    if (want?.enum) {
      assertEqual([...enumValues(prop, schema)].sort(), [...want.enum].sort(), `${spec.name}.${arg} allowed values`);
    } else {
      const allowed = [want].flat();
      const types = [prop.type].flat();
      assert(types.some((t) => allowed.includes(t)), `${spec.name}.${arg} type: expected ${allowed.join('|')}, got ${show(prop.type)}`);
    }
  }
  for (const arg of spec.required ?? []) {
    assert(schema.required?.includes(arg), `${spec.name} inputSchema.required lacks ${arg} (got ${show(schema.required)})`);
  }
}

/**
 * Calls `tool` with a progress callback, aborts the call (AbortController -> the SDK sends
 * notifications/cancelled) after the first progress notification, and verifies the server
 * stopped the handler: no response for that request and no further progress for its token.
 * With `disconnect` (a stateless server, where notifications/cancelled arrives as a POST of
 * its own and so reaches no running request) the client also aborts the HTTP request that
 * carries the call, which is how a stateless server learns of the cancellation.
 */
async function cancelAfterFirstProgress(conn, tool, args, { disconnect = false } = {}) {
  const { client, wire, errors } = conn;
  const abort = new AbortController();
  let firstProgress;
  const progressed = new Promise((resolve) => {
    firstProgress = resolve;
  });
  const outcome = client
    .callTool({ name: tool, arguments: args }, CallToolResultSchema, { ...CALL, signal: abort.signal, onprogress: firstProgress })
    .then((result) => ({ result }), (error) => ({ error }));
  const first = await Promise.race([
    progressed.then((progress) => ({ progress })),
    outcome,
    sleep(FIRST_PROGRESS_WITHIN_MS).then(() => ({ late: true })),
  ]);
  if (!first.progress) abort.abort(new Error('interop: giving up'));
  assert(!first.late, `no progress notification within ${FIRST_PROGRESS_WITHIN_MS} ms`);
  assert(!first.result, `call finished before any progress notification: ${show(first.result)}`);
  assert(!first.error, `call failed before any progress notification: ${first.error?.message}`);

  const { request, id } = wire.exchange('tools/call', (p) => p.name === tool);
  const token = request?.message.params?._meta?.progressToken;
  if (disconnect) {
    assert(conn.http?.abortRequest(id, new Error('interop: disconnect to cancel')), `no HTTP request carried request ${id}`);
  }
  abort.abort(new Error('interop: cancelled after the first progress notification'));
  const cancelledAt = performance.now();
  const ended = await outcome;
  assert(ended.error, `call resolved despite the abort: ${show(ended.result)}`);
  const cancel = wire.entries.findLast((e) => e.dir === 'out' && e.message.method === 'notifications/cancelled');
  assert(cancel && cancel.message.params?.requestId === id, `the SDK did not send notifications/cancelled for request ${id}`);

  await sleep(CANCEL_QUIET_MS);
  const late = wire.inboundBetween(cancel, undefined, (m) => m.id === id || (m.method === 'notifications/progress' && m.params?.progressToken === token));
  const tooLate = late.filter((e) => e.at - cancelledAt > CANCEL_GRACE_MS);
  assert(
    tooLate.length === 0,
    `handler kept running after notifications/cancelled: ${tooLate.map((e) => e.message.method ?? 'response').join(', ')}`,
  );
  const unknown = errors.filter((e) => e.at > cancelledAt + CANCEL_GRACE_MS && /unknown (token|message ID)/.test(e.message));
  assert(unknown.length === 0, `late messages for the cancelled request: ${unknown.map((e) => e.message).join('; ')}`);
}

/** Calls `tool` with a progress callback; returns the result and the progress updates seen before it. */
async function callWithProgress(client, tool, args) {
  const updates = [];
  const result = await client.callTool({ name: tool, arguments: args }, CallToolResultSchema, {
    ...CALL,
    onprogress: (p) => updates.push(p),
  });
  return { result, updates };
}

function assertNonDecreasing(updates) {
  for (let i = 1; i < updates.length; i += 1) {
    assert(updates[i].progress >= updates[i - 1].progress, `progress went backwards: ${show(updates.map((u) => u.progress))}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario `demo`: the demo server of `oxmcp serve --stdio`

const DEMO_TOOLS = [
  { name: 'echo', args: { message: 'string' }, required: ['message'] },
  {
    name: 'calculate',
    args: { a: 'number', b: 'number', op: { enum: ['add', 'subtract', 'multiply', 'divide'] } },
    required: ['a', 'b', 'op'],
  },
  { name: 'slow', args: { seconds: ['number', 'integer'] } },
];

/** [check name, tool, arguments, expectation(result)] */
const DEMO_CALLS = [
  ['echo returns its message', 'echo', { message: 'hello from the TypeScript SDK' },
    (r) => assertEqual(onlyText(r), 'hello from the TypeScript SDK', 'echo text')],
  ['calculate 2 add 3 = 5', 'calculate', { a: 2, b: 3, op: 'add' }, (r) => assertEqual(onlyText(r), '5', 'text')],
  ['calculate 7 subtract 10 = -3', 'calculate', { a: 7, b: 10, op: 'subtract' }, (r) => assertEqual(onlyText(r), '-3', 'text')],
  ['calculate 6 multiply 7 = 42', 'calculate', { a: 6, b: 7, op: 'multiply' }, (r) => assertEqual(onlyText(r), '42', 'text')],
  ['calculate 7 divide 2 = 3.5', 'calculate', { a: 7, b: 2, op: 'divide' }, (r) => assertEqual(onlyText(r), '3.5', 'text')],
  ['calculate divide by zero is an isError result', 'calculate', { a: 1, b: 0, op: 'divide' }, (r) => {
    const text = assertToolError(r, 'divide by zero');
    assert(/zero|divi|\b0\b/i.test(text), `error text does not explain the division by zero: ${text}`);
  }],
  ['echo without message is an isError result naming `message`', 'echo', {},
    (r) => assert(assertToolError(r, 'echo {}').includes('message'), `error text does not name \`message\`: ${allText(r)}`)],
];

async function demoScenario(runner, server) {
  const conn = await connect(server, { capabilities: {} });
  const { client } = conn;
  await checkInitialize(runner, conn, (caps) => assert(caps?.tools, 'server does not declare the tools capability'));

  let tools = [];
  await runner.check('tools/list shows echo, calculate, slow with their arguments', async () => {
    ({ tools } = await client.listTools(undefined, CALL));
    for (const spec of DEMO_TOOLS) checkToolShape(tools, spec);
  });

  for (const [name, tool, toolArgs, expect] of DEMO_CALLS) {
    await runner.check(name, async () => expect(await client.callTool({ name: tool, arguments: toolArgs }, CallToolResultSchema, CALL)));
  }

  await runner.check('unknown tool is JSON-RPC error -32602', () =>
    assertRpcError(client.callTool({ name: 'no_such_tool', arguments: {} }, CallToolResultSchema, CALL), -32602, 'no_such_tool'));

  await runner.check('slow 2 s reports progress and mentions the seconds', async () => {
    const { result, updates } = await callWithProgress(client, 'slow', { seconds: 2 });
    assertSuccess(result, 'slow');
    assert(updates.length >= 1, 'no progress notification before the result');
    assertNonDecreasing(updates);
    assert(/\b2\b/.test(allText(result)), `result text does not mention 2 seconds: ${allText(result)}`);
    return `${updates.length} progress notifications`;
  });

  await runner.check('slow 30 s is cancelled after its first progress notification', () =>
    cancelAfterFirstProgress(conn, 'slow', { seconds: 30 }));

  await runner.check('ping answered after the cancellation', async () => assertEqual(await client.ping(CALL), {}, 'ping result'));
  await runner.check('tools/list answered after the cancellation', async () => {
    const { tools: again } = await client.listTools(undefined, CALL);
    assertEqual(again.map((t) => t.name).sort(), tools.map((t) => t.name).sort(), 'tool names');
  });

  await closeAndCheckExit(runner, conn);
}

async function checkInitialize(runner, conn, checkCaps) {
  await runner.check(`initialize negotiates ${PROTOCOL_VERSION}`, async () => {
    const { response } = conn.wire.exchange('initialize');
    assert(response?.message.result, 'no initialize result on the wire');
    const { protocolVersion, serverInfo, capabilities } = response.message.result;
    assertEqual(protocolVersion, PROTOCOL_VERSION, 'protocolVersion');
    assert(serverInfo?.name && serverInfo?.version, `serverInfo lacks name or version: ${show(serverInfo)}`);
    checkCaps(capabilities);
    return `${serverInfo.name} ${serverInfo.version}`;
  });
}

// ---------------------------------------------------------------------------------------------
// Scenario `fixture`: the conformance fixture server (tools/resources/prompts named by the
// conformance suite 0.1.16, plus test_list_roots and the task-capable test_slow).

const SAMPLED_TEXT = 'Sampled reply from the oxmcp interop client';
const ROOTS = [
  { uri: 'file:///tmp/oxmcp-interop/alpha', name: 'alpha' },
  { uri: 'file:///tmp/oxmcp-interop/beta', name: 'beta' },
];
const TASK_TTL_MS = 60_000;

const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'address',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
  },
  additionalProperties: false,
  allOf: [{ anyOf: [{ required: ['name'] }, { required: ['address'] }, { maxProperties: 0 }] }],
  if: { required: ['address'] },
  then: { properties: { address: { type: 'object' } } },
  else: { properties: { name: { type: 'string' } } },
};

/** A value that fits `prop`, deliberately not its default (so an echo proves the round trip). */
function sampleValue(key, prop = {}) {
  const pick = (values) => values.find((v) => v !== prop.default) ?? values[0];
  const clamp = (v) => Math.min(prop.maximum ?? Infinity, Math.max(prop.minimum ?? -Infinity, v));
  switch (prop.type) {
    case 'boolean':
      return typeof prop.default === 'boolean' ? !prop.default : true;
    case 'integer':
      return clamp(typeof prop.default === 'number' ? prop.default + 1 : 7);
    case 'number':
      return clamp(typeof prop.default === 'number' ? prop.default + 0.25 : 3.25);
    case 'array': {
      const values = enumValues(prop.items ?? {}, prop);
      return values.slice(0, Math.max(1, Math.min(2, prop.maxItems ?? 2)));
    }
    default: {
      const values = enumValues(prop, prop);
      if (values.length > 0) return pick(values);
      if (prop.format === 'email') return `interop-${key}@example.com`;
      if (prop.format === 'uri') return `https://example.com/interop/${key}`;
      if (prop.format === 'date') return '2025-11-25';
      if (prop.format === 'date-time') return '2025-11-25T12:00:00Z';
      return `interop-${key}`;
    }
  }
}

/** Accept-content for a form elicitation's requestedSchema. */
function formAnswer(schema) {
  return Object.fromEntries(Object.entries(schema?.properties ?? {}).map(([k, p]) => [k, sampleValue(k, p)]));
}

/** Client-side handlers for the requests the server makes during tool calls. */
function fixtureHandlers(seen) {
  return (client) => {
    client.setRequestHandler(CreateMessageRequestSchema, async () => {
      return { role: 'assistant', content: { type: 'text', text: SAMPLED_TEXT }, model: 'oxmcp-interop-model', stopReason: 'endTurn' };
    });
    client.setRequestHandler(ElicitRequestSchema, async (request, extra) => {
      const params = request.params;
      if (params.mode === 'url') {
        seen.elicitation.set(extra.requestId, undefined);
        return { action: 'accept' };
      }
      const answer = formAnswer(params.requestedSchema);
      seen.elicitation.set(extra.requestId, answer);
      return { action: 'accept', content: answer };
    });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: ROOTS }));
  };
}

/** The result text must say the elicitation was accepted and carry every string we answered. */
function assertEchoesAnswer(result, answer, what) {
  assertSuccess(result, what);
  const text = allText(result);
  assert(/accept/i.test(text), `${what}: result text does not report action accept: ${text}`);
  const strings = Object.values(answer ?? {}).flat().filter((v) => typeof v === 'string');
  const missing = strings.filter((s) => !text.includes(s));
  assert(missing.length === 0, `${what}: result text does not echo ${show(missing)}: ${text}`);
}

/**
 * The single elicitation/create request the server made during the newest call of `tool`:
 * its params as sent on the wire and the content our handler answered with.
 */
function elicitationDuring(conn, seen, tool) {
  const { request, response } = conn.wire.exchange('tools/call', (p) => p.name === tool);
  const during = conn.wire.inboundBetween(request, response, (m) => m.method === 'elicitation/create');
  assertEqual(during.length, 1, `elicitation/create requests during ${tool}`);
  const { id, params } = during[0].message;
  assert(seen.elicitation.has(id), `elicitation request ${id} did not reach the handler`);
  return { params, answer: seen.elicitation.get(id) };
}

function prop(schema, key, what) {
  const p = schema?.properties?.[key];
  assert(p, `${what}: requestedSchema has no property ${key}`);
  return p;
}

function assertSep1034Schema(schema) {
  const expected = {
    name: ['string', 'John Doe'],
    age: ['integer', 30],
    score: ['number', 95.5],
    status: ['string', 'active'],
    verified: ['boolean', true],
  };
  for (const [key, [type, def]] of Object.entries(expected)) {
    const p = prop(schema, key, 'sep1034');
    assertEqual(p.type, type, `sep1034 ${key}.type`);
    assertEqual(p.default, def, `sep1034 ${key}.default`);
  }
  assert(Array.isArray(schema.properties.status.enum), 'sep1034 status has no enum array');
  assert(schema.properties.status.enum.includes('active'), 'sep1034 status.default is not one of its enum values');
}

function assertConstTitles(options, what) {
  assert(Array.isArray(options) && options.length > 0, `${what} is not a non-empty array`);
  assert(
    options.every((o) => typeof o.const === 'string' && typeof o.title === 'string'),
    `${what} items need string const and title: ${show(options)}`,
  );
}

function assertSep1330Schema(schema) {
  const untitledSingle = prop(schema, 'untitledSingle', 'sep1330');
  assertEqual(untitledSingle.type, 'string', 'untitledSingle.type');
  assert(Array.isArray(untitledSingle.enum), 'untitledSingle has no enum array');
  assert(!untitledSingle.oneOf && !untitledSingle.enumNames, 'untitledSingle must not have oneOf or enumNames');

  const titledSingle = prop(schema, 'titledSingle', 'sep1330');
  assertEqual(titledSingle.type, 'string', 'titledSingle.type');
  assertConstTitles(titledSingle.oneOf, 'titledSingle.oneOf');
  assert(!titledSingle.enum, 'titledSingle must use oneOf, not enum');

  const legacy = prop(schema, 'legacyEnum', 'sep1330');
  assertEqual(legacy.type, 'string', 'legacyEnum.type');
  assert(Array.isArray(legacy.enum) && Array.isArray(legacy.enumNames), 'legacyEnum needs enum and enumNames arrays');
  assertEqual(legacy.enumNames.length, legacy.enum.length, 'legacyEnum enumNames length');

  const untitledMulti = prop(schema, 'untitledMulti', 'sep1330');
  assertEqual(untitledMulti.type, 'array', 'untitledMulti.type');
  assertEqual(untitledMulti.items?.type, 'string', 'untitledMulti.items.type');
  assert(Array.isArray(untitledMulti.items?.enum), 'untitledMulti.items has no enum array');
  assert(!untitledMulti.items.anyOf, 'untitledMulti.items must use enum, not anyOf');

  const titledMulti = prop(schema, 'titledMulti', 'sep1330');
  assertEqual(titledMulti.type, 'array', 'titledMulti.type');
  assertConstTitles(titledMulti.items?.anyOf, 'titledMulti.items.anyOf');
  assert(!titledMulti.items.enum, 'titledMulti.items must use anyOf, not enum');
}

/** tools/list expectations for the fixture (test_reconnection is HTTP-only and not required). */
const FIXTURE_TOOLS = [
  { name: 'test_simple_text' },
  { name: 'test_image_content' },
  { name: 'test_audio_content' },
  { name: 'test_embedded_resource' },
  { name: 'test_multiple_content_types' },
  { name: 'test_tool_with_logging' },
  { name: 'test_tool_with_progress' },
  { name: 'test_error_handling' },
  { name: 'test_sampling', args: { prompt: 'string' }, required: ['prompt'] },
  { name: 'test_elicitation', args: { message: 'string' }, required: ['message'] },
  { name: 'test_elicitation_sep1034_defaults' },
  { name: 'test_elicitation_sep1330_enums' },
  { name: 'json_schema_2020_12_tool' },
  { name: 'test_list_roots' },
  { name: 'test_slow', args: { seconds: ['number', 'integer'] } },
];

/**
 * [check name, tool, arguments (undefined: omit the key, as the suite does), expectation].
 * An expectation gets (result, ctx) with ctx = { conn, seen }.
 */
const FIXTURE_CALLS = [
  ['test_simple_text (arguments omitted) returns its text', 'test_simple_text', undefined,
    (r) => assertEqual(onlyText(r), 'This is a simple text response for testing.', 'text')],
  ['test_image_content returns a PNG image', 'test_image_content', {}, (r) => {
    const image = r.content?.find((c) => c.type === 'image');
    assert(image, `no image content: ${show(r.content)}`);
    assertEqual(image.mimeType, 'image/png', 'mimeType');
    assertBase64Magic(image.data, PNG_MAGIC, 'image');
  }],
  ['test_audio_content returns audio/wav', 'test_audio_content', {}, (r) => {
    const audio = r.content?.find((c) => c.type === 'audio');
    assert(audio, `no audio content: ${show(r.content)}`);
    assertEqual(audio.mimeType, 'audio/wav', 'mimeType');
    assertBase64Magic(audio.data, RIFF_MAGIC, 'audio');
  }],
  ['test_embedded_resource returns the embedded text resource', 'test_embedded_resource', {}, (r) => {
    const item = r.content?.find((c) => c.type === 'resource');
    assert(item, `no resource content: ${show(r.content)}`);
    assertEqual(item.resource, { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' }, 'resource');
  }],
  ['test_multiple_content_types returns text, image and resource', 'test_multiple_content_types', {}, (r) => {
    assertEqual(r.content?.map((c) => c.type), ['text', 'image', 'resource'], 'content types');
    assertEqual(r.content[0].text, 'Multiple content types test:', 'text item');
    assertEqual(r.content[1].mimeType, 'image/png', 'image mimeType');
    assertBase64Magic(r.content[1].data, PNG_MAGIC, 'image');
    const { uri, mimeType, text } = r.content[2].resource ?? {};
    assertEqual([uri, mimeType], ['test://mixed-content-resource', 'application/json'], 'resource uri and mimeType');
    assertEqual(JSON.parse(text), { test: 'data', value: 123 }, 'resource JSON');
  }],
  ['test_error_handling returns an isError result', 'test_error_handling', {}, (r) =>
    assertEqual(assertToolError(r, 'test_error_handling'), 'This tool intentionally returns an error for testing', 'error text')],
  ['test_sampling asks the client to sample and returns the sampled text', 'test_sampling', { prompt: 'Test prompt for sampling' },
    (r, { conn }) => {
      const { request, response } = conn.wire.exchange('tools/call', (p) => p.name === 'test_sampling');
      const during = conn.wire.inboundBetween(request, response, (m) => m.method === 'sampling/createMessage');
      assertEqual(during.length, 1, 'sampling/createMessage requests during the call');
      const params = during[0].message.params;
      assertEqual(params.messages?.[0]?.role, 'user', 'sampling messages[0].role');
      assertEqual(params.messages?.[0]?.content, { type: 'text', text: 'Test prompt for sampling' }, 'sampling messages[0].content');
      assertEqual(params.maxTokens, 100, 'sampling maxTokens');
      assertSuccess(r, 'test_sampling');
      assert(allText(r).includes(SAMPLED_TEXT), `result does not contain the sampled text: ${allText(r)}`);
    }],
  ['test_elicitation asks for input and echoes the accepted content', 'test_elicitation', { message: 'Please provide your information' },
    (r, { conn, seen }) => {
      const { params, answer } = elicitationDuring(conn, seen, 'test_elicitation');
      assertEqual(params.message, 'Please provide your information', 'elicitation message');
      assertEqual(params.requestedSchema?.type, 'object', 'requestedSchema.type');
      assert(Object.keys(params.requestedSchema?.properties ?? {}).length > 0, 'requestedSchema has no properties');
      assertEchoesAnswer(r, answer, 'test_elicitation');
    }],
  ['test_elicitation_sep1034_defaults requests defaults for every primitive type', 'test_elicitation_sep1034_defaults', {},
    (r, { conn, seen }) => {
      const { params, answer } = elicitationDuring(conn, seen, 'test_elicitation_sep1034_defaults');
      assertSep1034Schema(params.requestedSchema);
      assertEchoesAnswer(r, answer, 'test_elicitation_sep1034_defaults');
    }],
  ['test_elicitation_sep1330_enums requests the five enum variants', 'test_elicitation_sep1330_enums', {},
    (r, { conn, seen }) => {
      const { params, answer } = elicitationDuring(conn, seen, 'test_elicitation_sep1330_enums');
      assertSep1330Schema(params.requestedSchema);
      assertEchoesAnswer(r, answer, 'test_elicitation_sep1330_enums');
    }],
  ['json_schema_2020_12_tool accepts arguments that fit its schema', 'json_schema_2020_12_tool',
    { name: 'Ada', address: { street: '1 Analytical Way', city: 'London' } },
    (r) => assertSuccess(r, 'json_schema_2020_12_tool')],
  ['test_list_roots asks the client for roots and returns both URIs', 'test_list_roots', {}, (r, { conn }) => {
    const { request, response } = conn.wire.exchange('tools/call', (p) => p.name === 'test_list_roots');
    const during = conn.wire.inboundBetween(request, response, (m) => m.method === 'roots/list');
    assert(during.length >= 1, 'no roots/list request during the call');
    assertSuccess(r, 'test_list_roots');
    const text = allText(r);
    for (const root of ROOTS) assert(text.includes(root.uri), `result text lacks ${root.uri}: ${text}`);
  }],
];

const LOG_TEXTS = ['Tool execution started', 'Tool processing data', 'Tool execution completed'];

/** Resource reads: [check name, uri, expectation(contents)] */
const FIXTURE_READS = [
  ['read test://static-text', 'test://static-text', (contents) =>
    assertEqual(contents, [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }], 'contents')],
  ['read test://static-binary', 'test://static-binary', (contents) => {
    assertEqual(contents.length, 1, 'contents length');
    assertEqual([contents[0].uri, contents[0].mimeType], ['test://static-binary', 'image/png'], 'uri and mimeType');
    assertBase64Magic(contents[0].blob, PNG_MAGIC, 'blob');
  }],
  ['read test://template/42/data (template)', 'test://template/42/data', (contents) => {
    assertEqual(contents.length, 1, 'contents length');
    assertEqual([contents[0].uri, contents[0].mimeType], ['test://template/42/data', 'application/json'], 'uri and mimeType');
    const data = JSON.parse(contents[0].text);
    assertEqual(String(data.id), '42', 'id substituted into the JSON');
  }],
];

/** Prompts: [check name, prompt, arguments, expectation(messages)] */
const FIXTURE_PROMPTS = [
  ['get test_simple_prompt', 'test_simple_prompt', undefined, (messages) =>
    assertEqual(messages, [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }], 'messages')],
  ['get test_prompt_with_arguments substitutes both arguments', 'test_prompt_with_arguments', { arg1: 'hello', arg2: 'world' },
    (messages) => assertEqual(messages, [{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='hello', arg2='world'" } }], 'messages')],
  ['get test_prompt_with_embedded_resource embeds the given URI', 'test_prompt_with_embedded_resource',
    { resourceUri: 'test://example-resource' }, (messages) => {
      const embedded = messages.find((m) => m.content?.type === 'resource');
      assert(embedded, `no resource message: ${show(messages)}`);
      assertEqual(embedded.content.resource, { uri: 'test://example-resource', mimeType: 'text/plain', text: 'Embedded resource content for testing.' }, 'resource');
      assert(messages.some((m) => m.content?.type === 'text'), 'no text message');
    }],
  ['get test_prompt_with_image returns a PNG', 'test_prompt_with_image', undefined, (messages) => {
    const image = messages.find((m) => m.content?.type === 'image');
    assert(image, `no image message: ${show(messages)}`);
    assertEqual(image.content.mimeType, 'image/png', 'mimeType');
    assertBase64Magic(image.content.data, PNG_MAGIC, 'image');
  }],
];

const PROMPT_ARGS = {
  test_simple_prompt: [],
  test_prompt_with_arguments: ['arg1', 'arg2'],
  test_prompt_with_embedded_resource: ['resourceUri'],
  test_prompt_with_image: [],
};

async function pollTask(client, taskId, done) {
  const deadline = performance.now() + CALL_TIMEOUT_MS;
  const statuses = [];
  for (;;) {
    const task = await client.experimental.tasks.getTask(taskId, CALL);
    assertEqual(task.taskId, taskId, 'tasks/get taskId');
    if (statuses.at(-1) !== task.status) statuses.push(task.status);
    if (done(task)) return { task, statuses };
    assert(performance.now() < deadline, `task still ${task.status} after ${CALL_TIMEOUT_MS} ms (${statuses.join(' -> ')})`);
    await sleep(Math.min(Math.max(task.pollInterval ?? 200, 50), 1_000));
  }
}

const isTerminal = (task) => ['completed', 'failed', 'cancelled'].includes(task.status);

function createTask(client, tool, args) {
  return client.request(
    { method: 'tools/call', params: { name: tool, arguments: args } },
    CreateTaskResultSchema,
    { ...CALL, task: { ttl: TASK_TTL_MS } },
  );
}

/**
 * The fixture scenario per server mode. `fixture` is the reference: over stdio or stateful
 * Streamable HTTP with SSE replies, where every check holds. Each HTTP variant lists where
 * it departs from it, and why; a departing check says so in its name or in a SKIP/TODO.
 *
 * - session: the server issues an Mcp-Session-Id (false: stateless, every POST stands alone).
 * - replies: how the server answers a POST that carries a request ('sse': SSE when the
 *   handler sends related messages first, else JSON; 'json': always JSON).
 * - related: where progress and log notifications of a call go: 'reply' (the POST's SSE
 *   stream, before the result), 'get' (the session's GET stream, the only SSE stream of
 *   JSON mode, which is not ordered with the POST's reply, so they may land after the
 *   result) or 'none' (stateless JSON mode has no SSE stream at all).
 * - clientRequests: sampling, elicitation and roots work (false: without a session the
 *   client's answer, a POST of its own, could reach no running handler, and the server
 *   refuses to ask: the tool returns an isError result naming the capability).
 * - cancel: how a call is cancelled: 'notification' (notifications/cancelled), 'disconnect'
 *   (a stateless server only learns of it when the client aborts the HTTP request) or
 *   'none' (stateless JSON: no progress reaches the client, so nothing tells it the handler
 *   runs; the disconnect itself is covered by 'fixture-stateless' and by
 *   crates/oxmcp/tests/http.rs a_disconnect_cancels_a_request_without_a_session).
 */
const FIXTURE_MODES = {
  fixture: { session: true, replies: 'sse', related: 'reply', clientRequests: true, cancel: 'notification' },
  'fixture-json': { http: true, session: true, replies: 'json', related: 'get', clientRequests: true, cancel: 'notification' },
  'fixture-stateless': {
    http: true, session: false, replies: 'sse', related: 'reply', clientRequests: false, cancel: 'disconnect',
  },
  'fixture-stateless-json': {
    http: true, session: false, replies: 'json', related: 'none', clientRequests: false, cancel: 'none',
  },
};

/** How long notifications on the GET stream may trail the result of their call. */
const RELATED_TRAIL_MS = 2_000;

/** Tools that make a request to the client, and the capability each needs. */
const CLIENT_INPUT_TOOLS = {
  test_sampling: 'sampling',
  test_elicitation: 'elicitation',
  test_elicitation_sep1034_defaults: 'elicitation',
  test_elicitation_sep1330_enums: 'elicitation',
  test_list_roots: 'roots',
};

/** Without a session: the tool answers with an isError result naming the capability and asks the client nothing. */
async function checkClientInputRefused(conn, tool, toolArgs, need) {
  const params = toolArgs === undefined ? { name: tool } : { name: tool, arguments: toolArgs };
  const result = await conn.client.callTool(params, CallToolResultSchema, CALL);
  const text = assertToolError(result, tool);
  assert(text.includes(need), `${tool}: the error text does not name ${need}: ${text}`);
  const { request, response } = conn.wire.exchange('tools/call', (p) => p.name === tool);
  const asked = conn.wire.inboundBetween(request, response, (m) => m.method !== undefined && m.id !== undefined);
  assertEqual(asked.map((e) => e.message.method), [], `requests to the client during ${tool}`);
  return text;
}

/** Inbound notifications `method` after `request` (the whole call, and after it in 'get' mode). */
async function relatedOf(conn, mode, request, response, pred) {
  if (mode.related !== 'get') return conn.wire.inboundBetween(request, response, pred);
  await conn.wire.waitFor(() => pred.done(conn.wire.inboundBetween(request, undefined, pred)), RELATED_TRAIL_MS);
  return conn.wire.inboundBetween(request, undefined, pred);
}

async function fixtureScenario(runner, server, mode = FIXTURE_MODES.fixture) {
  const seen = { elicitation: new Map() };
  const conn = await connect(server, {
    capabilities: { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } },
    setup: fixtureHandlers(seen),
  });
  const { client, wire } = conn;
  const ctx = { conn, seen };

  await checkInitialize(runner, conn, (caps) => {
    for (const cap of ['tools', 'resources', 'prompts', 'logging', 'completions']) {
      assert(caps?.[cap], `server does not declare the ${cap} capability (has ${Object.keys(caps ?? {}).join(', ')})`);
    }
    if (mode.session) {
      assertEqual(caps.resources.subscribe, true, 'capabilities.resources.subscribe');
    } else {
      // Without a session nothing could deliver an update, run a task on or announce a change.
      assertEqual(caps.resources.subscribe, undefined, 'capabilities.resources.subscribe without a session');
      assertEqual(caps.tasks, undefined, 'capabilities.tasks without a session');
      for (const cap of ['tools', 'resources', 'prompts']) {
        assertEqual(caps[cap].listChanged, undefined, `capabilities.${cap}.listChanged without a session`);
      }
    }
  });

  let tools = [];
  await runner.check('tools/list: every fixture tool, each with a description', async () => {
    ({ tools } = await client.listTools(undefined, CALL));
    for (const spec of FIXTURE_TOOLS) checkToolShape(tools, spec);
    const bare = tools.filter((t) => !t.description);
    assert(bare.length === 0, `tools without description: ${bare.map((t) => t.name).join(', ')}`);
  });
  await runner.check('json_schema_2020_12_tool keeps its 2020-12 inputSchema exactly', async () => {
    const tool = tools.find((t) => t.name === 'json_schema_2020_12_tool');
    assert(tool, 'json_schema_2020_12_tool not listed');
    assertEqual(tool.inputSchema, JSON_SCHEMA_2020_12, 'inputSchema');
  });

  for (const [name, tool, toolArgs, expect] of FIXTURE_CALLS) {
    const need = CLIENT_INPUT_TOOLS[tool];
    if (need && !mode.clientRequests) {
      await runner.check(`${tool} without a session is an isError result naming ${need}, no request to the client`, () =>
        checkClientInputRefused(conn, tool, toolArgs, need));
      continue;
    }
    await runner.check(name, async () => {
      const params = toolArgs === undefined ? { name: tool } : { name: tool, arguments: toolArgs };
      expect(await client.callTool(params, CallToolResultSchema, CALL), ctx);
    });
  }

  await runner.check('logging/setLevel debug returns {}', async () =>
    assertEqual(await client.setLoggingLevel('debug', CALL), {}, 'result'));
  const where = { reply: 'before the result', get: 'on the GET stream', none: '' }[mode.related];
  if (mode.related === 'none') {
    runner.note('stateless JSON mode has no SSE stream: progress and log notifications of a call cannot reach the client');
  }
  const logName = mode.related === 'none'
    ? 'test_tool_with_logging succeeds without a stream for its log messages'
    : `test_tool_with_logging sends its 3 log messages ${where}, in order`;
  await runner.check(logName, async () => {
    const result = await client.callTool({ name: 'test_tool_with_logging', arguments: {} }, CallToolResultSchema, CALL);
    assertSuccess(result, 'test_tool_with_logging');
    if (mode.related === 'none') return undefined;
    const { request, response } = wire.exchange('tools/call', (p) => p.name === 'test_tool_with_logging');
    const isLog = Object.assign((m) => m.method === 'notifications/message', { done: (seen) => seen.length >= LOG_TEXTS.length });
    const during = (await relatedOf(conn, mode, request, response, isLog)).map((e) => e.message.params);
    const texts = during.map((p) => (typeof p.data === 'string' ? p.data : JSON.stringify(p.data)));
    let next = 0;
    for (const text of texts) if (next < LOG_TEXTS.length && text.includes(LOG_TEXTS[next])) next += 1;
    assert(next === LOG_TEXTS.length, `expected ${show(LOG_TEXTS)} in order ${where}, got ${show(texts)}`);
    assert(during.every((p) => typeof p.level === 'string'), 'a log message has no level');
    return undefined;
  });

  const progressName = mode.related === 'none'
    ? 'test_tool_with_progress succeeds without a stream for its progress'
    : `test_tool_with_progress sends >= 3 increasing progress notifications ${where}`;
  await runner.check(progressName, async () => {
    const { result, updates } = await callWithProgress(client, 'test_tool_with_progress', {});
    assertSuccess(result, 'test_tool_with_progress');
    if (mode.related === 'none') return undefined;
    if (mode.related === 'get') {
      // Progress that trails the result never reaches the SDK's callback: read the wire.
      const { request, response } = wire.exchange('tools/call', (p) => p.name === 'test_tool_with_progress');
      const token = request?.message.params?._meta?.progressToken;
      const isProgress = Object.assign((m) => m.method === 'notifications/progress' && m.params?.progressToken === token, {
        done: (seen) => seen.length >= 3,
      });
      updates.splice(0, updates.length, ...(await relatedOf(conn, mode, request, response, isProgress)).map((e) => e.message.params));
    }
    assert(updates.length >= 3, `got ${updates.length} progress notifications ${where}`);
    assertNonDecreasing(updates);
    return `${updates.map((u) => `${u.progress}/${u.total ?? '?'}`).join(' ')}`;
  });

  if (mode.cancel === 'none') {
    runner.skip('test_slow 30 s is cancelled after its first progress notification',
      'stateless JSON mode: no progress reaches the client, so it cannot tell when the handler runs (see fixture-stateless)');
  } else {
    const how = mode.cancel === 'disconnect' ? ' by aborting its HTTP request' : '';
    await runner.check(`test_slow 30 s is cancelled${how} after its first progress notification`, () =>
      cancelAfterFirstProgress(conn, 'test_slow', { seconds: 30 }, { disconnect: mode.cancel === 'disconnect' }));
  }
  await runner.check('ping answered after the cancellation', async () => assertEqual(await client.ping(CALL), {}, 'ping result'));

  // Resources
  await runner.check('resources/list: static-text, static-binary, watched-resource (no templates)', async () => {
    const { resources } = await client.listResources(undefined, CALL);
    const uris = resources.map((r) => r.uri);
    for (const uri of ['test://static-text', 'test://static-binary', 'test://watched-resource']) {
      assert(uris.includes(uri), `${uri} not listed (have ${uris.join(', ')})`);
    }
    assert(resources.every((r) => r.name), 'a resource has no name');
    assert(!uris.some((u) => u.includes('{')), `a template is listed as a resource: ${uris.join(', ')}`);
  });
  await runner.check('resources/templates/list: test://template/{id}/data', async () => {
    const { resourceTemplates } = await client.listResourceTemplates(undefined, CALL);
    const template = resourceTemplates.find((t) => t.uriTemplate === 'test://template/{id}/data');
    assert(template, `template not listed (have ${resourceTemplates.map((t) => t.uriTemplate).join(', ')})`);
    assert(template.name, 'template has no name');
  });
  for (const [name, uri, expect] of FIXTURE_READS) {
    await runner.check(name, async () => expect((await client.readResource({ uri }, CALL)).contents));
  }
  if (mode.session) {
    await runner.check('subscribe then unsubscribe test://watched-resource', async () => {
      assertEqual(await client.subscribeResource({ uri: 'test://watched-resource' }, CALL), {}, 'subscribe result');
      assertEqual(await client.unsubscribeResource({ uri: 'test://watched-resource' }, CALL), {}, 'unsubscribe result');
    });
  } else {
    await runner.check('without a session resources/subscribe is -32601 (not declared)', () =>
      assertRpcError(client.subscribeResource({ uri: 'test://watched-resource' }, CALL), -32601, 'resources/subscribe'));
  }

  // Prompts and completion
  await runner.check('prompts/list: the 4 fixture prompts with descriptions and arguments', async () => {
    const { prompts } = await client.listPrompts(undefined, CALL);
    for (const [name, argNames] of Object.entries(PROMPT_ARGS)) {
      const prompt = prompts.find((p) => p.name === name);
      assert(prompt, `${name} not listed (have ${prompts.map((p) => p.name).join(', ')})`);
      assert(prompt.description, `${name} has no description`);
      const declared = (prompt.arguments ?? []).filter((a) => a.required).map((a) => a.name).sort();
      assertEqual(declared, [...argNames].sort(), `${name} required arguments`);
    }
  });
  for (const [name, prompt, promptArgs, expect] of FIXTURE_PROMPTS) {
    await runner.check(name, async () => {
      const params = promptArgs === undefined ? { name: prompt } : { name: prompt, arguments: promptArgs };
      expect((await client.getPrompt(params, CALL)).messages);
    });
  }
  await runner.check('completion/complete for test_prompt_with_arguments arg1', async () => {
    const { completion } = await client.complete(
      { ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'test' } },
      CALL,
    );
    assert(Array.isArray(completion?.values), `completion.values is not an array: ${show(completion)}`);
    assert(completion.values.every((v) => typeof v === 'string'), 'completion values must be strings');
    assert(completion.values.length <= 100, 'more than 100 completion values');
    return `${completion.values.length} values`;
  });
  await runner.check('ping returns {}', async () => assertEqual(await client.ping(CALL), {}, 'ping result'));

  if (!mode.session) {
    for (const name of ['tools/call with params.task', 'tasks/get', 'tasks/result', 'tasks/cancel']) {
      runner.skip(`task: ${name}`, 'tasks need a session: the stateless server does not declare them (checked at initialize)');
    }
  } else {
    // Tasks (MCP 2025-11-25): task-augmented tools/call, tasks/get polling, tasks/result, tasks/cancel.
    await runner.check('server declares tasks.requests.tools.call and test_slow supports tasks', async () => {
      const caps = client.getServerCapabilities();
      assert(caps?.tasks?.requests?.tools?.call, `capabilities.tasks: ${show(caps?.tasks)}`);
      const slow = tools.find((t) => t.name === 'test_slow');
      assert(['optional', 'required'].includes(slow?.execution?.taskSupport), `test_slow execution: ${show(slow?.execution)}`);
    });
    const task = {};
    await runner.check('task: tools/call test_slow with params.task returns a CreateTaskResult', async () => {
      const created = await createTask(client, 'test_slow', { seconds: 2 });
      task.id = created.task.taskId;
      assert(typeof task.id === 'string' && task.id.length > 0, 'empty taskId');
      assertEqual(created.task.status, 'working', 'initial status');
      const sent = wire.exchange('tools/call', (p) => p.name === 'test_slow' && p.task).request;
      assertEqual(sent?.message.params.task, { ttl: TASK_TTL_MS }, 'params.task on the wire');
      return `taskId ${task.id}, ttl ${created.task.ttl}`;
    });
    await runner.check('task: tasks/get polls to completed', async () => {
      assert(task.id, 'needs the task of the previous check');
      const { task: final, statuses } = await pollTask(client, task.id, isTerminal);
      assertEqual(final.status, 'completed', `final status (${statuses.join(' -> ')})`);
      return statuses.join(' -> ');
    });
    await runner.check('task: tasks/result returns the tool result with related-task _meta', async () => {
      assert(task.id, 'needs the task of the previous check');
      const result = await client.experimental.tasks.getTaskResult(task.id, CallToolResultSchema, CALL);
      assertSuccess(result, 'tasks/result');
      assertEqual(result._meta?.['io.modelcontextprotocol/related-task'], { taskId: task.id }, '_meta related-task');
    });
    await runner.check('task: the SDK callToolStream drives a task to its result', async () => {
      const kinds = [];
      for await (const message of client.experimental.tasks.callToolStream(
        { name: 'test_slow', arguments: { seconds: 1 } }, CallToolResultSchema, { ...CALL, task: { ttl: TASK_TTL_MS } },
      )) {
        kinds.push(message.type);
        if (message.type === 'error') throw new CheckFailed(`stream error: ${message.error?.message}`);
        if (message.type === 'result') assertSuccess(message.result, 'streamed task result');
      }
      assertEqual(kinds[0], 'taskCreated', 'first stream message');
      assertEqual(kinds.at(-1), 'result', 'last stream message');
      return kinds.filter((k, i) => k !== kinds[i - 1]).join(' -> ');
    });
    const cancelled = {};
    await runner.check('task: tasks/cancel stops a working test_slow task', async () => {
      const created = await createTask(client, 'test_slow', { seconds: 30 });
      cancelled.id = created.task.taskId;
      await pollTask(client, cancelled.id, (t) => t.status === 'working' || isTerminal(t));
      const ack = await client.experimental.tasks.cancelTask(cancelled.id, CALL);
      assertEqual([ack.taskId, ack.status], [cancelled.id, 'cancelled'], 'tasks/cancel result taskId and status');
      await sleep(1_500);
      const after = await client.experimental.tasks.getTask(cancelled.id, CALL);
      assertEqual(after.status, 'cancelled', 'status 1.5 s after tasks/cancel');
      cancelled.done = true;
    });
    await runner.check('task: tasks/cancel on a terminal task is -32602', async () => {
      assert(cancelled.done, 'needs the task cancelled by the previous check');
      await assertRpcError(client.experimental.tasks.cancelTask(cancelled.id, CALL), -32602, 'second tasks/cancel');
    });
  }
  // With a session: an unknown task (-32602); without one tasks are not declared (-32601).
  const unknownTaskCode = mode.session ? -32602 : -32601;
  await runner.check(`task: tasks/get for an unknown taskId is ${unknownTaskCode}`, () =>
    assertRpcError(client.experimental.tasks.getTask('oxmcp-interop-no-such-task', CALL), unknownTaskCode, 'tasks/get'));

  await runner.check('no request the server sent to the client went unanswered', async () => {
    const pending = wire.entries.filter((e) => e.dir === 'in' && e.message.method && e.message.id !== undefined)
      .filter((req) => !wire.entries.some((e) => e.dir === 'out' && e.message.id === req.message.id && !e.message.method));
    assert(pending.length === 0, `unanswered: ${pending.map((e) => e.message.method).join(', ')}`);
    const handlerErrors = conn.errors.filter((e) => /Uncaught error|handler/i.test(e.message));
    assert(handlerErrors.length === 0, handlerErrors.map((e) => e.message).join('; '));
  });

  if (conn.http) await httpChecks(runner, conn, mode);
  await closeAndCheckExit(runner, conn);
}

const essence = (contentType) => contentType?.split(';')[0].trim().toLowerCase();

/** What the HTTP exchanges of the run show about the server's mode. */
async function httpChecks(runner, conn, mode) {
  const { http, wire } = conn;
  const init = http.exchanges.find((e) => e.method === 'POST' && e.sent.some((m) => m.method === 'initialize'));
  if (mode.session) {
    await runner.check('HTTP: initialize issues an Mcp-Session-Id that every later request carries; GET opens a stream', async () => {
      assert(init?.session, `the initialize reply has no Mcp-Session-Id (${http.describe([init].filter(Boolean))})`);
      const later = http.exchanges.slice(http.exchanges.indexOf(init) + 1);
      const without = later.filter((e) => e.sessionSent !== init.session);
      assert(without.length === 0, `requests without the session id: ${http.describe(without)}`);
      const get = later.find((e) => e.method === 'GET' && !e.lastEventId);
      assert(get?.status === 200 && essence(get.contentType) === 'text/event-stream',
        `the SDK's GET stream: ${get ? http.describe([get]) : 'never opened'}`);
      return `${later.length} requests after initialize`;
    });
  } else {
    await runner.check('HTTP: stateless: no Mcp-Session-Id is issued and GET is 405', async () => {
      const issued = http.exchanges.filter((e) => e.session);
      assert(issued.length === 0, `replies with an Mcp-Session-Id: ${http.describe(issued)}`);
      const gets = http.exchanges.filter((e) => e.method === 'GET');
      assert(gets.length > 0, 'the SDK never tried to open the GET stream');
      const open = gets.filter((e) => e.status !== 405);
      assert(open.length === 0, `GET not refused with 405: ${http.describe(open)}`);
    });
  }

  const answered = new Set(wire.entries.filter((e) => e.dir === 'in' && e.message.method === undefined).map((e) => e.message.id));
  const posts = http.exchanges.filter((e) => e.method === 'POST' && e.sent.some((m) => m.method && m.id !== undefined));
  if (mode.replies === 'json') {
    await runner.check('HTTP: JSON mode: the POST of every answered request is answered with application/json', async () => {
      const done = posts.filter((e) => e.sent.every((m) => !m.method || m.id === undefined || answered.has(m.id)));
      const notJson = done.filter((e) => essence(e.contentType) !== 'application/json');
      assert(notJson.length === 0, `not JSON: ${http.describe(notJson)}`);
      const rest = posts.filter((e) => !done.includes(e));
      return `${done.length} POSTs${rest.length ? `; unanswered (cancelled): ${http.describe(rest)}` : ''}`;
    });
  } else {
    await runner.check('HTTP: a call that sends progress first is answered with SSE, a plain call with JSON', async () => {
      const kind = (tool) => {
        const { id } = wire.exchange('tools/call', (p) => p.name === tool);
        const post = http.postOf(id);
        assert(post, `no POST carried the ${tool} call`);
        return essence(post.contentType);
      };
      assertEqual(kind('test_tool_with_progress'), 'text/event-stream', 'reply to test_tool_with_progress');
      assertEqual(kind('test_simple_text'), 'application/json', 'reply to test_simple_text');
    });
  }

  if (mode.session) {
    // On a second session, so that the main one keeps its GET stream open for the SIGTERM check.
    await runner.check('HTTP: DELETE ends a session (its id then gets 404) and no other', async () => {
      const log = new HttpLog();
      const other = new Client({ name: 'oxmcp-interop-delete', version: '0.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(conn.url), { fetch: log.fetch });
      try {
        await other.connect(transport, CALL);
        const id = transport.sessionId;
        assert(id && id !== conn.transport.sessionId, `second session id: ${id}`);
        await transport.terminateSession();
        const del = log.exchanges.findLast((e) => e.method === 'DELETE');
        assertEqual(del?.status, 200, 'DELETE status');
        const after = await fetch(conn.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            'mcp-session-id': id,
            'mcp-protocol-version': PROTOCOL_VERSION,
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 'interop-after-delete', method: 'ping' }),
        });
        await after.body?.cancel();
        assertEqual(after.status, 404, 'status of a ping on the ended session');
      } finally {
        await other.close();
      }
      assertEqual(await conn.client.ping(CALL), {}, 'ping on the first session after the DELETE');
    });
  }
}

// ---------------------------------------------------------------------------------------------

const SCENARIOS = {
  demo: demoScenario,
  ...Object.fromEntries(Object.entries(FIXTURE_MODES).map(([name, mode]) => {
    const run = (runner, server) => fixtureScenario(runner, server, mode);
    return [name, Object.assign(run, { needsHttp: mode.http === true })];
  })),
};

function usage(message) {
  if (message) console.error(`stdio-client: ${message}`);
  console.error(`usage: node stdio-client.mjs <${Object.keys(SCENARIOS).join('|')}> [--http] -- <server command> [args...]`);
  console.error(`       node stdio-client.mjs <scenario> --http --url <url of a running server>`);
  process.exit(2);
}

async function main() {
  const argv = process.argv.slice(2);
  // `<scenario> --http --url URL`: a server that is already running.
  const urlAt = argv.indexOf('--url');
  const url = urlAt >= 0 ? argv[urlAt + 1] : undefined;
  if (urlAt >= 0 && (!url || !argv.includes('--http'))) usage('--url needs a URL and --http');
  if (url) argv.splice(urlAt, 2, '--', '(running)');
  const dashdash = argv.indexOf('--');
  if (dashdash < 1 || dashdash > 2 || argv.length < dashdash + 2) usage();
  const [scenario, ...flags] = argv.slice(0, dashdash);
  const unknown = flags.filter((f) => f !== '--http');
  if (unknown.length > 0) usage(`unknown option ${unknown[0]}`);
  const http = flags.includes('--http');
  const [command, ...args] = argv.slice(dashdash + 1);
  const run = SCENARIOS[scenario];
  if (!run) usage(`unknown scenario ${scenario}`);
  if (run.needsHttp && !http) usage(`scenario ${scenario} is for a server mode of Streamable HTTP: pass --http`);
  if (Number(process.versions.node.split('.')[0]) < 22) {
    console.error(`stdio-client: warning: running on Node ${process.version}; the harness is pinned to Node 22`);
  }

  const runner = new Runner();
  const watchdog = setTimeout(async () => {
    console.log(`not ok - scenario ${scenario} finished within ${TOTAL_TIMEOUT_MS} ms: timed out`);
    console.log(`# summary: ${scenario}: timed out after ${runner.count} checks`);
    await stopServers();
    process.exit(1);
  }, TOTAL_TIMEOUT_MS);
  watchdog.unref();

  console.log(`# scenario ${scenario} over ${http ? 'Streamable HTTP' : 'stdio'}: ${[command, ...args].join(' ')}`);
  try {
    await run(runner, { command, args, http, url });
  } catch (error) {
    // Only the handshake runs outside a check: report it as one.
    runner.count += 1;
    runner.failures += 1;
    console.log(`not ok - initialize: ${error?.message ?? error}`);
  }
  await stopServers();
  const extra = [runner.known && `${runner.known} known server issues`, runner.skipped && `${runner.skipped} skipped`].filter(Boolean);
  console.log(`# summary: ${scenario}: ${runner.count - runner.failures - runner.known - runner.skipped}/${runner.count} checks passed${extra.length ? ` (${extra.join(', ')})` : ''}`);
  process.exit(runner.failures === 0 ? 0 : 1);
}

await main();
