// BPF maps: a declaration (MapSpec) and an open map (BpfMap) with element operations over
// bpf(2). Keys and values are raw bytes; the layouts belong to whoever defines the map.
import { closeSync } from 'node:fs';
import { CMD, ERRNO, MAP_TYPE, UPDATE, type MapType } from './constants.js';
import { addressOf, bpf, BpfError, cString, newAttr } from './syscall.js';

export interface MapSpec {
  /** At most 15 characters (the kernel's BPF_OBJ_NAME_LEN - 1). */
  readonly name: string;
  readonly type: MapType;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags?: number;
}

export class BpfMap {
  private closed = false;

  constructor(
    readonly spec: MapSpec,
    readonly fd: number,
  ) {}

  static create(spec: MapSpec): BpfMap {
    if (spec.name.length > 15) throw new Error(`map name "${spec.name}" is longer than 15 characters`);
    const a = newAttr();
    a.writeUInt32LE(MAP_TYPE[spec.type], 0);
    a.writeUInt32LE(spec.keySize, 4);
    a.writeUInt32LE(spec.valueSize, 8);
    a.writeUInt32LE(spec.maxEntries, 12);
    a.writeUInt32LE(spec.flags ?? 0, 16);
    a.write(spec.name, 28, 'utf8');
    return new BpfMap(spec, bpf(CMD.MAP_CREATE, a, `create map ${spec.name}`));
  }

  /** Opens a pinned map; the caller states what it expects (checked against the kernel's info). */
  static open(path: string, spec: MapSpec): BpfMap {
    const fd = objGet(path);
    const info = mapInfo(fd);
    if (info.type !== MAP_TYPE[spec.type] || info.keySize !== spec.keySize || info.valueSize !== spec.valueSize || info.maxEntries !== spec.maxEntries) {
      closeSync(fd);
      throw new BpfError(`open pinned map ${path}`, ERRNO.EINVAL, `it is not a ${spec.type} map of ${spec.keySize}-byte keys, ${spec.valueSize}-byte values and ${spec.maxEntries} entries`);
    }
    return new BpfMap(spec, fd);
  }

  private keyValue(cmd: number, key: Buffer, value: Buffer | null, flags: number, op: string): number {
    this.check(key, this.spec.keySize, 'key');
    if (value) this.check(value, this.spec.valueSize, 'value');
    const a = newAttr();
    a.writeUInt32LE(this.fd, 0);
    a.writeBigUInt64LE(addressOf(key), 8);
    if (value) a.writeBigUInt64LE(addressOf(value), 16);
    a.writeBigUInt64LE(BigInt(flags), 24);
    return bpf(cmd, a, `${op} ${this.spec.name}`);
  }

  private check(b: Buffer, size: number, what: string): void {
    if (b.length !== size) throw new Error(`map ${this.spec.name}: ${what} of ${b.length} bytes, expected ${size}`);
  }

  update(key: Buffer, value: Buffer, flags: number = UPDATE.ANY): void {
    this.keyValue(CMD.MAP_UPDATE_ELEM, key, value, flags, 'update');
  }

  /** The value, or null when the key is absent. */
  lookup(key: Buffer): Buffer | null {
    const value = Buffer.alloc(this.spec.valueSize);
    try {
      this.keyValue(CMD.MAP_LOOKUP_ELEM, key, value, 0, 'lookup');
    } catch (e) {
      if (e instanceof BpfError && e.errno === ERRNO.ENOENT) return null;
      throw e;
    }
    return value;
  }

  /** Whether the key was there. */
  delete(key: Buffer): boolean {
    try {
      this.keyValue(CMD.MAP_DELETE_ELEM, key, null, 0, 'delete');
      return true;
    } catch (e) {
      if (e instanceof BpfError && e.errno === ERRNO.ENOENT) return false;
      throw e;
    }
  }

  /**
   * Updates `count` elements in one bpf(2) call (BPF_MAP_UPDATE_BATCH, hash maps since 5.6):
   * `keys` and `values` hold them back to back. Falls back to one call per element where the
   * kernel lacks batches.
   */
  updateBatch(keys: Buffer, values: Buffer, count: number): void {
    if (count === 0) return;
    const ks = this.spec.keySize;
    const vs = this.spec.valueSize;
    if (keys.length < count * ks || values.length < count * vs) throw new Error(`map ${this.spec.name}: batch of ${count} needs ${count * ks} key and ${count * vs} value bytes`);
    if (batchSupported !== false) {
      const a = newAttr();
      a.writeBigUInt64LE(addressOf(keys), 16);
      a.writeBigUInt64LE(addressOf(values), 24);
      a.writeUInt32LE(count, 32);
      a.writeUInt32LE(this.fd, 36);
      try {
        bpf(CMD.MAP_UPDATE_BATCH, a, `update batch ${this.spec.name}`);
        batchSupported = true;
        return;
      } catch (e) {
        if (!(e instanceof BpfError) || batchSupported === true || ![ERRNO.EINVAL, ERRNO.ENOTSUPP, ERRNO.ENOSYS].includes(e.errno as 22)) throw e;
        batchSupported = false;
      }
    }
    for (let i = 0; i < count; i++) this.update(keys.subarray(i * ks, (i + 1) * ks), values.subarray(i * vs, (i + 1) * vs));
  }

  /** Every key (BPF_MAP_GET_NEXT_KEY walk). */
  keys(): Buffer[] {
    const out: Buffer[] = [];
    let prev: Buffer | null = null;
    for (;;) {
      const next = Buffer.alloc(this.spec.keySize);
      const a = newAttr();
      a.writeUInt32LE(this.fd, 0);
      if (prev) a.writeBigUInt64LE(addressOf(prev), 8);
      a.writeBigUInt64LE(addressOf(next), 16);
      try {
        bpf(CMD.MAP_GET_NEXT_KEY, a, `next key ${this.spec.name}`);
      } catch (e) {
        if (e instanceof BpfError && e.errno === ERRNO.ENOENT) return out;
        throw e;
      }
      out.push(next);
      prev = next;
    }
  }

  /** Every element (keys, then a lookup each; an element deleted in between is skipped). */
  entries(): [Buffer, Buffer][] {
    const out: [Buffer, Buffer][] = [];
    for (const k of this.keys()) {
      const v = this.lookup(k);
      if (v) out.push([k, v]);
    }
    return out;
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

let batchSupported: boolean | undefined;

/** BPF_OBJ_PIN: makes a map or program outlive its file descriptors, at a path on a bpffs. */
export function objPin(fd: number, path: string): void {
  const p = cString(path);
  const a = newAttr();
  a.writeBigUInt64LE(addressOf(p), 0);
  a.writeUInt32LE(fd, 8);
  bpf(CMD.OBJ_PIN, a, `pin ${path}`);
}

/** BPF_OBJ_GET: a new fd for a pinned map or program. */
export function objGet(path: string): number {
  const p = cString(path);
  const a = newAttr();
  a.writeBigUInt64LE(addressOf(p), 0);
  return bpf(CMD.OBJ_GET, a, `open pinned ${path}`);
}

export interface MapInfo {
  type: number;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  name: string;
}

export function mapInfo(fd: number): MapInfo {
  const info = Buffer.alloc(88);
  const a = newAttr();
  a.writeUInt32LE(fd, 0);
  a.writeUInt32LE(info.length, 4);
  a.writeBigUInt64LE(addressOf(info), 8);
  bpf(CMD.OBJ_GET_INFO_BY_FD, a, 'map info');
  const name = info.subarray(24, 40);
  return {
    type: info.readUInt32LE(0),
    id: info.readUInt32LE(4),
    keySize: info.readUInt32LE(8),
    valueSize: info.readUInt32LE(12),
    maxEntries: info.readUInt32LE(16),
    name: name.subarray(0, name.indexOf(0) < 0 ? 16 : name.indexOf(0)).toString('utf8'),
  };
}
