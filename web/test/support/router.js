// build/wsrouter as a child process for the client's and the page's tests:
// the repository's config.yaml (demo feed on) on loopback, free ports or a
// given one (to restart on the same port), stopped by SIGTERM and awaited.
// Every wait is for an event with a deadline; nothing sleeps to synchronise.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const CONFIG = path.join(REPO, 'config.yaml');
const STEP_MS = 10000; // upper bound of any single wait
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls `predicate` until it returns a truthy value (returned) or the deadline passes.
export async function eventually(predicate, ms, what) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => { setTimeout(resolve, 25); });
  }
}

export class RouterProcess {
  // env: extra WSROUTER_* overrides.
  constructor(env = {}) {
    this.extraEnv = env;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wsrouter-web-'));
    this.proc = null;
  }

  file(name, content) {
    const p = path.join(this.dir, name);
    fs.writeFileSync(p, content);
    return p;
  }

  async start(port = 0) {
    const bin = process.env.WSROUTER;
    if (!bin) throw new Error('WSROUTER is not set: point it at the built router (build/wsrouter)');
    this.stderrPath = path.join(this.dir, `stderr-${Date.now()}`);
    const stderrFd = fs.openSync(this.stderrPath, 'w');
    const env = {
      ASAN_OPTIONS: 'halt_on_error=1:detect_leaks=1',
      UBSAN_OPTIONS: 'halt_on_error=1:print_stacktrace=1',
      ...process.env,
      WSROUTER_SERVER_PORT: String(port),
      WSROUTER_SERVER_HOST: '127.0.0.1',
      WSROUTER_SERVER_WORKERS: '1',
      WSROUTER_ADMIN_PORT: '0',
      WSROUTER_ADMIN_HOST: '127.0.0.1',
      WSROUTER_SHUTDOWN_DRAIN_DELAY_MS: '0',
      WSROUTER_SHUTDOWN_CLOSE_WINDOW_MS: '200',
      // A test reconnects and reloads from one address in quick succession.
      WSROUTER_LIMITS_CONNECTIONS_PER_ADDRESS: '0',
      WSROUTER_LIMITS_CONNECTION_ATTEMPTS_PER_MINUTE: '0',
      ...this.extraEnv,
    };
    this.proc = spawn(bin, ['--config', CONFIG], { stdio: ['ignore', 'pipe', stderrFd], env });
    fs.closeSync(stderrFd);
    const proc = this.proc;
    this.exitPromise = new Promise((resolve) => {
      proc.on('exit', (code, signal) => resolve({ code, signal }));
    });
    const lines = readline.createInterface({ input: proc.stdout });
    [this.port, this.adminPort] = await withTimeout(new Promise((resolve, reject) => {
      lines.on('line', (line) => {
        let event;
        try { event = JSON.parse(line); } catch { return; }
        if (event?.event !== 'serving') return;
        const ws = /:(\d+)\/ws$/.exec(event.ws || '');
        const admin = /:(\d+)$/.exec(event.admin || '');
        if (ws && admin) resolve([Number(ws[1]), Number(admin[1])]);
      });
      this.exitPromise.then(({ code }) => reject(new Error(`wsrouter exited (${code}) before serving: ${this.stderr()}`)));
    }), STEP_MS, "the 'serving' log line");
    return this;
  }

  get httpBase() { return `http://127.0.0.1:${this.port}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.port}/ws`; }

  stderr() {
    try { return fs.readFileSync(this.stderrPath, 'utf8'); } catch { return ''; }
  }

  // SIGTERM, then the exit awaited: code 0 and no sanitizer report.
  async stop() {
    if (!this.proc) return;
    const proc = this.proc;
    this.proc = null;
    if (proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGTERM');
    const result = await Promise.race([this.exitPromise, new Promise((r) => { setTimeout(() => r(null), STEP_MS).unref(); })]);
    if (result === null) {
      process.kill(proc.pid, 'SIGKILL');
      await this.exitPromise;
      throw new Error(`wsrouter did not exit within ${STEP_MS} ms of SIGTERM`);
    }
    const text = this.stderr();
    if (SANITIZER_MARKERS.some((m) => text.includes(m))) throw new Error(`sanitizer report:\n${text.slice(-8000)}`);
    if (result.code !== 0) throw new Error(`wsrouter ended with ${JSON.stringify(result)}: ${text.slice(-4000)}`);
  }

  cleanup() { fs.rmSync(this.dir, { recursive: true, force: true }); }
}
