// The embedded log: a directory with one .mmlog file per machine, `<dir>/<tenant>/<machine>.mmlog`
// (format.ts). One writer per directory (a lock file holds the writer's pid); the services of
// an all-in-one process share one FileEventLog. Each append is one write(2) of one record
// before its promise resolves, so an append survives a crash of the process; `fsync: true`
// also makes it survive a crash of the machine.
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, writeSync, existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { checkToken, isValidToken } from '@mmsim/bus';
import type { Envelope } from '@mmsim/proto';
import { decodeBatch, encodeBatch, scanBatch } from '../codecs/envelope.js';
import { LogClosedError, LogCorruptError, LogFencedError, LogLockedError, LogPositionError, LogUnavailableError } from '../errors.js';
import {
  machineKey,
  type AppendRequest,
  type AppendResult,
  type EventLog,
  type LogRecord,
  type LogTip,
  type MachineRef,
  type ReadOptions,
  type TailOptions,
} from '../event-log.js';
import { buildEnvelopes, checkAppend, envelopesInRange } from '../append.js';
import { checkHeader, FILE_EXTENSION, fileHeader, frame, HEADER_SIZE } from './format.js';
import { readFrames } from './frame-reader.js';

export interface RepairReport {
  readonly machine: MachineRef;
  readonly path: string;
  /** Where the file was cut, and how many bytes went. */
  readonly offset: number;
  readonly bytesCut: number;
  readonly reason: string;
}

export interface FileEventLogOptions {
  /** fsync (fdatasync) each append before it resolves. Default false: write(2) only. */
  readonly fsync?: boolean;
  /**
   * Read-only: no lock, nothing is written or cut; a torn tail is simply not read. For reading
   * a directory another process writes (replay, export, the CLI).
   */
  readonly readOnly?: boolean;
  /** Also cut a file at a corrupt record that is followed by more data (default: throw LogCorruptError). */
  readonly repairCorrupt?: boolean;
  /** Told about every tail that was cut (default: console.warn). */
  readonly onRepair?: (report: RepairReport) => void;
}

/** Record offsets and first seqs of one file, for seeking to a seq. */
class RecordIndex {
  offsets = new Float64Array(1024);
  firstSeqs = new Float64Array(1024);
  n = 0;

  push(offset: number, firstSeq: number): void {
    if (this.n === this.offsets.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.offsets = grow(this.offsets);
      this.firstSeqs = grow(this.firstSeqs);
    }
    this.offsets[this.n] = offset;
    this.firstSeqs[this.n] = firstSeq;
    this.n++;
  }

  /** The index of the record that holds `seq` (the last one starting at or before it); 0 if before all. */
  find(seq: number): number {
    let lo = 0, hi = this.n - 1, ans = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.firstSeqs[mid] <= seq) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** How many records start after `seq`. */
  countAfter(seq: number): number {
    if (this.n === 0) return 0;
    const i = this.find(seq);
    return this.firstSeqs[i] > seq ? this.n - i : this.n - i - 1;
  }
}

/** One machine's file as this log knows it. */
class MachineFile {
  size = 0;
  seq = 0;
  readonly serviceSeqs: Record<string, number> = {};
  /** The seq of each service's last record, for error messages. */
  readonly serviceLastSeq: Record<string, number> = {};
  readonly index = new RecordIndex();
  /** Appends of this machine, one after the other. */
  queue: Promise<unknown> = Promise.resolve();
  /** Bumped on every append; tails wait on `changed`. */
  version = 0;
  private wake: (() => void) | undefined;
  changed: Promise<void>;

  constructor(
    readonly ref: MachineRef,
    readonly path: string,
    public fh: FileHandle | undefined,
  ) {
    this.changed = new Promise((r) => (this.wake = r));
  }

  notify(): void {
    this.version++;
    const w = this.wake;
    this.changed = new Promise((r) => (this.wake = r));
    w?.();
  }

  /** Takes a scanned record into the index and counters. */
  take(offset: number, payload: Uint8Array): void {
    const s = scanBatch(payload);
    if (s.count === 0) throw new LogCorruptError(this.path, `empty record at offset ${offset}`);
    if (s.tenant !== this.ref.tenant || s.machine !== this.ref.machine) {
      throw new LogCorruptError(this.path, `record at offset ${offset} belongs to ${s.tenant}/${s.machine}`);
    }
    for (let i = 0; i < s.count; i++) {
      const seq = s.firstSeq + i;
      const svc = s.services[i];
      const ss = s.serviceSeqs[i];
      if ((i === 0 ? s.firstSeq : seq) !== this.seq + 1) throw new LogCorruptError(this.path, `seq ${seq} follows ${this.seq} at offset ${offset}`);
      if (ss !== (this.serviceSeqs[svc] ?? 0) + 1) {
        throw new LogCorruptError(this.path, `${svc} service_seq ${ss} follows ${this.serviceSeqs[svc] ?? 0} at seq ${seq}`);
      }
      this.seq = seq;
      this.serviceSeqs[svc] = ss;
      this.serviceLastSeq[svc] = seq;
    }
    if (s.lastSeq !== this.seq) throw new LogCorruptError(this.path, `record at offset ${offset} is not dense`);
    this.index.push(offset, s.firstSeq);
  }
}

export class FileEventLog implements EventLog {
  readonly kind = 'file';
  private readonly files = new Map<string, Promise<MachineFile>>();
  private closed = false;
  private readonly closing = new AbortController();
  /** Resolved (and replaced) when a machine's file is created: tails of new machines wait on it. */
  private created: Promise<void>;
  private wakeCreated: () => void = () => undefined;

  private constructor(
    readonly dir: string,
    private readonly options: FileEventLogOptions,
  ) {
    this.created = new Promise((r) => (this.wakeCreated = r));
  }

  /** Opens (creating it if needed) a log directory. Throws LogLockedError if another live process writes it. */
  static async open(dir: string, options: FileEventLogOptions = {}): Promise<FileEventLog> {
    if (!options.readOnly) {
      mkdirSync(dir, { recursive: true });
      takeLock(dir);
    }
    return new FileEventLog(dir, options);
  }

  /** The file of a machine. */
  pathOf(m: MachineRef): string {
    return join(this.dir, checkToken('tenant', m.tenant), checkToken('machine', m.machine) + FILE_EXTENSION);
  }

  private check(): void {
    if (this.closed) throw new LogClosedError();
  }

  /** The machine's file, opened and scanned once. `create`: make it if missing. */
  private file(m: MachineRef, create: boolean): Promise<MachineFile | undefined> {
    const key = machineKey(m);
    const have = this.files.get(key);
    if (have) return have;
    const path = this.pathOf(m);
    if (!create && !existsSync(path)) return Promise.resolve(undefined);
    const p = this.load(m, path);
    this.files.set(key, p);
    p.catch(() => this.files.delete(key));
    return p;
  }

  private async load(m: MachineRef, path: string): Promise<MachineFile> {
    const ro = this.options.readOnly ?? false;
    if (!ro) mkdirSync(join(this.dir, m.tenant), { recursive: true });
    const isNew = !existsSync(path);
    const fh = ro ? await open(path, 'r') : await open(path, isNew ? 'w+' : 'r+');
    const mf = new MachineFile(m, path, fh);
    try {
      await this.scan(mf, fh);
    } catch (e) {
      await fh.close();
      throw e;
    }
    if (isNew) {
      const wake = this.wakeCreated;
      this.created = new Promise((r) => (this.wakeCreated = r));
      wake();
    }
    return mf;
  }

  /** Reads a file from the start: index, counters, and the torn tail cut (or, read-only, ignored). */
  private async scan(mf: MachineFile, fh: FileHandle): Promise<void> {
    const ro = this.options.readOnly ?? false;
    const { size } = await fh.stat();
    const head = new Uint8Array(Math.min(size, HEADER_SIZE));
    await fh.read(head, 0, head.length, 0);
    const h = checkHeader(head);
    if (h === 'foreign' || h === 'version') throw new LogCorruptError(mf.path, h === 'foreign' ? 'not an mmsim log (bad magic)' : 'unsupported format version');
    if (h === 'empty' || h === 'torn') {
      if (!ro) {
        if (h === 'torn') this.repaired(mf, 0, size, 'torn file header');
        await fh.truncate(0);
        const hb = fileHeader();
        await fh.write(hb, 0, hb.length, 0);
        mf.size = HEADER_SIZE;
      }
      return;
    }
    let end = HEADER_SIZE;
    for await (const f of readFrames(fh, HEADER_SIZE, size)) {
      if (f.kind === 'record') {
        mf.take(f.offset, f.payload);
        end = f.offset + f.payload.length + 8;
        continue;
      }
      if (ro) break;
      if (!f.torn && !this.options.repairCorrupt) {
        throw new LogCorruptError(mf.path, `${f.reason} at offset ${f.offset}, with ${size - f.offset} bytes after it (open with repairCorrupt to cut it off)`);
      }
      this.repaired(mf, f.offset, size - f.offset, f.torn ? `torn tail: ${f.reason}` : `corrupt record: ${f.reason}`);
      await fh.truncate(f.offset);
      break;
    }
    mf.size = end;
  }

  private repaired(mf: MachineFile, offset: number, bytesCut: number, reason: string): void {
    const report: RepairReport = { machine: mf.ref, path: mf.path, offset, bytesCut, reason };
    (this.options.onRepair ?? ((r) => console.warn(`mmsim log ${r.path}: cut ${r.bytesCut} bytes at offset ${r.offset} (${r.reason})`)))(report);
  }

  /** Read-only logs follow a file another process appends to. */
  private async refresh(mf: MachineFile): Promise<void> {
    if (!this.options.readOnly || !mf.fh) return;
    const { size } = await mf.fh.stat();
    if (size <= mf.size) return;
    const from = mf.size === 0 ? HEADER_SIZE : mf.size;
    for await (const f of readFrames(mf.fh, from, size)) {
      if (f.kind !== 'record') break;
      mf.take(f.offset, f.payload);
      mf.size = f.offset + f.payload.length + 8;
    }
  }

  async append(req: AppendRequest): Promise<AppendResult> {
    this.check();
    if (this.options.readOnly) throw new LogUnavailableError(`${this.dir}: the log is open read-only`);
    checkAppend(req);
    const mf = (await this.file(req.machine, true))!;
    const run = async (): Promise<AppendResult> => {
      this.check();
      const { expected, service } = req;
      if (expected.seq > mf.seq) {
        throw new LogPositionError(`${mf.path}: expected seq ${expected.seq} is past the end of the log (${mf.seq})`);
      }
      const own = mf.serviceSeqs[service] ?? 0;
      const expectedOwn = expected.serviceSeqs[service] ?? 0;
      if (own > expectedOwn) {
        // The same append again (a retry) is answered with the record already written, as
        // JetStream's msg-id de-duplication does; anything else is another writer.
        const again = await this.sameAsLast(mf, req, expectedOwn);
        if (again) return again;
        throw new LogFencedError(mf.path, mf.serviceLastSeq[service] ?? 0, service, own);
      }
      const envelopes = buildEnvelopes(req, mf.seq + 1, own + 1);
      const bytes = frame(encodeBatch(envelopes));
      const at = mf.size;
      try {
        // pwrite(2) on this thread: a record is a few hundred bytes into the page cache, a few
        // µs. FileHandle.write would hand each one to libuv's thread pool and back, 30-170 µs
        // of CPU and a wake-up on a busy machine, for every event the services append
        // (docs/performance.md "gRPC and NATS").
        writeFully(mf.fh!.fd, bytes, at);
        if (this.options.fsync) await mf.fh!.datasync();
      } catch (e) {
        await mf.fh!.truncate(at).catch(() => undefined);
        throw new LogUnavailableError(`${mf.path}: append failed: ${(e as Error).message}`, { cause: e });
      }
      const missed = mf.index.countAfter(expected.seq);
      mf.size = at + bytes.length;
      mf.take(at, bytes.subarray(8));
      mf.notify();
      return { envelopes, position: { seq: mf.seq, streamSeq: mf.seq, serviceSeqs: { ...mf.serviceSeqs } }, missed };
    };
    const p = mf.queue.then(run, run);
    mf.queue = p.catch(() => undefined);
    return p;
  }

  /** If the service's last record is exactly what `req` would have written after `expectedOwn`, that record's result. */
  private async sameAsLast(mf: MachineFile, req: AppendRequest, expectedOwn: number): Promise<AppendResult | undefined> {
    if (mf.serviceSeqs[req.service] !== expectedOwn + req.events.length) return undefined;
    const lastSeq = mf.serviceLastSeq[req.service];
    const i = mf.index.find(lastSeq);
    const offset = mf.index.offsets[i];
    const end = i + 1 < mf.index.n ? mf.index.offsets[i + 1] : mf.size;
    const stored = new Uint8Array(end - offset - 8);
    await mf.fh!.read(stored, 0, stored.length, offset + 8);
    const firstSeq = mf.index.firstSeqs[i];
    if (lastSeq - firstSeq + 1 !== req.events.length) return undefined;
    const envelopes = buildEnvelopes(req, firstSeq, expectedOwn + 1);
    const bytes = encodeBatch(envelopes);
    if (bytes.length !== stored.length || !bytes.every((b, k) => b === stored[k])) return undefined;
    return { envelopes, position: { seq: mf.seq, streamSeq: mf.seq, serviceSeqs: { ...mf.serviceSeqs } }, missed: 0 };
  }

  async *records(m: MachineRef, opts: ReadOptions = {}): AsyncGenerator<LogRecord> {
    this.check();
    const mf = await this.file(m, false);
    if (!mf || !mf.fh) return;
    await this.refresh(mf);
    const from = Math.max(1, opts.fromSeq ?? 1);
    const to = opts.toSeq ?? mf.seq;
    if (mf.index.n === 0 || from > to || from > mf.seq) return;
    const start = mf.index.offsets[mf.index.find(from)];
    const end = mf.size; // what is in the file now; later appends are not read
    for await (const f of readFrames(mf.fh, start, end)) {
      if (f.kind !== 'record') throw new LogCorruptError(mf.path, `${f.reason} at offset ${f.offset}`);
      const payload = f.payload.slice();
      const envelopes = decodeBatch(payload);
      const first = Number(envelopes[0].seq);
      if (first > to) return;
      yield { envelopes, streamSeq: Number(envelopes[envelopes.length - 1].seq), payload };
    }
  }

  async *read(m: MachineRef, opts: ReadOptions = {}): AsyncGenerator<Envelope> {
    for await (const r of this.records(m, opts)) yield* envelopesInRange(r.envelopes, opts);
  }

  async *tail(m: MachineRef, opts: TailOptions = {}): AsyncGenerator<Envelope> {
    let next = Math.max(1, opts.fromSeq ?? 1);
    const signal = opts.signal;
    const stop = new Promise<void>((resolve) => {
      const done = () => resolve();
      signal?.addEventListener('abort', done, { once: true });
      this.closing.signal.addEventListener('abort', done, { once: true });
    });
    let mf = await this.file(m, false);
    while (!mf && !signal?.aborted && !this.closed) {
      // Not there yet: wait for it to be created (or, read-only, poll for it).
      const created = this.options.readOnly ? new Promise((r) => setTimeout(r, 200)) : this.created;
      await Promise.race([created, stop]);
      mf = await this.file(m, false);
    }
    if (!mf) return;
    while (!signal?.aborted && !this.closed) {
      const version = mf.version;
      const changed = mf.changed;
      for await (const e of this.read(m, { fromSeq: next })) {
        yield e;
        next = Number(e.seq) + 1;
        if (signal?.aborted) return;
      }
      if (mf.version !== version) continue;
      if (this.options.readOnly) await Promise.race([stop, new Promise((r) => setTimeout(r, 200))]);
      else await Promise.race([changed, stop]);
    }
  }

  async tip(m: MachineRef): Promise<LogTip | undefined> {
    this.check();
    const mf = await this.file(m, false);
    if (!mf) return undefined;
    await this.refresh(mf);
    return mf.seq === 0 ? undefined : { seq: mf.seq, streamSeq: mf.seq };
  }

  async machines(): Promise<MachineRef[]> {
    this.check();
    const out: MachineRef[] = [];
    if (!existsSync(this.dir)) return out;
    for (const tenant of readdirSync(this.dir).sort()) {
      if (!isValidToken(tenant) || !statSync(join(this.dir, tenant)).isDirectory()) continue;
      for (const f of readdirSync(join(this.dir, tenant)).sort()) {
        const machine = f.endsWith(FILE_EXTENSION) ? f.slice(0, -FILE_EXTENSION.length) : '';
        if (isValidToken(machine)) out.push({ tenant, machine });
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    for (const p of this.files.values()) {
      const mf = await p.catch(() => undefined);
      if (!mf) continue;
      await mf.queue;
      if (this.options.fsync) await mf.fh?.datasync().catch(() => undefined);
      await mf.fh?.close();
      mf.fh = undefined;
    }
    this.files.clear();
    if (!this.options.readOnly) releaseLock(this.dir);
  }
}

const LOCK = '.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writes all of `bytes` at `at` (pwrite may write less than asked). */
function writeFully(fd: number, bytes: Uint8Array, at: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
}

/** One writer per directory: a lock file with the writer's pid; a dead writer's lock is taken over. */
function takeLock(dir: string): void {
  const path = join(dir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isSafeInteger(pid) && alive(pid)) {
      const who = pid === process.pid ? 'another FileEventLog of this process' : `process ${pid}`;
      throw new LogLockedError(`${dir} is being written by ${who}; open it with readOnly to read it`);
    }
    rmSync(path, { force: true });
  }
  throw new LogLockedError(`${dir}: could not take the lock`);
}

function releaseLock(dir: string): void {
  const path = join(dir, LOCK);
  try {
    if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) rmSync(path, { force: true });
  } catch {
    // already gone
  }
}
