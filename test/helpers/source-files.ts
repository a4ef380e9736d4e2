/**
 * The repository's own source files, parsed by the TypeScript compiler, for tests that check
 * a rule over all of src/ (which errors are thrown, which folders import which).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { REPO } from './cli-run.js';

/** Every .ts, .mts and .mjs file under `dir` (relative to the repository), sorted. */
export function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(path.relative(REPO, p));
    }
  };
  walk(path.join(REPO, dir));
  return out.sort();
}

/** `text` parsed as the file `name` (whose extension picks TypeScript or JavaScript). */
export function parse(name: string, text: string): ts.SourceFile {
  return ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true);
}

/** A repository file, parsed. */
export function parseFile(rel: string): ts.SourceFile {
  return parse(rel, fs.readFileSync(path.join(REPO, rel), 'utf8'));
}

/** Calls `fn` on every node of `file`, depth first. */
export function eachNode(file: ts.SourceFile, fn: (n: ts.Node) => void): void {
  const visit = (n: ts.Node): void => {
    fn(n);
    ts.forEachChild(n, visit);
  };
  visit(file);
}

/** "path:line" of `n`. */
export function where(file: ts.SourceFile, n: ts.Node): string {
  return `${file.fileName}:${file.getLineAndCharacterOfPosition(n.getStart(file)).line + 1}`;
}
