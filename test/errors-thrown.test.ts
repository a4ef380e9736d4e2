/**
 * src/index.ts promises that everything the library throws is a DiskImageError (a class of
 * src/errors.ts, with a code and maybe a hint). This scans every source file under src/ with
 * the TypeScript parser and fails on each place that makes one of JavaScript's own error
 * classes (Error, RangeError, TypeError, ...) or throws something that is not made by `new`
 * (a string, a number), naming the file and line.
 */
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { eachNode, parse, parseFile, sourceFiles, where } from './helpers/source-files.js';

const BUILT_IN = new Set(['Error', 'RangeError', 'TypeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError']);

/** Where `file` makes a built-in error or throws a literal. */
function plainErrors(file: ts.SourceFile): string[] {
  const found: string[] = [];
  eachNode(file, (n) => {
    if ((ts.isNewExpression(n) || ts.isCallExpression(n)) && ts.isIdentifier(n.expression) && BUILT_IN.has(n.expression.text)) {
      found.push(`${where(file, n)}: ${n.getText(file).slice(0, 80)}`);
    }
    if (ts.isThrowStatement(n) && (ts.isLiteralExpression(n.expression) || ts.isTemplateExpression(n.expression) || ts.isNoSubstitutionTemplateLiteral(n.expression))) {
      found.push(`${where(file, n)}: ${n.getText(file).slice(0, 80)}`);
    }
  });
  return found;
}

describe('errors thrown by src/', () => {
  it('the scan finds each kind of plain error (so that it can fail)', () => {
    const sample = parse('sample.ts', [
      "throw new Error('a');", "throw Error('b');", "reject(new RangeError('c'));", "throw 'd';", 'throw `e ${1}`;',
      "throw new InputError('fine');", 'throw e;',
    ].join('\n'));
    expect(plainErrors(sample).map((s) => s.split(':')[1])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('are all DiskImageErrors: no built-in error class is made, no literal thrown', () => {
    const files = sourceFiles('src');
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap((f) => plainErrors(parseFile(f)))).toEqual([]);
  });
});
