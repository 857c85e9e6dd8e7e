import { execFile } from 'node:child_process';
import type { NetworkInterfaceInfo } from 'node:os';
import { promisify } from 'node:util';
import t from 'tap';
import { findHostAddress } from '../../src/checks/host.js';

const run = promisify(execFile);

function iface(address: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const common = { address, netmask: '255.255.255.0', mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

t.test('the first non-loopback IPv4 address, in interface order', async (t) => {
  const source = () => ({
    lo: [iface('127.0.0.1', 'IPv4', true), iface('::1', 'IPv6', true)],
    eth0: [iface('fe80::1', 'IPv6'), iface('10.0.0.5', 'IPv4')],
    eth1: [iface('192.168.1.7', 'IPv4')],
  });
  t.equal(findHostAddress('lifeguard', source), '10.0.0.5');
});

t.test('none: loopback only, IPv6 only, a 127/8 address on a non-loopback interface, or nothing', async (t) => {
  t.equal(findHostAddress('lifeguard', () => ({ lo: [iface('127.0.0.1', 'IPv4', true)] })), undefined);
  t.equal(findHostAddress('lifeguard', () => ({ eth0: [iface('2001:db8::1', 'IPv6')] })), undefined);
  t.equal(findHostAddress('lifeguard', () => ({ dummy0: [iface('127.0.0.2', 'IPv4')] })), undefined);
  t.equal(findHostAddress('lifeguard', () => ({})), undefined);
  t.equal(findHostAddress('lifeguard', () => ({ eth0: undefined })), undefined);
});

t.test("Cloud Foundry's rule skips 127.0.0.0/8 addresses only, not interfaces flagged loopback", async (t) => {
  const onLo = () => ({ lo: [iface('127.0.0.1', 'IPv4', true), iface('10.99.0.1', 'IPv4', true)] });
  t.equal(findHostAddress('cloud-foundry', onLo), '10.99.0.1');
  t.equal(findHostAddress('lifeguard', onLo), undefined);
  const both = () => ({ lo: [iface('127.0.0.1', 'IPv4', true), iface('10.99.0.1', 'IPv4', true)], eth0: [iface('10.0.0.5', 'IPv4')] });
  t.equal(findHostAddress('cloud-foundry', both), '10.99.0.1', 'in interface order, lo first as its index is');
  t.equal(findHostAddress('lifeguard', both), '10.0.0.5');
  t.equal(findHostAddress('cloud-foundry', () => ({ dummy0: [iface('127.0.0.2', 'IPv4')] })), undefined);
  t.equal(findHostAddress('cloud-foundry', () => ({ lo: [iface('::1', 'IPv6', true)] })), undefined);
});

// The real os.networkInterfaces, inside network namespaces this test makes (never the machine's own interfaces).
const canUnshare = process.getuid?.() === 0;
const probe = `import('./src/checks/host.ts').then((m) => m.lookUpHostAddress('lifeguard')).then((found) => console.log(typeof found === 'string' ? found : found.message))`;

t.test('in a namespace with only loopback there is none', { skip: canUnshare ? false : 'needs root for unshare -n' }, async (t) => {
  const { stdout } = await run('unshare', ['-n', process.execPath, '--import', 'tsx', '-e', probe], { timeout: 20_000 });
  t.equal(stdout.trim(), 'failure to find suitable interface');
});

t.test('in a namespace with a veth pair, its address is found', { skip: canUnshare ? false : 'needs root for unshare -n' }, async (t) => {
  const script = [
    'ip link add lg0 type veth peer name lg1',
    'ip addr add 10.203.0.1/24 dev lg0',
    'ip link set lg0 up',
    'ip link set lg1 up',
    `exec "${process.execPath}" --import tsx -e "${probe}"`,
  ].join(' && ');
  const { stdout } = await run('unshare', ['-n', 'sh', '-c', script], { timeout: 20_000 });
  t.equal(stdout.trim(), '10.203.0.1');
});
