// The steps of one story, run as subtests of one test.

/**
 * Steps of one story, sharing one browser: once a step fails, the later ones are skipped rather than failing
 * for the same reason.
 */
export function story(t) {
  let failed = false;
  return (name, fn) =>
    t.test(name, { skip: failed && 'an earlier step failed' }, async () => {
      try {
        await fn();
      } catch (error) {
        failed = true;
        throw error;
      }
    });
}
