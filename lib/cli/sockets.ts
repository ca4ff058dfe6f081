import * as fs from 'fs';

/** A socket bound for incoming traffic on this machine. */
export interface Listener {
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
  readonly address: string;
  readonly inode: number;
  readonly process?: { readonly pid: number; readonly name: string; readonly command: string };
}

function hexToIpv4(hex: string): string {
  // /proc stores the address as a little-endian 32-bit number.
  return [6, 4, 2, 0].map(i => parseInt(hex.slice(i, i + 2), 16)).join('.');
}

function hexToIpv6(hex: string): string {
  const words: string[] = [];
  for (let i = 0; i < 32; i += 8) {
    const group = hex.slice(i, i + 8);
    const le = group.match(/../g)!.reverse().join('');
    words.push(le.slice(0, 4), le.slice(4, 8));
  }
  return words.map(w => w.replace(/^0{1,3}/, '')).join(':').toLowerCase();
}

/**
 * Parses a kernel socket table (/proc/net/tcp, tcp6, udp, udp6). TCP sockets count when
 * they are in LISTEN (0A); UDP sockets when they are bound and unconnected (07).
 */
export function parseProcNet(text: string, protocol: 'TCP' | 'UDP', v6: boolean): Listener[] {
  const out: Listener[] = [];
  for (const line of text.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [addressHex, portHex] = cols[1].split(':');
    const state = cols[3];
    if (protocol === 'TCP' ? state !== '0A' : state !== '07') continue;
    out.push({
      port: parseInt(portHex, 16), protocol, address: v6 ? hexToIpv6(addressHex) : hexToIpv4(addressHex), inode: Number(cols[9]),
    });
  }
  return out;
}

/** socket inode -> process, from /proc/<pid>/fd (only the processes this user may inspect). */
function socketOwners(): Map<number, NonNullable<Listener['process']>> {
  const owners = new Map<number, NonNullable<Listener['process']>>();
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter(p => /^\d+$/.test(p));
  } catch {
    return owners;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    let info: NonNullable<Listener['process']> | undefined;
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m) continue;
      if (!info) {
        const read = (f: string) => { try { return fs.readFileSync(`/proc/${pid}/${f}`, 'utf8'); } catch { return ''; } };
        info = { pid: Number(pid), name: read('comm').trim(), command: read('cmdline').split('\0').filter(Boolean).join(' ') };
      }
      owners.set(Number(m[1]), info);
    }
  }
  return owners;
}

/** Every listening socket of this machine, with its process where the OS tells. Linux only. */
export function listeners(): Listener[] {
  if (process.platform !== 'linux' || !fs.existsSync('/proc/net/tcp')) {
    throw new Error(`status reads the kernel's socket tables (/proc/net), which this platform (${process.platform}) does not have; ` +
      'on macOS use `lsof -nP -iTCP -sTCP:LISTEN` against manifests/ports.json');
  }
  const tables: Array<[string, 'TCP' | 'UDP', boolean]> = [
    ['/proc/net/tcp', 'TCP', false], ['/proc/net/tcp6', 'TCP', true], ['/proc/net/udp', 'UDP', false], ['/proc/net/udp6', 'UDP', true],
  ];
  const all: Listener[] = [];
  for (const [file, protocol, v6] of tables) {
    if (fs.existsSync(file)) all.push(...parseProcNet(fs.readFileSync(file, 'utf8'), protocol, v6));
  }
  const owners = socketOwners();
  return all.map(l => (owners.has(l.inode) ? { ...l, process: owners.get(l.inode) } : l));
}
