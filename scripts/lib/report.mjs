// How the benchmarks tell what they measured: the machine, flags, a Markdown table, and a hand-drawn SVG chart.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';

/** The machine a result was measured on, as a reader needs it to weigh the numbers. */
export function machine() {
  const model = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model ?? '?';
  return {
    cpu: model,
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: os.release(),
    date: new Date().toISOString(),
  };
}

export function machineLine(m) {
  return `${m.nproc} × ${m.cpu}, ${m.memoryGiB} GiB, Linux ${m.kernel}, Node.js ${m.node}, ${m.date.slice(0, 16)}Z`;
}

/** `--name value` flags with defaults; durations as Go-style strings (500ms, 10s, 1m30s) or numbers. */
export function flags(defaults) {
  const argv = process.argv.slice(2);
  const out = { ...defaults };
  const known = Object.entries(defaults).map(([name, value]) => `--${name} ${value}`).join(' ');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--help' || argv[i] === '-h') {
      process.stdout.write(`flags (with their defaults): ${known}\n`);
      process.exit(0);
    }
    const name = argv[i].replace(/^--/, '');
    if (!(name in defaults)) usage(`unknown flag ${argv[i]}; flags: ${known}`);
    if (argv[i + 1] === undefined) usage(`${argv[i]} needs a value`);
    out[name] = argv[++i];
  }
  return out;
}

/** Bad input to a script: one line on stderr and exit 2, as the agent and the supervisor do. */
export function usage(message) {
  process.stderr.write(`${process.argv[1]?.split('/').pop() ?? 'script'}: ${message}\n`);
  process.exit(2);
}

/** `500ms`, `10s`, `1m30s` → ms. */
export function ms(text) {
  const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let match;
  let end = 0;
  while ((match = re.exec(text)) !== null) {
    total += Number(match[1]) * units[match[2]];
    end = re.lastIndex;
  }
  if (end === 0 || end !== text.length) usage(`not a duration: ${text} (use 500ms, 10s, 1m30s)`);
  return total;
}

export function markdownTable(headers, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export function write(path, text) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

export const RESULTS = join(dirname(new URL(import.meta.url).pathname), '../../bench/results');

const COLORS = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b'];
const escape = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/**
 * Grouped bar charts side by side in one SVG. Each panel: {title, unit, log, groups: [label], series: [{name,
 * values: [number|null per group]}]}. A null value (not measured, or not reached) is drawn as "n/a".
 */
export function svgPanels(title, subtitle, panels) {
  const panelW = 460;
  const panelH = 300;
  const pad = { left: 64, right: 16, top: 40, bottom: 64 };
  const width = panelW * panels.length;
  const height = panelH + 70;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="22" font-size="16" font-weight="bold">${escape(title)}</text>`,
    `<text x="12" y="40" fill="#555">${escape(subtitle)}</text>`,
  ];
  panels.forEach((panel, p) => {
    const x0 = p * panelW + pad.left;
    const y0 = 50 + pad.top;
    const w = panelW - pad.left - pad.right;
    const h = panelH - pad.top - pad.bottom;
    const values = panel.series.flatMap((s) => s.values).filter((v) => v !== null && v > 0);
    const max = Math.max(...values, 1e-9);
    const min = panel.log ? Math.min(...values, max) : 0;
    const lo = panel.log ? 10 ** Math.floor(Math.log10(min)) : 0;
    const hi = panel.log ? 10 ** Math.ceil(Math.log10(max)) : niceCeil(max);
    const scale = (v) => (panel.log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1) : v / hi);
    parts.push(`<text x="${x0}" y="${y0 - 18}" font-weight="bold">${escape(panel.title)} (${escape(panel.unit)}${panel.log ? ', log scale' : ''})</text>`);
    const ticks = panel.log ? decades(lo, hi) : [0, hi / 4, hi / 2, (3 * hi) / 4, hi];
    for (const tick of ticks) {
      const y = y0 + h - scale(tick) * h;
      parts.push(`<line x1="${x0}" x2="${x0 + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`, `<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${fmt(tick)}</text>`);
    }
    const groupW = w / panel.groups.length;
    const barW = (groupW * 0.8) / panel.series.length;
    panel.groups.forEach((group, g) => {
      parts.push(`<text x="${x0 + g * groupW + groupW / 2}" y="${y0 + h + 16}" text-anchor="middle">${escape(group)}</text>`);
      panel.series.forEach((series, s) => {
        const v = series.values[g];
        const x = x0 + g * groupW + groupW * 0.1 + s * barW;
        if (v === null || v === undefined) {
          parts.push(`<text x="${x + barW / 2}" y="${y0 + h - 4}" text-anchor="middle" font-size="9" fill="#888">n/a</text>`);
          return;
        }
        const bh = Math.max(1, scale(v) * h);
        parts.push(`<rect x="${x}" y="${y0 + h - bh}" width="${barW - 2}" height="${bh}" fill="${COLORS[s % COLORS.length]}"><title>${escape(series.name)} ${escape(group)}: ${fmt(v)} ${escape(panel.unit)}</title></rect>`);
      });
    });
    panel.series.forEach((series, s) => {
      const lx = x0 + (s % 3) * 130;
      const ly = y0 + h + 34 + Math.floor(s / 3) * 16;
      parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${COLORS[s % COLORS.length]}"/>`, `<text x="${lx + 14}" y="${ly}">${escape(series.name)}</text>`);
    });
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function niceCeil(v) {
  const step = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * step >= v) return m * step;
  return 10 * step;
}

function decades(lo, hi) {
  const out = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) out.push(v);
  return out;
}

export function fmt(v) {
  if (v === null || v === undefined) return '—';
  if (v === 0) return '0';
  if (Math.abs(v) >= 100) return String(Math.round(v));
  if (Math.abs(v) >= 1) return String(Math.round(v * 10) / 10);
  return String(Number(v.toPrecision(2)));
}
