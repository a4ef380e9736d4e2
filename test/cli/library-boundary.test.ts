/**
 * Imports point one way, cli -> pipeline -> ...: the library (src/index.ts and everything it
 * reaches) never depends on the command line's code. This scans every source file outside
 * src/cli with the TypeScript parser and fails on each import, export ... from, or import()
 * that resolves into src/cli, naming the file and line.
 */
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO } from '../helpers/cli-run.js';
import { eachNode, parse, parseFile, sourceFiles, where } from '../helpers/source-files.js';

const CLI = path.join(REPO, 'src/cli');

/** Where `file` (a path relative to the repository) imports from src/cli. */
function cliImports(file: ts.SourceFile): string[] {
  const found: string[] = [];
  const check = (n: ts.Node, spec: ts.Expression | undefined): void => {
    if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const target = path.resolve(path.dirname(path.join(REPO, file.fileName)), spec.text);
    if (target === CLI || target.startsWith(CLI + path.sep)) found.push(`${where(file, n)}: ${spec.text}`);
  };
  eachNode(file, (n) => {
    if (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) check(n, n.moduleSpecifier);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) check(n, n.arguments[0]);
  });
  return found;
}

describe('src/cli is imported by nothing else', () => {
  it('the scan finds each kind of import (so that it can fail)', () => {
    const sample = parse('src/pipeline/sample.ts', [
      "import { a } from '../cli/options.js';", "export { b } from '../cli/run.js';", "await import('../cli/x.js');",
      "import type { C } from '../cli/y.js';", "import { d } from './options.js';", "import * as fs from 'node:fs';",
    ].join('\n'));
    expect(cliImports(sample).map((s) => s.split(':')[1])).toEqual(['1', '2', '3', '4']);
  });

  it('no file outside src/cli imports from it', () => {
    const files = sourceFiles('src').filter((f) => !f.startsWith('src/cli/'));
    expect(files).toContain('src/index.ts');
    expect(files.flatMap((f) => cliImports(parseFile(f)))).toEqual([]);
  });
});
