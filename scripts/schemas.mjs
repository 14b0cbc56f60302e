// The JSON Schema of every command's --json output, made from the TypeScript types in
// src/report/*.ts with ts-json-schema-generator. `npm run schemas` writes schemas/NAME.schema.json;
// test/schemas.test.ts makes them again in memory and fails when the committed files differ, so
// the schemas cannot drift from the types. The package ships the files; this script is a dev tool.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGenerator } from 'ts-json-schema-generator';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_DIR = path.join(ROOT, 'schemas');

/** Each schema: its name (schemas/NAME.schema.json), the type it is made from, and its title. */
export const SCHEMAS = [
  { name: 'doctor', type: 'DoctorJson', title: 'enospc doctor --json' },
  { name: 'top', type: 'TopJson', title: 'enospc top PATH --json' },
  { name: 'inotify', type: 'InotifyJson', title: 'enospc inotify --json' },
  { name: 'trace', type: 'TraceJson', title: 'enospc trace PATH --json' },
  { name: 'trace-event', type: 'TraceLineJson', title: 'one line of enospc trace PATH --events' },
  { name: 'clean', type: 'CleanJson', title: 'enospc clean --json' },
  { name: 'containers', type: 'ContainersJson', title: 'enospc containers --json' },
  { name: 'history', type: 'HistoryJson', title: 'enospc history --json' },
  { name: 'forecast', type: 'ForecastJson', title: 'enospc forecast --json' },
  { name: 'catch', type: 'CatchJson', title: 'enospc catch --json' },
  { name: 'catch-event', type: 'CatchLineJson', title: 'one line of enospc catch --events' },
  { name: 'fleet', type: 'FleetJson', title: 'enospc fleet --json' },
];

const RULE = 'Fields may be added; a field is never renamed or removed without raising `schema`.';

/** `FindingOf<"inodes.full">` -> `FindingOf.inodes.full`: definition names that need no escaping in a $ref. */
function plainName(name) {
  const m = /^(\w+)<"([\w.-]+)">$/.exec(name);
  const plain = m ? `${m[1]}.${m[2]}` : name;
  if (!/^[\w.-]+$/.test(plain)) throw new Error(`a schema definition name to make plain: ${name}`);
  return plain;
}

/** Rename definitions to plain names, and every $ref to them. */
function plainRefs(node, names) {
  if (Array.isArray(node)) return node.map((x) => plainRefs(x, names));
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/definitions/')) {
      const name = decodeURIComponent(v.slice('#/definitions/'.length));
      out[k] = `#/definitions/${names.get(name) ?? plainName(name)}`;
    } else if (k === 'definitions' && node === names.root) {
      out[k] = Object.fromEntries(Object.entries(v).map(([n, d]) => [plainName(n), plainRefs(d, names)]));
    } else {
      out[k] = plainRefs(v, names);
    }
  }
  return out;
}

/** Every schema as the text of its file, by name. */
export function generate() {
  const config = {
    path: path.join(ROOT, 'src/report/*.ts'),
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    expose: 'export',
    topRef: false,
    jsDoc: 'extended',
    additionalProperties: false,
    // tsc checks the types in `npm run build`; this only reads them
    skipTypeCheck: true,
  };
  const generator = createGenerator(config);
  const out = new Map();
  for (const s of SCHEMAS) {
    const raw = generator.createSchema(s.type);
    const names = new Map();
    names.root = raw;
    const { $schema, description, ...rest } = plainRefs(raw, names);
    const schema = {
      $schema,
      $id: `urn:enospc:schema:${s.name}`,
      title: s.title,
      description: `${description ?? s.title} ${RULE}`,
      ...rest,
    };
    out.set(s.name, JSON.stringify(schema, null, 2) + '\n');
  }
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(SCHEMA_DIR, { recursive: true });
  for (const [name, text] of generate()) {
    const file = path.join(SCHEMA_DIR, `${name}.schema.json`);
    fs.writeFileSync(file, text);
    console.log(path.relative(ROOT, file));
  }
}
