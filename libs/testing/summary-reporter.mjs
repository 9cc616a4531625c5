// Ends every jest run with one plain line, `jest: N passed, N failed, N skipped`, that CI tooling reads.
export default class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(
      `\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`,
    );
    if (results.numRuntimeErrorTestSuites > 0) {
      process.stdout.write(`jest: ${results.numRuntimeErrorTestSuites} suite(s) failed to run\n`);
    }
  }
}
