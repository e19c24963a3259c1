import { describe, expect, it } from 'vitest';
import { imageTags, versionParts } from '../../src/release/tags.js';

describe('the tag ladder of a pinned version', () => {
  it.each([
    ['1.16.7-r0', ['1.16.7', '1.16', '1']],
    ['26.04-r1', ['26.04', '26']],
    ['1.35', ['1.35', '1']],
    ['2.0_p1-r0', ['2.0_p1', '2.0', '2']],
    ['0.9.7-r0', ['0.9.7', '0.9']],
    ['0.1-r3', ['0.1']],
    ['20240705-r0', ['20240705']],
    ['2024.09.15-r2', ['2024.09.15', '2024.09', '2024']],
    ['2024a-r0', ['2024a', '2024']],
    ['1.1.1w-r1', ['1.1.1w', '1.1.1', '1.1', '1']],
    ['5.2.37_git20240101-r0', ['5.2.37_git20240101', '5.2.37', '5.2', '5']],
    ['1.0_rc1-r0', ['1.0_rc1']],
    ['6.6_alpha_pre2-r0', ['6.6_alpha_pre2']],
    ['1.2~a1b2c3-r0', ['1.2', '1']],
    ['not a version', []],
  ])('%s: %j', (pin, ladder) => {
    expect(versionParts(pin).ladder).toEqual(ladder);
  });

  it('adds latest, except to a prerelease; an unpinned image has latest only', () => {
    expect(imageTags({ name: 'x', package: 'p', pin: '1.2.3-r0' })).toEqual(['1.2.3', '1.2', '1', 'latest']);
    expect(imageTags({ name: 'x', package: 'p', pin: '1.2.3_beta1-r0' })).toEqual(['1.2.3_beta1']);
    expect(imageTags({ name: 'x', package: 'p', pin: undefined })).toEqual(['latest']);
  });

  it('renders templates, each rung of {{ladder}} once, dropping one that names a missing part', () => {
    const tags = imageTags({ name: 'bootc', package: 'bootc', pin: '1.16.7-r0' }, [
      '{{ladder}}-wolfi',
      '{{ name }}-{{version}}',
      '{{major}}.{{minor}}.{{patch}}.{{patch}}',
      'build-{{pin}}',
    ]);
    expect(tags).toEqual(['1.16.7-wolfi', '1.16-wolfi', '1-wolfi', 'bootc-1.16.7', '1.16.7.7', 'build-1.16.7-r0']);
    expect(imageTags({ name: 'd', package: 'd', pin: '20240705-r0' }, ['{{major}}.{{minor}}', 'stable'])).toEqual([
      'stable',
    ]);
  });
});
