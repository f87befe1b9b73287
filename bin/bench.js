#!/usr/bin/env node
// The `bench` command. The TypeScript sources are compiled to dist/ by `npm install` (prepare)
// and by `npm start`; build once by hand with `npm run build` after changing them.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'apps', 'cli', 'src', 'main.js');
if (!fs.existsSync(entry)) {
  process.stderr.write(
    'bench: not built yet; run `npm install` (or `npm run build`) in ' + path.dirname(__dirname) + '\n',
  );
  process.exit(1);
}
const { buildProgram } = require(entry);
buildProgram().parseAsync(process.argv);
