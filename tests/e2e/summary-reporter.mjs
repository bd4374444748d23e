// node --test reporter that prints only "N passed, N failed", counting test
// cases (not suites). A file that cannot even load counts as one failure.
// run.sh sums these lines over its node --test runs.

export default async function* summary(source) {
  let passed = 0;
  let failed = 0;
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { details, skip, todo } = event.data;
    if (details?.type === 'suite') continue;
    if (event.type === 'test:pass') {
      if (!skip && !todo) passed += 1;
    } else {
      failed += 1;
    }
  }
  yield `${passed} passed, ${failed} failed\n`;
}
