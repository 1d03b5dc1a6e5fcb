// HTTP mode of the interop harness: spawns a server that listens on Streamable HTTP, finds
// its URL, and records every HTTP exchange the SDK client makes. Used by stdio-client.mjs
// (`--http`); not a command of its own.

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Spawns `command args...` (stdin closed, stderr passed through) and waits for the first
 * stdout line, which must hold the endpoint URL (`listening on http://127.0.0.1:PORT/mcp`).
 * Later stdout lines are read and dropped, so the server never blocks on a full pipe.
 * Resolves { child, url, exited }; `exited` resolves { code, signal } when the process ends.
 */
export function spawnHttpServer(command, args, timeoutMs) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const lines = createInterface({ input: child.stdout });
  const url = new Promise((resolve, reject) => {
    let first = true;
    lines.on('line', (line) => {
      if (!first) return;
      first = false;
      const found = line.match(/https?:\/\/\S+/);
      if (found) resolve(found[0]);
      else reject(new Error(`the server's first stdout line holds no URL: ${JSON.stringify(line)}`));
    });
    child.once('error', (error) => reject(new Error(`cannot spawn ${command}: ${error.message}`)));
    exited.then(({ code, signal }) => reject(new Error(`the server exited (code ${code}, signal ${signal}) before printing its URL`)));
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the server printed no URL within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([url, timeout])
    .then((found) => ({ child, url: found, exited }))
    .catch((error) => {
      child.kill('SIGKILL');
      throw error;
    })
    .finally(() => clearTimeout(timer));
}

/** The JSON-RPC messages of a request body (one message or a batch); [] if not JSON. */
function bodyMessages(body) {
  if (typeof body !== 'string') return [];
  try {
    const parsed = JSON.parse(body);
    return Array.isArray(parsed) ? parsed : [parsed];
  } catch {
    return [];
  }
}

/**
 * The fetch the SDK's StreamableHTTPClientTransport uses: plain fetch, plus a log of every
 * exchange (method, JSON-RPC methods and ids sent, status, reply Content-Type, session
 * header) and a way to abort the one HTTP request that carries a given JSON-RPC request
 * (what a stateless client does to cancel: the SDK itself only sends
 * notifications/cancelled, which a stateless server cannot route to the running request).
 */
export class HttpLog {
  exchanges = [];
  /** JSON-RPC request id -> the AbortController of the POST that carried it. */
  #posts = new Map();
  #waiters = new Set();

  /** Resolves true once an exchange satisfies `pred` (checked as replies arrive), false after `ms`. */
  waitFor(pred, ms) {
    if (this.exchanges.some(pred)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (value) => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        resolve(value);
      };
      const waiter = () => this.exchanges.some(pred) && done(true);
      const timer = setTimeout(() => done(false), ms);
      this.#waiters.add(waiter);
    });
  }

  fetch = async (url, init = {}) => {
    const method = (init.method ?? 'GET').toUpperCase();
    const messages = bodyMessages(init.body);
    const headers = new Headers(init.headers);
    const own = new AbortController();
    for (const m of messages) if (m.method && m.id !== undefined) this.#posts.set(m.id, own);
    const entry = {
      method,
      sent: messages.map((m) => ({ method: m.method, id: m.id })),
      sessionSent: headers.get('mcp-session-id'),
      lastEventId: headers.get('last-event-id'),
    };
    this.exchanges.push(entry);
    const signal = init.signal ? AbortSignal.any([init.signal, own.signal]) : own.signal;
    try {
      const response = await fetch(url, { ...init, signal });
      entry.status = response.status;
      entry.contentType = response.headers.get('content-type');
      entry.session = response.headers.get('mcp-session-id');
      return response;
    } catch (error) {
      entry.error = String(error?.message ?? error);
      throw error;
    } finally {
      for (const waiter of this.#waiters) waiter();
    }
  };

  /** Aborts the HTTP request that carried JSON-RPC request `id`; false if there was none. */
  abortRequest(id, reason) {
    const controller = this.#posts.get(id);
    if (!controller) return false;
    controller.abort(reason);
    return true;
  }

  /** The POST that carried JSON-RPC request `id` (its newest). */
  postOf(id) {
    return this.exchanges.findLast((e) => e.method === 'POST' && e.sent.some((m) => m.method && m.id === id));
  }

  /** One line per exchange, for diagnostics. */
  describe(entries = this.exchanges) {
    return entries
      .map((e) => `${e.method} ${e.sent.map((m) => m.method ?? `response ${m.id}`).join(',') || '-'}`
        + ` -> ${e.status ?? e.error}${e.contentType ? ` ${e.contentType}` : ''}`)
      .join('; ');
  }
}
