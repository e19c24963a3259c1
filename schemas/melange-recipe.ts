/**
 * The subset of melange's build configuration that apk-indexer writes. Names and types follow melange's published
 * schema (chainguard-dev/melange pkg/config/schema.json, `Configuration`), which closes every object.
 * `melange-recipe.schema.json` is the same subset as JSON Schema.
 *
 * The published schema also lists `capabilities`, `package.checks` and `package.cpe` as required: its generator
 * marks every Go field without `omitempty`. melange itself loads recipes without them (its own docs name
 * package, environment and pipeline as the required sections), so they are not written here.
 */
/** `Step`: what the pipeline holds; recipes of files from this repository have shell steps only. */
export interface MelangeRecipe<Step extends MelangePipelineStep = MelangePipelineStep> {
  package: MelangePackage;
  environment: {
    contents: { repositories: string[]; keyring: string[]; packages: string[] };
    /** Variables of the build environment. */
    environment?: Record<string, string>;
  };
  pipeline: Step[];
  test?: { pipeline: MelangeStep[] };
  update: MelangeUpdate;
}

export interface MelangePackage {
  name: string;
  version: string;
  epoch: number;
  description: string;
  copyright: { license: string }[];
  dependencies?: { runtime?: string[]; replaces?: string[] };
}

/** A shell step. */
export interface MelangeStep {
  name: string;
  runs: string;
}

/**
 * melange's built-in `git-checkout` pipeline (pkg/build/pipelines/git-checkout.yaml), with the inputs written
 * here: `with:` values are strings, as in the published schema.
 */
export interface MelangeGitCheckout {
  uses: 'git-checkout';
  with: { repository: string; tag: string; 'expected-commit'?: string };
}

export type MelangePipelineStep = MelangeStep | MelangeGitCheckout;

/** A package built from files in this repository has nothing upstream to watch. */
export interface MelangeUpdate {
  enabled: false;
  'exclude-reason': string;
}
