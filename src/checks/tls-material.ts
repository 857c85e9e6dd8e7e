/**
 * The TLS files of a check (CA, client certificate, client key), read and judged in one place before a handshake
 * uses them: a file that is missing, a directory, empty, not PEM, PEM of another kind, an encrypted key, a key
 * for another certificate, or a certificate outside its validity period, each named with its file in one line.
 * node:tls would throw these from tls.connect() (`Invalid CA`, `KEY_VALUES_MISMATCH`), or fail the handshake
 * with an alert that names neither the file nor the cause.
 *
 * The same judgement runs when a command line is parsed (a file that can never work is a usage error there) and
 * at every check (files are read anew, so that rotated certificates are taken).
 */
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { TlsOptions } from './types.js';

/** Which of the files: the words of every message about it. */
type TlsFileRole = 'CA file' | 'client certificate' | 'client key';

/**
 * What is wrong with one file. `validity`: the file is good but its certificate is expired or not yet valid, a
 * fact about time (a rotation fixes it) rather than about the file; a handshake with it would fail.
 */
export interface TlsFileProblem {
  readonly role: TlsFileRole;
  readonly file: string;
  readonly problem: string;
  readonly validity: boolean;
}

/** The bytes a handshake takes, each file checked. */
export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** One line: `client key '/etc/tls/key.pem': does not match the client certificate '/etc/tls/cert.pem'`. */
export function describeTlsProblem(problem: TlsFileProblem): string {
  return `${problem.role} '${problem.file}': ${problem.problem}`;
}

/** A file's bytes, or the errno it could not be read with. */
type Read = Buffer | { readonly errno: string };

export async function readTlsMaterial(options: TlsOptions, now = Date.now()): Promise<TlsMaterial | TlsFileProblem> {
  const { readFile } = await import('node:fs/promises');
  const read = async (file: string | undefined): Promise<Read | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (thrown) {
      return { errno: errnoOf(thrown) };
    }
  };
  const [ca, cert, key] = await Promise.all([read(options.caFile), read(options.clientCertFile), read(options.clientKeyFile)]);
  return judge(options, { ca, cert, key }, now);
}

/**
 * For a command line: the file that can never work as given, or undefined. A certificate out of its validity
 * period is left to the check, which fails on it (a rotation may yet fix it).
 */
export async function unusableTlsFile(options: TlsOptions): Promise<TlsFileProblem | undefined> {
  const material = await readTlsMaterial(options);
  return isTlsFileProblem(material) && !material.validity ? material : undefined;
}

export function isTlsFileProblem(value: TlsMaterial | TlsFileProblem): value is TlsFileProblem {
  return 'problem' in value;
}

const ERRNO_PHRASE: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'is a directory, not a file',
  EACCES: 'permission denied',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
};

function errnoOf(thrown: unknown): string {
  return (thrown as NodeJS.ErrnoException).code ?? String(thrown);
}

interface Reads {
  readonly ca: Read | undefined;
  readonly cert: Read | undefined;
  readonly key: Read | undefined;
}

/** The files in the order a person fixes them: each one alone, then whether key and certificate belong together. */
function judge(options: TlsOptions, reads: Reads, now: number): TlsMaterial | TlsFileProblem {
  const problem = (role: TlsFileRole, file: string, text: string, validity = false): TlsFileProblem => ({ role, file, problem: text, validity });
  const material: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {};
  let certificate: X509Certificate | undefined;
  let privateKey: KeyObject | undefined;
  if (options.caFile !== undefined && reads.ca !== undefined) {
    const certs = certificates(reads.ca);
    if (typeof certs === 'string') return problem('CA file', options.caFile, certs);
    // A bundle may hold an expired certificate among good ones, as system bundles do; all of them out of date is not.
    const current = certs.find((cert) => validityProblem(cert, now) === undefined);
    if (current === undefined) return problem('CA file', options.caFile, validityProblem(certs[0] as X509Certificate, now) as string, true);
    material.ca = reads.ca as Buffer;
  }
  if (options.clientCertFile !== undefined && reads.cert !== undefined) {
    const certs = certificates(reads.cert);
    if (typeof certs === 'string') return problem('client certificate', options.clientCertFile, certs);
    certificate = certs[0] as X509Certificate;
    material.cert = reads.cert as Buffer;
  }
  if (options.clientKeyFile !== undefined && reads.key !== undefined) {
    const key = parseKey(reads.key);
    if (typeof key === 'string') return problem('client key', options.clientKeyFile, key);
    privateKey = key;
    material.key = reads.key as Buffer;
  }
  if (certificate !== undefined && privateKey !== undefined && options.clientKeyFile !== undefined && options.clientCertFile !== undefined) {
    if (!sameKey(certificate.publicKey, privateKey)) {
      return problem('client key', options.clientKeyFile, `does not match the client certificate '${options.clientCertFile}'`);
    }
  }
  if (certificate !== undefined && options.clientCertFile !== undefined) {
    const expired = validityProblem(certificate, now);
    if (expired !== undefined) return problem('client certificate', options.clientCertFile, expired, true);
  }
  return material;
}

/** `-----BEGIN LABEL-----` … `-----END LABEL-----` blocks, in order. */
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

interface PemBlock {
  readonly label: string;
  readonly text: string;
}

/** The file's PEM blocks, or why it has none. */
function pemBlocks(read: Read): PemBlock[] | string {
  if (!Buffer.isBuffer(read)) return ERRNO_PHRASE[read.errno] ?? `cannot be read (${read.errno})`;
  if (read.length === 0) return 'is empty';
  const text = read.toString('latin1');
  const blocks = [...text.matchAll(PEM_BLOCK)].map((match) => ({ label: match[1] as string, text: match[0] }));
  if (blocks.length === 0) return text.includes('-----BEGIN ') ? 'not PEM (a BEGIN line without its END line)' : 'not PEM (no -----BEGIN line)';
  return blocks;
}

function certificates(read: Read): X509Certificate[] | string {
  const blocks = pemBlocks(read);
  if (typeof blocks === 'string') return blocks;
  const found = blocks.filter((block) => block.label === 'CERTIFICATE');
  if (found.length === 0) return `holds no certificate (PEM of ${kinds(blocks)})`;
  const parsed: X509Certificate[] = [];
  for (const [index, block] of found.entries()) {
    try {
      parsed.push(new X509Certificate(block.text));
    } catch {
      return found.length === 1 ? 'holds a malformed certificate' : `certificate ${index + 1} of ${found.length} is malformed`;
    }
  }
  return parsed;
}

function parseKey(read: Read): KeyObject | string {
  const blocks = pemBlocks(read);
  if (typeof blocks === 'string') return blocks;
  const block = blocks.find((candidate) => candidate.label.endsWith('PRIVATE KEY'));
  if (block === undefined) return `holds no private key (PEM of ${kinds(blocks)})`;
  // PKCS#8 `ENCRYPTED PRIVATE KEY`, or the traditional form's `Proc-Type: 4,ENCRYPTED` header.
  if (block.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type:\s*4,ENCRYPTED/m.test(block.text)) {
    return 'is encrypted (the agent has no passphrase to open it: store it unencrypted, readable by the agent only)';
  }
  try {
    return createPrivateKey(block.text);
  } catch {
    return 'holds a malformed private key';
  }
}

function kinds(blocks: readonly PemBlock[]): string {
  return [...new Set(blocks.map((block) => block.label))].map((label) => `a ${label}`).join(', ');
}

function sameKey(certificateKey: KeyObject, privateKey: KeyObject): boolean {
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
  try {
    return spki(certificateKey).equals(spki(createPublicKey(privateKey)));
  } catch {
    return false;
  }
}

/** Why a certificate cannot be used at `now`, or undefined when it can. */
function validityProblem(cert: X509Certificate, now: number): string | undefined {
  const from = Date.parse(cert.validFrom);
  const to = Date.parse(cert.validTo);
  if (now > to) return `certificate expired on ${new Date(to).toISOString()}`;
  if (now < from) return `certificate not valid before ${new Date(from).toISOString()}`;
  return undefined;
}
