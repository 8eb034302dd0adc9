// `npm run gen:proto`: TypeScript for proto/herald/v1/notifications.proto, both committed:
// - src/gen/: @bufbuild/protobuf (v2) schemas and types from protoc-gen-es, run by buf (the
//   `@bufbuild/buf` package ships the binary). Both gRPC servers (native and gRPC-Web/Connect)
//   decode requests and encode answers with these, and a web app imports them (`herald/proto`).
// - src/transports/grpc/gen/: proto-loader's types, for the tests' independent @grpc/grpc-js
//   client. The loader options here must match test/support/grpc.ts (keepCase, longs as Number,
//   defaults, oneofs).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';

const PROTO = 'proto/herald/v1/notifications.proto';
const ES_OUT = 'src/gen';
const LOADER_OUT = 'src/transports/grpc/gen';

rmSync(ES_OUT, { recursive: true, force: true });
const template = {
  version: 'v2',
  plugins: [{ local: 'protoc-gen-es', out: ES_OUT, opt: ['target=ts', 'import_extension=js'] }],
};
execFileSync('npx', ['buf', 'generate', 'proto', '--template', JSON.stringify(template)], {
  stdio: 'inherit',
  env: { ...process.env, PATH: [resolve('node_modules/.bin'), process.env.PATH].join(delimiter) },
});

rmSync(LOADER_OUT, { recursive: true, force: true });
execFileSync(
  'npx',
  [
    'proto-loader-gen-types',
    '--keepCase',
    '--longs=Number',
    '--defaults',
    '--oneofs',
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.js',
    `--outDir=${LOADER_OUT}`,
    PROTO,
  ],
  { stdio: 'inherit' },
);

// Generated code is not ours to lint (empty interfaces, `any`): mark every file as such.
const MARK = '// biome-ignore-all lint: generated (npm run gen:proto)\n';
for (const out of [ES_OUT, LOADER_OUT]) {
  for (const entry of readdirSync(out, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const text = readFileSync(file, 'utf8');
    if (!text.startsWith(MARK)) writeFileSync(file, MARK + text);
  }
}
