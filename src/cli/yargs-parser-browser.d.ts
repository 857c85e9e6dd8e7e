// yargs-parser's entry without Node specifics (no createRequire(import.meta.url), which a CommonJS bundle
// lacks; no config-file loading, which the Cloud Foundry dialect never uses). It is the same parser.
declare module 'yargs-parser/browser' {
  import parser from 'yargs-parser';
  export default parser;
}
