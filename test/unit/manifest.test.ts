import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Slack's published app manifest schema lives in the shared repo, cloned beside this one (locally and in CI).
const SCHEMA_URL = new URL('../../../shared/schemas/slack-app-manifest.schema.json', import.meta.url);
const MANIFESTS = ['manifest.yml', 'manifest.http.yml'] as const;
type ManifestFile = (typeof MANIFESTS)[number];

// The scopes Slack shows whoever installs the app: what the bot calls, no more.
const BOT_SCOPES = [
  'channels:join', // conversations.join for the incident channel
  'channels:read', // conversations.info (public)
  'chat:write', // plan, thread of steps, result
  'chat:write.public', // post in public channels the bot has not joined
  'commands', // /rollback
  'groups:read', // conversations.info (private)
  'usergroups:read', // usergroups.users.list: is the clicker an approver?
];

/** The part of a manifest these tests read; the schema vouches for the structure. */
interface SlashCommand {
  command: string;
  description: string;
  url?: string;
  usage_hint?: string;
  should_escape?: boolean;
}
interface SlackManifest {
  display_information: { name: string; description?: string };
  features?: { bot_user?: { display_name: string }; slash_commands?: SlashCommand[] };
  oauth_config?: { scopes?: { bot?: string[] } };
  settings?: {
    interactivity?: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled?: boolean;
  };
}

function loadSchema(): object {
  if (!existsSync(SCHEMA_URL)) {
    throw new Error(
      `Slack's app manifest schema is not at ${fileURLToPath(SCHEMA_URL)}: clone the shared repo beside this one (../shared).`,
    );
  }
  return JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as object;
}

// The schema is draft-07, so Ajv's default class. Strict mode stays on so a keyword the schema adds later
// cannot be silently ignored; the three quirks it has today are declared instead:
const ajv = new Ajv({ allErrors: true, strictTypes: false }); // one `items` carries a stray `minItems`
ajv.addVocabulary(['_note']); // comments Slack left in the schema
// Slack writes `regex` (not `pattern`) for background_color; enforce it as Slack does.
ajv.addKeyword({
  keyword: 'regex',
  type: 'string',
  schemaType: 'string',
  validate: (regex: string, value: string) => new RegExp(regex, 'u').test(value),
});
// `format: "uri"` (only on `$schema`); ajv-formats would be a dependency for one format.
ajv.addFormat('uri', (value: string) => URL.canParse(value));
const validate = ajv.compile<SlackManifest>(loadSchema());

function read(file: ManifestFile): unknown {
  return parse(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8'));
}

function schemaErrors(manifest: unknown): ErrorObject[] {
  return validate(manifest) ? [] : [...(validate.errors ?? [])];
}

function load(file: ManifestFile): SlackManifest {
  const manifest = read(file);
  if (!validate(manifest)) {
    throw new Error(
      `${file} does not match Slack's app manifest schema:\n${ajv.errorsText(validate.errors, { separator: '\n', dataVar: file })}`,
    );
  }
  return manifest;
}

function rollbackCommand(manifest: SlackManifest): SlashCommand {
  const command = manifest.features?.slash_commands?.find((c) => c.command === '/rollback');
  if (!command) throw new Error('no /rollback slash command in the manifest');
  return command;
}

describe('Slack app manifests', () => {
  it.each(MANIFESTS)('%s matches Slack’s app manifest schema', (file) => {
    expect(schemaErrors(read(file))).toEqual([]);
  });

  it.each(MANIFESTS)('%s offers /rollback with the usage hint users see', (file) => {
    const command = rollbackCommand(load(file));
    expect(command.usage_hint).toBe('<target> [reason] | <target> to v<N> | list | help');
    expect(command.should_escape).toBe(false);
    expect(command.description.length).toBeGreaterThan(0);
  });

  it.each(MANIFESTS)('%s turns interactivity on, so Approve and Cancel reach the bot', (file) => {
    expect(load(file).settings?.interactivity?.is_enabled).toBe(true);
  });

  it.each(MANIFESTS)('%s asks for exactly the bot scopes the bot calls', (file) => {
    // The schema accepts any string up to 50 characters as a scope, so the list is checked here.
    const scopes = load(file).oauth_config?.scopes?.bot ?? [];
    expect([...scopes].sort()).toEqual(BOT_SCOPES);
    expect(scopes).toEqual(expect.arrayContaining(['chat:write', 'commands', 'usergroups:read', 'channels:join']));
  });

  it('manifest.yml uses Socket Mode and gives Slack no URL to call', () => {
    const manifest = load('manifest.yml');
    expect(manifest.settings?.socket_mode_enabled).toBe(true);
    expect(rollbackCommand(manifest).url).toBeUndefined();
    expect(manifest.settings?.interactivity?.request_url).toBeUndefined();
  });

  it('manifest.http.yml sends the command and the button clicks to https://…/slack/events', () => {
    const manifest = load('manifest.http.yml');
    expect(manifest.settings?.socket_mode_enabled).toBe(false);
    expect(rollbackCommand(manifest).url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
    expect(manifest.settings?.interactivity?.request_url).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('the two variants differ only in how Slack reaches the bot', () => {
    const transportless = (file: ManifestFile): SlackManifest => {
      const manifest = structuredClone(load(file));
      delete rollbackCommand(manifest).url;
      delete manifest.settings?.interactivity?.request_url;
      delete manifest.settings?.socket_mode_enabled;
      return manifest;
    };
    expect(transportless('manifest.http.yml')).toEqual(transportless('manifest.yml'));
  });
});

describe('the schema check rejects broken manifests', () => {
  // Without these, a validator that accepted everything would pass every test above.
  it.each<[string, (m: SlackManifest) => void, Partial<ErrorObject>]>([
    [
      'no display_information.name',
      (m) => Reflect.deleteProperty(m.display_information, 'name'),
      { instancePath: '/display_information', keyword: 'required', params: { missingProperty: 'name' } },
    ],
    [
      'a misspelt setting',
      (m) => Object.assign(m.settings ?? {}, { socket_mode_enable: true }),
      {
        instancePath: '/settings',
        keyword: 'additionalProperties',
        params: { additionalProperty: 'socket_mode_enable' },
      },
    ],
    [
      'a command without its slash',
      (m) => (rollbackCommand(m).command = 'rollback'),
      { instancePath: '/features/slash_commands/0/command', keyword: 'pattern' },
    ],
    [
      'a request URL that is not http(s)',
      (m) => Object.assign(m.settings?.interactivity ?? {}, { request_url: 'rollback.example.com/slack/events' }),
      { instancePath: '/settings/interactivity/request_url', keyword: 'pattern' },
    ],
    [
      'a scope longer than Slack allows',
      (m) => m.oauth_config?.scopes?.bot?.push(`chat:write.${'x'.repeat(50)}`),
      { instancePath: '/oauth_config/scopes/bot/7', keyword: 'maxLength' },
    ],
    [
      'a background colour that is not hex',
      (m) => Object.assign(m.display_information, { background_color: 'crimson' }),
      { instancePath: '/display_information/background_color', keyword: 'regex' },
    ],
  ])('%s', (_, breakIt, expected) => {
    const manifest = structuredClone(load('manifest.http.yml'));
    breakIt(manifest);
    expect(schemaErrors(manifest)).toContainEqual(expect.objectContaining(expected));
  });
});
