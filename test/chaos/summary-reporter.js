// The chaos suite's last line: the figures every test file recorded (test/chaos/figures.ts),
// added up. Runs after jest's own summary (list it after `default` in --reporters).
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

const FIGURES_DIR_ENV = 'BENCH_CHAOS_FIGURES';

function plural(count, one, many = `${one}s`) {
  return `${count} ${count === 1 ? one : many}`;
}

function readFigures(dir) {
  const total = {};
  let files = [];
  try {
    files = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return { total, files: 0 };
  }
  for (const name of files) {
    const figures = JSON.parse(readFileSync(path.join(dir, name), 'utf8'));
    for (const [key, value] of Object.entries(figures)) total[key] = (total[key] ?? 0) + value;
  }
  return { total, files: files.length };
}

function summaryLine(f) {
  const n = (key) => f[key] ?? 0;
  const done = [
    plural(n('agentKills'), 'agent kill'),
    plural(n('serverKills'), 'server kill'),
    plural(n('redisRestarts'), 'redis restart'),
    `${n('databaseOutageSeconds')} s database outage`,
    plural(n('attaches'), 'attach', 'attaches'),
    plural(n('malformedInputs'), 'malformed input'),
  ];
  const outcome = [
    `${n('runsChecked')} runs checked`,
    `${n('runsLost')} lost`,
    `${n('runsDuplicated')} duplicated`,
    plural(n('crashes'), 'crash', 'crashes'),
    `${n('clearErrors')}/${n('malformedInputs')} clear errors`,
  ];
  return `chaos: ${done.join(', ')} — ${outcome.join(', ')}`;
}

class ChaosSummaryReporter {
  onRunComplete() {
    const dir = process.env[FIGURES_DIR_ENV];
    if (!dir) return;
    const { total, files } = readFigures(dir);
    process.stdout.write(
      `\n${files === 0 ? 'chaos: no figures recorded (no chaos test ran)' : summaryLine(total)}\n`,
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = ChaosSummaryReporter;
module.exports.summaryLine = summaryLine;
