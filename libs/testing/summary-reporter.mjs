// Ends every jest run with one plain line, `jest: N passed, N failed, N skipped`, that CI tooling reads, then
// one line per skipped suite or test saying why: a missing capability (recorded by `describeWith` in the run
// folder), an `it.todo`, or a `.skip`/`.only` in the source. Under CI a skipped test fails the run (a todo
// does not: it is a test not written yet).
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { LABELS, RUN_DIR_ENV, SKIPS_FILE, isCI } from './capabilities.mjs';

function readSkipRecords() {
  const dir = process.env[RUN_DIR_ENV];
  if (!dir) return [];
  let text;
  try {
    text = readFileSync(join(dir, SKIPS_FILE), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;

export default class SummaryReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig?.rootDir ?? process.cwd();
    this.testNamePattern = globalConfig?.testNamePattern;
    this.error = undefined;
  }

  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const lines = [`jest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped`];
    if (results.numRuntimeErrorTestSuites > 0) {
      lines.push(`jest: ${results.numRuntimeErrorTestSuites} suite(s) failed to run`);
    }

    const records = readSkipRecords();
    const explained = new Set();
    for (const record of records) {
      const suite = results.testResults.find((r) => r.testFilePath === record.file);
      const tests = (suite?.testResults ?? []).filter(
        (t) => t.status === 'pending' && t.ancestorTitles[0] === record.title,
      );
      for (const t of tests) explained.add(t);
      const needs = record.missing.map((m) => `${LABELS[m.capability] ?? m.capability} (${m.detail})`).join(', ');
      lines.push(
        `skipped: ${this.path(record.file)} — "${record.name}", ${plural(tests.length, 'test')} — needs ${needs}`,
      );
    }
    const todo = [];
    const unexplained = [];
    for (const suite of results.testResults) {
      for (const t of suite.testResults) {
        if (t.status === 'todo') todo.push(`skipped: ${this.path(suite.testFilePath)} — "${t.fullName}" — it.todo`);
        else if (t.status === 'pending' && !explained.has(t)) {
          unexplained.push(
            `skipped: ${this.path(suite.testFilePath)} — "${t.fullName}" — .skip or .only in the source`,
          );
        }
      }
    }
    lines.push(...todo);
    if (this.testNamePattern && unexplained.length > 0) {
      lines.push(`skipped: ${plural(unexplained.length, 'test')} not matching -t ${this.testNamePattern}`);
    } else {
      lines.push(...unexplained.slice(0, 20));
      if (unexplained.length > 20) lines.push(`skipped: … and ${unexplained.length - 20} more`);
    }

    const skippedTests = results.numPendingTests;
    if (isCI() && (skippedTests > 0 || records.length > 0)) {
      this.error = new Error(
        `CI=true but ${plural(skippedTests, 'test')} were skipped: under CI nothing may be skipped`,
      );
      lines.push(`jest: ${this.error.message}`);
    }
    process.stdout.write(`\n${lines.join('\n')}\n`);
  }

  getLastError() {
    return this.error;
  }

  path(file) {
    return relative(this.rootDir, file);
  }
}
