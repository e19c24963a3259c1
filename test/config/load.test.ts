import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../../src/errors.js';
import { loadSettings } from '../../src/config/load.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'apk-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

const WOLFI_KEY = 'https://packages.wolfi.dev/os/wolfi-signing.rsa.pub';
const WOLFI_EXTRAS = {
  secdb: 'https://packages.wolfi.dev/os/security.json',
  sourceUrl: 'https://github.com/wolfi-dev/os/blob/{{commit}}/{{origin}}.yaml',
};

describe('defaults', () => {
  it('serve Wolfi on 0.0.0.0:3000, both arches, verified with its key, refreshed every 4h', () => {
    expect(loadSettings([], {})).toEqual({
      anyArch: false,
      answerCacheBytes: 64 * 1024 * 1024,
      host: '0.0.0.0',
      port: 3000,
      updateIntervalMs: 4 * 3_600_000,
      firstLoadTimeoutMs: 30_000,
      requestTimeoutMs: 60_000,
      refreshTimeoutMs: 600_000,
      logLevel: 'info',
      logFormat: 'text',
      refreshToken: undefined,
      refreshMinIntervalMs: 30_000,
      maxConnections: 1024,
      clientTimeoutMs: 30_000,
      limits: {
        maxDecompressedBytes: 256 * 1024 * 1024,
        maxEntries: 1_000_000,
        maxLineBytes: 1024 * 1024,
        maxCompressedBytes: 64 * 1024 * 1024,
        maxNames: 250_000,
        maxProvidesPerRecord: 1_000,
        maxProvides: 1_000_000,
      },
      downloadBudgetBytes: 128 * 1024 * 1024,
      repositories: [
        {
          name: 'wolfi',
          url: 'https://packages.wolfi.dev/os',
          arches: ['x86_64', 'aarch64'],
          keys: [WOLFI_KEY],
          ...WOLFI_EXTRAS,
        },
      ],
    });
  });
});

describe("hown3d/renovate-apk-indexer's flags", () => {
  it('are accepted unchanged: single dash, with a space or =, comma-separated URLs, whole hours', () => {
    const s = loadSettings(
      [
        '-apk-index-url',
        'https://a.test/os/x86_64/APKINDEX.tar.gz,https://b.test/aarch64/APKINDEX.tar.gz',
        '-update-interval=2',
        '-log-level',
        'debug',
        '-log-output',
        'json',
      ],
      {},
    );
    expect(s.repositories).toEqual([
      {
        name: 'https://a.test/os/x86_64/APKINDEX.tar.gz',
        url: 'https://a.test/os/x86_64/APKINDEX.tar.gz',
        arches: [],
        keys: [],
      },
      {
        name: 'https://b.test/aarch64/APKINDEX.tar.gz',
        url: 'https://b.test/aarch64/APKINDEX.tar.gz',
        arches: [],
        keys: [],
      },
    ]);
    expect(s).toMatchObject({ updateIntervalMs: 2 * 3_600_000, logLevel: 'debug', logFormat: 'json' });
  });

  it('every long flag also takes one dash, with a space or =', () => {
    const s = loadSettings(
      [
        '-port',
        '1',
        '-host=h',
        '-index',
        'https://r.test/os',
        '-arch=aarch64',
        '-key',
        '/k/r.rsa.pub',
        '-first-load-timeout',
        '5',
      ],
      {},
    );
    expect(s).toMatchObject({ host: 'h', port: 1, firstLoadTimeoutMs: 5000 });
    expect(s.repositories).toEqual([
      { name: 'https://r.test/os', url: 'https://r.test/os', arches: ['aarch64'], keys: ['/k/r.rsa.pub'] },
    ]);
  });

  it('accept durations too, and refuse a bad hour count naming the flag', () => {
    expect(loadSettings(['-update-interval', '30m'], {}).updateIntervalMs).toBe(30 * 60_000);
    expect(() => loadSettings(['-update-interval', 'four'], {})).toThrow(
      '-update-interval: not a duration: "four" (use e.g. 30s, 15m, 4h)',
    );
  });
});

describe('precedence: flags > environment > file > defaults', () => {
  it('applies to every single setting', async () => {
    const path = await file(
      'all.yaml',
      [
        'listen: {host: 10.0.0.1, port: 8080, managementPort: 8081}',
        'updateInterval: 30m',
        'firstLoadTimeout: 45s',
        'requestTimeout: 20s',
        'refreshTimeout: 5m',
        'logLevel: warn',
        'logFormat: json',
        'refreshToken: from-file',
        '',
      ].join('\n'),
    );
    const fromFile = loadSettings(['--config', path], {});
    expect(fromFile).toMatchObject({
      host: '10.0.0.1',
      port: 8080,
      managementPort: 8081,
      updateIntervalMs: 1_800_000,
      firstLoadTimeoutMs: 45_000,
      requestTimeoutMs: 20_000,
      refreshTimeoutMs: 300_000,
      logLevel: 'warn',
      logFormat: 'json',
      refreshToken: 'from-file',
    });

    const env = {
      APK_INDEXER_CONFIG: path,
      APK_INDEXER_HOST: '10.0.0.2',
      APK_INDEXER_PORT: '9000',
      APK_INDEXER_MANAGEMENT_PORT: '9001',
      APK_INDEXER_UPDATE_INTERVAL: '2',
      APK_INDEXER_FIRST_LOAD_TIMEOUT: '10s',
      APK_INDEXER_LOG_LEVEL: 'error',
      APK_INDEXER_LOG_OUTPUT: 'text',
      APK_INDEXER_REFRESH_TOKEN: 'from-env',
    };
    expect(loadSettings([], env)).toMatchObject({
      host: '10.0.0.2',
      port: 9000,
      managementPort: 9001,
      updateIntervalMs: 7_200_000,
      firstLoadTimeoutMs: 10_000,
      requestTimeoutMs: 20_000,
      logLevel: 'error',
      logFormat: 'text',
      refreshToken: 'from-env',
    });

    const flags = [
      '--host',
      '10.0.0.3',
      '--port',
      '9100',
      '--management-port',
      '9101',
      '--update-interval',
      '15m',
      '--first-load-timeout',
      '5',
      '--log-level',
      'trace',
      '--log-output',
      'json',
    ];
    expect(loadSettings(flags, env)).toMatchObject({
      host: '10.0.0.3',
      port: 9100,
      managementPort: 9101,
      updateIntervalMs: 900_000,
      firstLoadTimeoutMs: 5_000,
      logLevel: 'trace',
      logFormat: 'json',
      refreshToken: 'from-env',
    });
  });

  it('--config wins over APK_INDEXER_CONFIG; empty variables count as unset', async () => {
    const a = await file('a.yaml', 'listen: {port: 1111}\n');
    const b = await file('b.yaml', 'listen: {port: 2222}\n');
    expect(loadSettings(['--config', b], { APK_INDEXER_CONFIG: a }).port).toBe(2222);
    expect(loadSettings([], { APK_INDEXER_CONFIG: a, APK_INDEXER_PORT: '' }).port).toBe(1111);
  });

  it('a URL list replaces the repositories below it; arches and keys alone override theirs', async () => {
    const path = await file(
      'repos.yaml',
      [
        'repositories:',
        '  - name: own',
        '    url: https://own.test/os',
        '    arches: [x86_64]',
        '    keys: [/keys/own.rsa.pub]',
        '  - url: https://bare.test/APKINDEX.tar.gz',
        '',
      ].join('\n'),
    );
    const fromFile = loadSettings(['--config', path], {});
    expect(fromFile.repositories).toEqual([
      { name: 'own', url: 'https://own.test/os', arches: ['x86_64'], keys: ['/keys/own.rsa.pub'] },
      { name: 'https://bare.test/APKINDEX.tar.gz', url: 'https://bare.test/APKINDEX.tar.gz', arches: [], keys: [] },
    ]);
    // Arches from the environment apply to base URLs only; keys to every repository.
    expect(
      loadSettings(['--config', path], { APK_INDEXER_ARCHES: 'aarch64', APK_INDEXER_KEYS: '/k/a.rsa.pub,/k/b.rsa.pub' })
        .repositories,
    ).toEqual([
      { name: 'own', url: 'https://own.test/os', arches: ['aarch64'], keys: ['/k/a.rsa.pub', '/k/b.rsa.pub'] },
      {
        name: 'https://bare.test/APKINDEX.tar.gz',
        url: 'https://bare.test/APKINDEX.tar.gz',
        arches: [],
        keys: ['/k/a.rsa.pub', '/k/b.rsa.pub'],
      },
    ]);
    // URLs from the environment replace the file's; flag URLs replace those and take the environment's arches.
    const env = {
      APK_INDEXER_CONFIG: path,
      APK_INDEXER_INDEX_URL: 'https://env.test/os',
      APK_INDEXER_ARCHES: 'x86_64,aarch64',
      APK_INDEXER_KEYS: '/k/env.rsa.pub',
    };
    expect(loadSettings([], env).repositories).toEqual([
      {
        name: 'https://env.test/os',
        url: 'https://env.test/os',
        arches: ['x86_64', 'aarch64'],
        keys: ['/k/env.rsa.pub'],
      },
    ]);
    expect(
      loadSettings(
        ['--index', 'https://flag.test/os', '--index', 'https://two.test/os/', '--key', '/k/flag.rsa.pub'],
        env,
      ).repositories,
    ).toEqual([
      {
        name: 'https://flag.test/os',
        url: 'https://flag.test/os',
        arches: ['x86_64', 'aarch64'],
        keys: ['/k/flag.rsa.pub'],
      },
      {
        name: 'https://two.test/os',
        url: 'https://two.test/os/',
        arches: ['x86_64', 'aarch64'],
        keys: ['/k/flag.rsa.pub'],
      },
    ]);
    // Arches alone narrow the Wolfi default.
    expect(loadSettings(['--arch', 'aarch64'], {}).repositories).toEqual([
      { name: 'wolfi', url: 'https://packages.wolfi.dev/os', arches: ['aarch64'], keys: [WOLFI_KEY], ...WOLFI_EXTRAS },
    ]);
  });

  it('a base URL from a list without arches reads x86_64', () => {
    expect(loadSettings([], { APK_INDEXER_INDEX_URL: 'https://r.test/os' }).repositories[0]!.arches).toEqual([
      'x86_64',
    ]);
  });
});

describe('the configuration file', () => {
  it('describes repositories with names, keys, auth, per-repository intervals, and limits', async () => {
    const path = await file(
      'full.yaml',
      [
        'updateInterval: 4',
        'limits: {maxEntries: 1000, maxLineBytes: 4096}',
        'repositories:',
        '  - name: chainguard',
        '    url: https://apk.cgr.dev/chainguard',
        '    arches: [x86_64, aarch64]',
        '    keys: [https://apk.cgr.dev/chainguard/chainguard.rsa.pub]',
        '    auth: {bearerTokenEnv: CG_TOKEN}',
        '    updateInterval: 15m',
        '  - name: internal',
        '    url: file:///srv/apk/os',
        '    arches: [riscv64]',
        '    auth: {usernameEnv: U, passwordEnv: P}',
        '',
      ].join('\n'),
    );
    const s = loadSettings(['--config', path], { CG_TOKEN: 'token', U: 'user', P: '' });
    expect(s.updateIntervalMs).toBe(4 * 3_600_000);
    expect(s.limits).toEqual({
      maxDecompressedBytes: 256 * 1024 * 1024,
      maxEntries: 1000,
      maxLineBytes: 4096,
      maxCompressedBytes: 64 * 1024 * 1024,
      maxNames: 250_000,
      maxProvidesPerRecord: 1_000,
      maxProvides: 1_000_000,
    });
    expect(s.repositories).toEqual([
      {
        name: 'chainguard',
        url: 'https://apk.cgr.dev/chainguard',
        arches: ['x86_64', 'aarch64'],
        keys: ['https://apk.cgr.dev/chainguard/chainguard.rsa.pub'],
        auth: { bearerTokenEnv: 'CG_TOKEN' },
        updateIntervalMs: 900_000,
      },
      {
        name: 'internal',
        url: 'file:///srv/apk/os',
        arches: ['riscv64'],
        keys: [],
        auth: { usernameEnv: 'U', passwordEnv: 'P' },
      },
    ]);
  });

  it('an empty file is the defaults', async () => {
    expect(loadSettings(['--config', await file('empty.yaml', '')], {}).repositories[0]!.name).toBe('wolfi');
  });
});

describe('mistakes are stopped at start, naming the key, variable or flag and the bad value', () => {
  it.each([
    [['--port', 'http'], {}, '--port: expected a port number 0-65535, got "http"'],
    [[], { APK_INDEXER_PORT: '70000' }, 'APK_INDEXER_PORT: expected a port number 0-65535, got "70000"'],
    [
      ['--log-level', 'loud'],
      {},
      '--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    ],
    [[], { APK_INDEXER_LOG_OUTPUT: 'xml' }, 'APK_INDEXER_LOG_OUTPUT: expected text or json, got "xml"'],
    [
      [],
      { APK_INDEXER_UPDATE_INTERVAL: 'soon' },
      'APK_INDEXER_UPDATE_INTERVAL: not a duration: "soon" (use e.g. 30s, 15m, 4h)',
    ],
    [['--update-interval', '500ms'], {}, '--update-interval: expected at least 1s, got "500ms"'],
    [
      [],
      { APK_INDEXER_FIRST_LOAD_TIMEOUT: '-1s' },
      'APK_INDEXER_FIRST_LOAD_TIMEOUT: not a duration: "-1s" (use e.g. 30s, 15m, 4h)',
    ],
    [['--arch', 'amd64'], {}, '--arch: "amd64" is apko\'s name; repositories use the APK name "x86_64"'],
    [[], { APK_INDEXER_ARCHES: 'x86-64' }, 'APK_INDEXER_ARCHES: not an arch name: "x86-64"'],
    [
      ['--index', 'ftp://mirror.test/os'],
      {},
      '--index: expected an http(s) URL, file:// URL or path, got "ftp://mirror.test/os"',
    ],
    [
      ['--config', '/does/not/exist.yaml'],
      {},
      'config file /does/not/exist.yaml: cannot read: no such file or directory',
    ],
  ] as const)('%j %j', (argv, env, message) => {
    let error: unknown;
    try {
      loadSettings([...argv], env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(message);
  });

  it.each([
    [['--bogus'], 'unknown option --bogus'],
    [['-apk-index-urls', 'x'], 'unknown option -apk-index-urls (did you mean -apk-index-url?)'],
    [['--update-intervall=4h'], 'unknown option --update-intervall (did you mean --update-interval?)'],
    [['-prot', '80'], 'unknown option -prot (did you mean --port?)'],
    [['--port'], '--port needs a value'],
    [['--index', '--arch', 'x86_64'], '--index needs a value'],
    [['stray'], 'unexpected argument "stray"'],
  ] as const)('a command-line mistake %j is a usage error, as for every command: %s', (argv, message) => {
    let error: unknown;
    try {
      loadSettings([...argv], {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('usage');
    expect((error as Error).message).toBe(message);
  });

  it('in the file: names the file and the key', async () => {
    const cases: Array<[string, string]> = [
      [
        'repositories:\n  - name: x\n    arches: [x86_64]\n',
        'repositories[0].url: required, a base URL or an APKINDEX.tar.gz URL',
      ],
      ['listen: {port: 1}\nrepos: []\n', 'repos: unknown key (known: listen, updateInterval'],
      ['listen: {prot: 1}\n', 'listen.prot: unknown key (did you mean port?)'],
      ['listen: {hots: 1}\n', 'listen.hots: unknown key (did you mean host?)'],
      ['listen: {address: 1}\n', 'listen.address: unknown key (known: host, port, managementPort)'],
      ['repository:\n  - url: https://a.test/os\n', 'repository: unknown key (did you mean repositories?)'],
      ['updateIntervall: 4h\n', 'updateIntervall: unknown key (did you mean updateInterval?)'],
      [
        'repositories:\n  - {url: "https://a.test/os", arch: [x86_64]}\n',
        'repositories[0].arch: unknown key (did you mean arches?)',
      ],
      ['limits: {maxEntries: -1}\n', 'limits.maxEntries: expected a positive whole number, got -1'],
      ['listen: {port: [1]}\n', 'listen.port: expected a single value, got [1]'],
      ['logFormat: yaml\n', 'logFormat: expected text or json, got "yaml"'],
      ['repositories: []\n', 'repositories: expected a non-empty list'],
      [
        'repositories:\n  - {url: "https://a.test/os", name: a}\n  - {url: "https://b.test/os", name: a}\n',
        'repositories[1].name: two repositories are named "a"',
      ],
      ['repositories:\n  - {url: "https://a.test/os", name: "a,b"}\n', 'repositories[0].name: no commas or spaces'],
      [
        'repositories:\n  - {url: "https://a.test/os", arches: x86_64}\n',
        'repositories[0].arches: expected a list of non-empty strings, got "x86_64"',
      ],
      [
        'repositories:\n  - {url: "https://a.test/os", arches: [arm64]}\n',
        'repositories[0].arches: "arm64" is apko\'s name; repositories use the APK name "aarch64"',
      ],
      [
        'repositories:\n  - {url: "https://a.test/os", auth: {token: x}}\n',
        'repositories[0].auth: expected {bearerTokenEnv: VAR} or {usernameEnv: VAR, passwordEnv: VAR}',
      ],
      [
        'repositories:\n  - {url: "https://a.test/os", auth: {bearerTokenEnv: NOPE_TOKEN}}\n',
        'repositories[0].auth.bearerTokenEnv: environment variable NOPE_TOKEN is not set',
      ],
      [
        'repositories:\n  - {url: "https://a.test/os", updateInterval: 0s}\n',
        'repositories[0].updateInterval: expected at least 1s, got "0s"',
      ],
      ['- just\n- a list\n', 'expected a mapping at the top level'],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const path = await file(`bad-${i}.yaml`, text);
      let error: unknown;
      try {
        loadSettings(['--config', path], {});
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(ConfigError);
      expect((error as Error).message, text).toContain(`config file ${path}: ${message}`);
    }
  });
});

describe('a configuration file that is not YAML', () => {
  it.each([
    [
      'listen:\n  port: 3000\n host: 0.0.0.0\n',
      ':3:1: all mapping items must start at the same column',
      '   host: 0.0.0.0\n  ^',
    ],
    [
      'logLevel: info\nrepositories:\n  - url: https://a.test/os\n    name: a: b\n',
      ':4:11: nested mappings are not allowed in compact mappings',
      '      name: a: b\n            ^',
    ],
  ])(
    '%j: the line and column on the one line, then the line itself with a pointer under it',
    async (text, at, context) => {
      const dir = await mkdtemp(join(tmpdir(), 'apk-yaml-'));
      try {
        const path = join(dir, 'config.yaml');
        await writeFile(path, text);
        let error: unknown;
        try {
          loadSettings(['--config', path], {});
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).message).toBe(`config file ${path}${at}`);
        expect((error as ConfigError).context).toBe(context);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});

describe('durations longer than Node timers can wait are refused', () => {
  it.each([
    [['--update-interval', '25d'], {}, '--update-interval: expected at most 24d, got "25d"'],
    [['-update-interval', '1000'], {}, '-update-interval: expected at most 24d, got "1000"'], // bare hours
    [
      [],
      { APK_INDEXER_UPDATE_INTERVAL: '2147483648ms' },
      'APK_INDEXER_UPDATE_INTERVAL: expected at most 24d, got "2147483648ms"',
    ],
    [['--first-load-timeout', '30d'], {}, '--first-load-timeout: expected at most 24d, got "30d"'],
    [
      [],
      { APK_INDEXER_FIRST_LOAD_TIMEOUT: '99999999' },
      'APK_INDEXER_FIRST_LOAD_TIMEOUT: expected at most 24d, got "99999999"',
    ], // bare seconds
  ] as const)('%j %j', (argv, env, message) => {
    expect(() => loadSettings([...argv], env)).toThrow(ConfigError);
    expect(() => loadSettings([...argv], env)).toThrow(message);
  });

  it('accepts exactly 24d', () => {
    expect(loadSettings(['--update-interval', '24d'], {}).updateIntervalMs).toBe(24 * 86_400_000);
  });

  it('in the file: the global durations and a repository interval', async () => {
    const cases: Array<[string, string]> = [
      ['updateInterval: 1000\n', 'updateInterval: expected at most 24d, got 1000'], // a YAML number: hours
      ['requestTimeout: 30d\n', 'requestTimeout: expected at most 24d, got "30d"'],
      ['refreshTimeout: 3000000\n', 'refreshTimeout: expected at most 24d, got 3000000'], // seconds
      [
        'repositories:\n  - {url: "https://a.test/os", updateInterval: 25d}\n',
        'repositories[0].updateInterval: expected at most 24d, got "25d"',
      ],
      [
        'repositories:\n  - {url: "https://a.test/os", updateInterval: 1e9}\n',
        'repositories[0].updateInterval: expected at most 24d, got 1000000000',
      ],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const path = await file(`too-long-${i}.yaml`, text);
      expect(() => loadSettings(['--config', path], {}), text).toThrow(`config file ${path}: ${message}`);
    }
  });
});

describe('the default repository name', () => {
  it('is the URL with its credentials redacted, from flags, the environment and the file', async () => {
    const url = 'https://robot:s3cret@apk.example.com/os/';
    const redacted = 'https://***:***@apk.example.com/os';
    expect(loadSettings(['--index', url], {}).repositories[0]!.name).toBe(redacted);
    expect(loadSettings([], { APK_INDEXER_INDEX_URL: url }).repositories[0]!.name).toBe(redacted);
    const path = await file('credentials.yaml', `repositories:\n  - url: "${url}"\n`);
    const [repo] = loadSettings(['--config', path], {}).repositories;
    expect(repo!.name).toBe(redacted);
    expect(repo!.url).toBe(url); // the URL itself keeps them, to be sent
    expect(JSON.stringify(loadSettings(['--index', url], {}).repositories.map((r) => r.name))).not.toContain('s3cret');
  });
});

describe('spelling a default out gives the same result as the default', () => {
  const defaults = loadSettings([], {});
  it.each([
    ['APK_INDEXER_INDEX_URL', [], { APK_INDEXER_INDEX_URL: 'https://packages.wolfi.dev/os' }],
    ['--index with a trailing slash', ['--index', 'https://packages.wolfi.dev/os/'], {}],
    ["hown3d's -apk-index-url", ['-apk-index-url', 'https://packages.wolfi.dev/os'], {}],
  ] as const)("%s: named wolfi, both arches, Wolfi's key", (_, argv, env) => {
    const s = loadSettings([...argv], env);
    expect(s.repositories.map((r) => ({ ...r, url: r.url.replace(/\/$/, '') }))).toEqual(defaults.repositories);
  });

  it('in the file too, and what is given beside it still wins', async () => {
    const path = await file('wolfi-spelled.yaml', 'repositories:\n  - url: https://packages.wolfi.dev/os\n');
    expect(loadSettings(['--config', path], {}).repositories).toEqual(defaults.repositories);
    expect(
      loadSettings([], { APK_INDEXER_INDEX_URL: 'https://packages.wolfi.dev/os', APK_INDEXER_ARCHES: 'aarch64' })
        .repositories,
    ).toEqual([
      { name: 'wolfi', url: 'https://packages.wolfi.dev/os', arches: ['aarch64'], keys: [WOLFI_KEY], ...WOLFI_EXTRAS },
    ]);
  });
});

describe('a bad value is reported even when a higher layer overrides it', () => {
  it.each([
    ['listen: {port: http}\n', [], {}, 'listen.port: expected a port number 0-65535, got "http"'],
    ['listen: {port: http}\n', ['--port', '8080'], {}, 'listen.port: expected a port number 0-65535, got "http"'],
    ['logLevel: loud\n', [], { APK_INDEXER_LOG_LEVEL: 'info' }, 'logLevel: expected one of fatal'],
    [
      'repositories:\n  - {url: "https://a.test/os", arches: [arm64]}\n',
      ['--index', 'https://b.test/os'],
      {},
      'repositories[0].arches: "arm64" is apko\'s name',
    ],
  ] as const)('%j with %j %j', async (text, argv, env, message) => {
    const path = await file(`overridden-${text.length}-${argv.length}.yaml`, text);
    expect(() => loadSettings(['--config', path, ...argv], env)).toThrow(`config file ${path}: ${message}`);
  });

  it('in the environment under a flag', () => {
    expect(() => loadSettings(['--port', '8080'], { APK_INDEXER_PORT: 'http' })).toThrow(
      'APK_INDEXER_PORT: expected a port number 0-65535, got "http"',
    );
  });
});

describe('anyArch', () => {
  it('is a boolean from the file (YAML true) or the environment (true/false/yes/no/1/0)', async () => {
    expect(loadSettings(['--config', await file('any-arch.yaml', 'anyArch: true\n')], {}).anyArch).toBe(true);
    expect(loadSettings([], { APK_INDEXER_ANY_ARCH: 'no' }).anyArch).toBe(false);
    expect(() => loadSettings([], { APK_INDEXER_ANY_ARCH: 'maybe' })).toThrow(
      'APK_INDEXER_ANY_ARCH: expected true or false, got "maybe"',
    );
  });
});
