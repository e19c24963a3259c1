import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../../src/decode/byte-reader.js';
import { FEED_BYTES, gunzipMembers } from '../../src/decode/gzip-members.js';
import { ApkIndexParser, type RecordFields, type RecordSink } from '../../src/parse/apkindex-parser.js';
import { NameTable, ValueStore } from '../../src/parse/field-bytes.js';
import { DEFAULT_LIMITS } from '../../src/parse/limits.js';

/** A sink that keeps each record's fields by name, decoded. */
class Collect implements RecordSink {
  readonly names = new NameTable();
  readonly store = new ValueStore();
  readonly wantsArch = true;
  readonly seen: Array<Record<string, unknown>> = [];

  record(f: Readonly<RecordFields>): void {
    this.seen.push({
      name: this.names.strings[f.name],
      version: this.store.latin1(f.version),
      arch: f.arch,
      buildTime: f.buildTime,
      origin: f.origin < 0 ? undefined : this.store.latin1(f.origin),
      url: f.url < 0 ? undefined : this.store.utf8(f.url),
      provides: f.provides?.map((v, i) => (i % 2 === 0 ? this.names.strings[v] : this.store.latin1(v))),
    });
  }
}

describe('the record sink', () => {
  it('receives each record as named fields, reset between records', () => {
    const sink = new Collect();
    const parser = new ApkIndexParser(DEFAULT_LIMITS, sink);
    parser.push(
      Buffer.from(
        'P:a\nV:1-r0\nA:x86_64\nt:1700000000\no:a\nU:https://ä.example\nm:Zoë <z@example.com>\nT:Grüße\np:b=2 so:libc.so=1\n\n' +
          'P:c\nV:3-r1\n\n',
      ),
    );
    parser.end();
    expect(sink.seen).toEqual([
      {
        name: 'a',
        version: '1-r0',
        arch: 'x86_64',
        buildTime: 1700000000,
        origin: 'a',
        url: 'https://ä.example',
        provides: ['b', '2'],
      },
      {
        name: 'c',
        version: '3-r1',
        arch: undefined,
        buildTime: 0,
        origin: undefined,
        url: undefined,
        provides: undefined,
      },
    ]);
  });
});

describe('the load path', () => {
  it('uses only documented Node APIs (no Buffer slice methods, no stream internals)', () => {
    const internals = /\b(latin1Slice|utf8Slice|asciiSlice|ucs2Slice|_readableState|_writableState)\b/;
    for (const dir of ['src/source', 'src/decode', 'src/parse', 'src/index']) {
      for (const file of readdirSync(dir)) {
        const text = readFileSync(join(dir, file), 'utf8');
        expect(internals.exec(text)?.[0], `${dir}/${file}`).toBeUndefined();
      }
    }
  });

  it('notices a deflate stream that ends exactly where a piece fed to zlib ends', async () => {
    // Stored (level 0) deflate grows by a few bytes per block: find a text whose deflate stream is FEED_BYTES long.
    let member: Buffer | undefined;
    let size = 0;
    for (let n = FEED_BYTES - 64; n < FEED_BYTES && !member; n++) {
      const gz = gzipSync(Buffer.alloc(n, 'a'), { level: 0 });
      if (gz.length - 18 === FEED_BYTES) [member, size] = [gz, n];
    }
    expect(member).toBeDefined();
    const second = gzipSync(Buffer.from('second'));
    let out = '';
    const members = await gunzipMembers(
      new ByteReader(
        (async function* () {
          yield Buffer.concat([member!, second]);
        })(),
        { maxBytes: 1 << 20 },
      ),
      (b) => void (out += b.toString('latin1')),
      { maxOutputBytes: 1 << 20 },
    );
    expect(members).toBe(2);
    expect(out).toBe('a'.repeat(size) + 'second');
  });
});
