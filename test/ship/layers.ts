/**
 * The layers of src/, lowest first: a module imports only from its own layer or a lower one. The lower layers are
 * the stages of a refresh in the order its data flows through them (README, "How it works"): source opens the
 * bytes, decode turns them into APKINDEX text, parse into records, index into snapshots and the version map. The
 * load layer runs those stages for a repository, so a refresh reads top to bottom once:
 * serve (store) -> load -> source -> decode -> parse -> index -> serve. The generators sit beside the service,
 * under the CLI. A new folder must be placed here.
 */
export const LAYERS: Record<string, number> = {
  core: 0, // the tool's version, errors: what every layer shares
  apko: 1, // the apko model and arch names, read by config, generators and the service
  dockerfile: 1, // Dockerfiles as Renovate's Dockerfile manager reads them: stages, RUN apk add packages
  source: 2,
  decode: 3,
  parse: 4,
  index: 5,
  resolve: 6, // the apk solver (apko's), over dependency data
  release: 6, // the release loop: which images a change rebuilds and their tags, read from the apko model
  datasource: 6,
  secdb: 6,
  config: 7,
  lock: 7, // apko lock files: .apk heads, keyring, the lock's JSON
  load: 8,
  changes: 9,
  generate: 9,
  serve: 10,
  cli: 11,
};

/** The data flow of a refresh, as the README's diagram draws it: each stage a layer above the one before. */
export const DATA_FLOW = ['source', 'decode', 'parse', 'index'] as const;

/** One refresh, top to bottom: the loader starts it, the data flows through the stages, the service keeps the result. */
export const REFRESH = ['load', ...DATA_FLOW, 'serve'] as const;
