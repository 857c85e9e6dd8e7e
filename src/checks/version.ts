// Kept equal to package.json's version by test/checks/version.test.ts; a constant (not a JSON import)
// so that the bundled agent reads no file at start-up.
export const VERSION = '0.1.0';
