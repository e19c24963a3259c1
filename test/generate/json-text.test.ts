import { describe, expect, it } from 'vitest';
import type { RenovateConfig } from '../../schemas/renovate-config.js';
import { updateRenovateText } from '../../src/generate/renovate-file.js';

/** A small generated config: what gen renovate would write, cut down to one manager and one rule. */
const GENERATED: RenovateConfig = {
  $schema: 'https://docs.renovatebot.com/renovate-schema.json',
  customDatasources: { 'apk-indexer': { defaultRegistryUrlTemplate: 'http://a:3000/{{packageName}}', format: 'json' } },
  customManagers: [
    {
      customType: 'regex',
      description: 'name=version pins in the package lists of apko image files',
      managerFilePatterns: ['/^a\\.yaml$/'],
      matchStrings: ['(?<depName>x)=(?<currentValue>y)'],
      datasourceTemplate: 'custom.apk-indexer',
      versioningTemplate: 'loose',
    },
  ],
  packageRules: [{ description: 'd', matchDatasources: ['custom.apk-indexer'], maxMajorIncrement: 0 }],
};

describe('updating a Renovate config in place', () => {
  it('JSON with four-space indents and no parts of ours: adds them at the end, in its style', () => {
    const text = '{\n    "extends": ["config:recommended"],\n    "packageRules": []\n}\n';
    expect(updateRenovateText(text, 'renovate.json', GENERATED)).toBe(
      [
        '{',
        '    "extends": ["config:recommended"],',
        '    "packageRules": [',
        '        {',
        '            "description": "d",',
        '            "matchDatasources": [',
        '                "custom.apk-indexer"',
        '            ],',
        '            "maxMajorIncrement": 0',
        '        }',
        '    ],',
        '    "customDatasources": {',
        '        "apk-indexer": {',
        '            "defaultRegistryUrlTemplate": "http://a:3000/{{packageName}}",',
        '            "format": "json"',
        '        }',
        '    },',
        '    "customManagers": [',
        '        {',
        '            "customType": "regex",',
        '            "description": "name=version pins in the package lists of apko image files",',
        '            "managerFilePatterns": [',
        '                "/^a\\\\.yaml$/"',
        '            ],',
        '            "matchStrings": [',
        '                "(?<depName>x)=(?<currentValue>y)"',
        '            ],',
        '            "datasourceTemplate": "custom.apk-indexer",',
        '            "versioningTemplate": "loose"',
        '        }',
        '    ]',
        '}',
        '',
      ].join('\n'),
    );
  });

  it("JSON5 with bare keys and single quotes: replaces ours where they were, keeps the user's items and comments", () => {
    const text = [
      '// homelab',
      '{',
      "  customDatasources: { 'apk-indexer': { defaultRegistryUrlTemplate: 'http://old/{{packageName}}', format: 'json' }, other: { defaultRegistryUrlTemplate: 'http://o/{{packageName}}' } },",
      '  customManagers: [',
      "    { customType: 'regex', description: 'mine', fileMatch: ['x'], matchStrings: ['(?<depName>a)=(?<currentValue>b)'], datasourceTemplate: 'custom.other' },",
      '    // written by apk-indexer',
      "    { customType: 'regex', description: 'name=version pins in the package lists of apko image files', fileMatch: ['^old\\\\.yaml$'], matchStrings: ['x'], datasourceTemplate: 'custom.apk-indexer', versioningTemplate: 'loose' },",
      '  ],',
      "  packageRules: [{ matchDatasources: ['custom.apk-indexer'], automerge: true }, { matchDatasources: ['custom.apk-indexer'], maxMajorIncrement: 0 }],",
      '}',
      '',
    ].join('\n');
    expect(updateRenovateText(text, 'renovate.json5', GENERATED)).toBe(
      [
        '// homelab',
        '{',
        // A container on one line gets its new items on one line.
        "  customDatasources: { 'apk-indexer': { defaultRegistryUrlTemplate: 'http://a:3000/{{packageName}}', format: 'json' }, other: { defaultRegistryUrlTemplate: 'http://o/{{packageName}}' } },",
        '  customManagers: [',
        "    { customType: 'regex', description: 'mine', fileMatch: ['x'], matchStrings: ['(?<depName>a)=(?<currentValue>b)'], datasourceTemplate: 'custom.other' },",
        '    // written by apk-indexer',
        '    {',
        "      customType: 'regex',",
        "      description: 'name=version pins in the package lists of apko image files',",
        '      managerFilePatterns: [',
        "        '/^a\\\\.yaml$/',",
        '      ],',
        '      matchStrings: [',
        "        '(?<depName>x)=(?<currentValue>y)',",
        '      ],',
        "      datasourceTemplate: 'custom.apk-indexer',",
        "      versioningTemplate: 'loose',",
        '    },',
        '  ],',
        // The user's rule for this datasource (automerge) stays; the rule of ours is replaced where it was.
        "  packageRules: [{ matchDatasources: ['custom.apk-indexer'], automerge: true }, { description: 'd', matchDatasources: ['custom.apk-indexer'], maxMajorIncrement: 0 }],",
        '}',
        '',
      ].join('\n'),
    );
  });

  it('refuses a file it cannot read as Renovate does, naming the line', () => {
    expect(() => updateRenovateText('{\n  "a": 1,\n  "b" 2\n}\n', 'renovate.json', GENERATED)).toThrow(
      /^renovate\.json: cannot update it in place: ":" was expected at line 3$/,
    );
  });
});
