// Reads idevicerestore's console output line by line and turns it into bench's typed restore
// events and, at the end, a verdict: success, or the stage and failure class the output shows.
// Pure: no I/O, no clock of its own (the caller passes one), so the same parser serves the
// engine driver (live output) and `bench classify-log` (a saved log).
import {
  parseEcid,
  type DeviceMode,
  type FailureClass,
  type FailureEvidence,
  type Stage,
} from '@bench/bench-domain';
import type { RestoreEvent } from '../restore-events';
import {
  FAILURE_RULES,
  SECONDARY_ERRORS,
  SPECIFIC,
  UNRECOGNISED,
  UNRECOGNISED_ERROR,
  type Classification,
  type FailureContext,
  type FailureRule,
} from './failure-rules';
import { normalizeSegment, splitSegments, stripAnsi, type LogSegment } from './log-line';
import { parseProgressOperationLine, type ProgressOperationLine } from './progress-operations';
import { BOOT_UPLOAD, PLAIN_PROGRESS_STEPS, STAGE_HINTS, stageIndex } from './stage-hints';

export interface IdevicerestoreFailure {
  ok: false;
  stage: Stage;
  failureClass: FailureClass;
  /** The tool's own line that explains the failure (or a sentence when no line does). */
  message: string;
  /** Why this line means this class, from the rule table. */
  reason: string;
  /** The rule that fired (`no-verdict` when the output simply ends). */
  rule: string;
  /** 1-based line number of `message` in the output, when it is a line. */
  lineNumber?: number;
  evidence: FailureEvidence;
}

export interface IdevicerestoreSuccess {
  ok: true;
  stage: 'finalize';
  /** Line of `Status: Restore Finished`. */
  lineNumber: number;
  message: string;
}

export type IdevicerestoreVerdict = IdevicerestoreSuccess | IdevicerestoreFailure;

export interface IdevicerestoreLogParserOptions {
  /** The device's ECID, when the caller knows it (device events need one). */
  ecid?: string;
  /** Timestamps for events; defaults to 0 so that parsing a saved log is deterministic. */
  now?: () => number;
}

interface RecordedFailure {
  rule: FailureRule | undefined;
  classification: Classification;
  stage: Stage;
  line: string;
  lineNumber: number;
  statusCode?: number;
}

// A device log can be long; the evidence keeps its end, where the failure is.
const DEVICE_LOG_MAX_LINES = 200;
const DEVICE_LOG_MAX_CHARS = 32 * 1024;

const DEVICE_MODES: Record<string, DeviceMode> = {
  normal: 'normal',
  recovery: 'recovery',
  dfu: 'dfu',
  restore: 'restore',
  wtf: 'wtf',
  'port dfu': 'port-dfu',
};

const VERSION_BANNER = /^idevicerestore \d+\.\d+/;
const FOUND_DEVICE = /^Found device in (\w+(?: \w+)?) mode/;
const EVENT_CONNECTED =
  /(?:irecv|idevice)_event_cb: device ([0-9a-fA-F]+) \(udid: [^)]*\) connected in (\w+) mode/;
const ECID_LINE = /^(?:ECID: |Found ECID )(\d{1,20})$/;
const PLAIN_PROGRESS = /^progress: (\d+) (\d+(?:\.\d+)?)$/;
const PROGRESS_BAR = /\[[= ]*\]\s+(\d{1,3}(?:\.\d+)?)%$/;
const CHECKPOINT = /^Checkpoint (?:started|completed|FAILURE|\d+ complete)/;
const LOG_AVAILABLE = /^Log is available:\s*$/;
const PREVIOUS_LOG = /^Previous Restore Log Received:\s*$/;

// Lines idevicerestore itself prints; one of these ends a device log block.
const TOOL_LINE =
  /^(?:Got status message|Status: |Unhandled status message|Cleaning up\.\.\.|DONE$|progress: \d|Checkpoint |ReverseProxy\[|FDR |idevice_event_cb|irecv_event_cb|Unable to |Could not read data|Failed to send\/receive|About to |Sending |Done sending |Waiting for |Connected to |Log is available:|Unknown data request|[^\s:]*\.c:)/;

/**
 * Line-oriented parser of idevicerestore output. `push()` each line (CRLF, `\r` progress
 * redraws and logger prefixes are handled), collect the events it returns, then ask `result()`.
 */
export class IdevicerestoreLogParser {
  private readonly now: () => number;
  private ecid: string | undefined;
  private stage: Stage = 'prepare';
  private lineNumber = 0;
  private recognised = 0;
  private failure: RecordedFailure | undefined;
  private finishedAt: { lineNumber: number; line: string } | undefined;
  private doneSeen = false;
  private sawDevice = false;
  private waitingForRestoreMode = false;
  private reappearedInBootMode = false;
  private lastDeviceMessage: string | undefined;
  private lastPercent = new Map<Stage, number>();
  private uploadBytes: number | undefined;
  /** Inside a device log block: this attempt's (evidence) or a previous restore's (history). */
  private deviceLog: 'evidence' | 'history' | undefined;
  private evidenceLog: string[] = [];

  constructor(options: IdevicerestoreLogParserOptions = {}) {
    this.now = options.now ?? (() => 0);
    this.ecid = options.ecid === undefined ? undefined : parseEcid(options.ecid);
  }

  /** The stage the output shows now. */
  get currentStage(): Stage {
    return this.stage;
  }

  /** How many lines looked like idevicerestore output at all. */
  get recognisedLines(): number {
    return this.recognised;
  }

  push(rawLine: string): RestoreEvent[] {
    this.lineNumber += 1;
    const events: RestoreEvent[] = [];
    for (const piece of splitSegments(rawLine)) this.handleSegment(normalizeSegment(piece), piece, events);
    return events;
  }

  result(): IdevicerestoreVerdict {
    const failure = this.failure;
    if (this.finishedAt && this.doneSeen && (!failure || weightOf(failure) < SPECIFIC)) {
      return {
        ok: true,
        stage: 'finalize',
        lineNumber: this.finishedAt.lineNumber,
        message: this.finishedAt.line,
      };
    }
    if (failure) return this.failureVerdict(failure);
    return this.noVerdict();
  }

  private handleSegment(segment: LogSegment, raw: string, events: RestoreEvent[]): void {
    const { text } = segment;
    if (this.deviceLog) {
      if (!this.endsDeviceLog(segment)) {
        this.appendDeviceLog(raw.trimEnd(), events);
        return;
      }
      this.deviceLog = undefined;
    }
    if (this.handleRunStart(text, events)) return this.countRecognised();
    if (LOG_AVAILABLE.test(text) || PREVIOUS_LOG.test(text)) {
      // only the log of this attempt's failure is evidence; a previous restore's log is history
      this.deviceLog = LOG_AVAILABLE.test(text) ? 'evidence' : 'history';
      if (this.deviceLog === 'evidence') this.evidenceLog = [];
      return this.countRecognised();
    }
    let recognised = this.handleDeviceLines(text, events);
    recognised = this.handleProgress(text, events) || recognised;
    recognised = this.handleStageHints(text, events) || recognised;
    recognised = this.handleFailureRules(segment, printed(raw), events) || recognised;
    recognised = this.handleCompletion(text) || recognised;
    if (segment.level === 'warning') {
      events.push({ type: 'warning', stage: this.stage, message: text, at: this.now() });
    }
    if (recognised || segment.level !== undefined || segment.stamped || TOOL_LINE.test(text)) {
      this.countRecognised();
    }
  }

  private countRecognised(): void {
    this.recognised += 1;
  }

  /** A version banner or a fresh mode detection after a failure starts a new run in the same log. */
  private handleRunStart(text: string, events: RestoreEvent[]): boolean {
    const banner = VERSION_BANNER.test(text);
    const found = FOUND_DEVICE.exec(text);
    if (!banner && !found) return false;
    if (banner || this.failure) this.resetRun();
    if (found) {
      this.sawDevice = true;
      this.setStage('prepare', events);
      const mode = DEVICE_MODES[found[1].toLowerCase()];
      if (mode) this.emitDevice(mode, events);
    }
    return true;
  }

  private resetRun(): void {
    this.stage = 'prepare';
    this.failure = undefined;
    this.finishedAt = undefined;
    this.doneSeen = false;
    this.sawDevice = false;
    this.waitingForRestoreMode = false;
    this.reappearedInBootMode = false;
    this.lastDeviceMessage = undefined;
    this.lastPercent.clear();
    this.evidenceLog = [];
  }

  private handleDeviceLines(text: string, events: RestoreEvent[]): boolean {
    const ecidLine = ECID_LINE.exec(text);
    if (ecidLine) {
      this.ecid ??= parseEcid(ecidLine[1]);
      return true;
    }
    const connected = EVENT_CONNECTED.exec(text);
    if (connected) {
      this.sawDevice = true;
      if (/^[0-9a-f]{16}$/i.test(connected[1])) this.ecid ??= parseEcid(connected[1]);
      const mode = DEVICE_MODES[connected[2].toLowerCase()];
      if (this.waitingForRestoreMode && (mode === 'recovery' || mode === 'dfu')) {
        this.reappearedInBootMode = true;
      }
      if (mode) this.emitDevice(mode, events);
      return true;
    }
    if (CHECKPOINT.test(text)) {
      this.lastDeviceMessage = text;
      return true;
    }
    return /_event_cb: device /.test(text);
  }

  private handleProgress(text: string, events: RestoreEvent[]): boolean {
    const plain = PLAIN_PROGRESS.exec(text);
    if (plain) {
      // after DONE, `progress: <last step> 1.0` only marks the end of the run
      if (!this.doneSeen) this.handlePlainProgress(Number(plain[1]), Number(plain[2]), events);
      return true;
    }
    const bar = PROGRESS_BAR.exec(text);
    if (bar) {
      this.emitProgress(Number(bar[1]), events);
      return true;
    }
    const operation = parseProgressOperationLine(text);
    if (operation) {
      this.handleOperation(operation, text, events);
      return true;
    }
    return false;
  }

  private handlePlainProgress(step: number, fraction: number, events: RestoreEvent[]): void {
    const stage = PLAIN_PROGRESS_STEPS[step];
    // DETECT and PREPARE report over the whole boot chain: attribute them to the stage under way
    if (stage && stage !== this.stage) this.setStage(stage, events);
    this.emitProgress(fraction * 100, events);
  }

  private handleOperation(line: ProgressOperationLine, text: string, events: RestoreEvent[]): void {
    this.lastDeviceMessage = text;
    const stage = line.operation?.stage;
    if (stage && stage !== this.stage) this.setStage(stage, events);
    events.push({
      type: 'progress',
      stage: this.stage,
      // the operation line carries no percent of its own: repeat the stage's last one
      percent: this.lastPercent.get(this.stage) ?? 0,
      deviceOperation: { code: line.printedCode, name: line.name },
      at: this.now(),
    });
  }

  private handleStageHints(text: string, events: RestoreEvent[]): boolean {
    let matched = false;
    for (const hint of STAGE_HINTS) {
      const match = hint.pattern.exec(text);
      if (!match) continue;
      matched = true;
      const stage = typeof hint.stage === 'function' ? hint.stage(match) : hint.stage;
      if (stage && (!hint.advanceOnly || stageIndex(stage) > stageIndex(this.stage))) {
        this.setStage(stage, events);
      }
      if (hint.id === 'waiting-for-restore-mode') this.waitingForRestoreMode = true;
      if (hint.id === 'restored-connect') this.emitDevice('restore', events);
    }
    const upload = BOOT_UPLOAD.exec(text);
    if (upload) this.uploadBytes = Number(upload[2]);
    return matched;
  }

  private handleFailureRules(segment: LogSegment, line: string, events: RestoreEvent[]): boolean {
    const { text } = segment;
    for (const rule of FAILURE_RULES) {
      const match = rule.pattern.exec(text);
      if (!match) continue;
      const context: FailureContext = {
        sawDevice: this.sawDevice,
        reappearedInBootMode: this.reappearedInBootMode,
      };
      const classification =
        typeof rule.classify === 'function' ? rule.classify(match, context) : rule.classify;
      if (rule.fromDevice) this.lastDeviceMessage = text;
      const ruleStage = typeof rule.stage === 'function' ? rule.stage(match) : rule.stage;
      if (ruleStage) this.setStage(ruleStage, events);
      else if (rule.minimumStage && stageIndex(rule.minimumStage) > stageIndex(this.stage)) {
        this.setStage(rule.minimumStage, events);
      }
      this.record({
        rule,
        classification,
        stage: this.stage,
        line,
        lineNumber: this.lineNumber,
        statusCode: rule.statusCode?.(match),
      });
      return true;
    }
    if (segment.level === 'error' && !SECONDARY_ERRORS.some((pattern) => pattern.test(text))) {
      this.record({
        rule: undefined,
        classification: UNRECOGNISED_ERROR,
        stage: this.stage,
        line,
        lineNumber: this.lineNumber,
      });
    }
    return false;
  }

  private handleCompletion(text: string): boolean {
    if (/Status: Restore Finished/.test(text)) {
      this.lastDeviceMessage = text;
      this.finishedAt = { lineNumber: this.lineNumber, line: text };
      return true;
    }
    if (text === 'DONE') {
      this.doneSeen = true;
      return true;
    }
    return false;
  }

  /** The heaviest failure explains the attempt; among equals the first one does. */
  private record(candidate: RecordedFailure): void {
    if (!this.failure || weightOf(candidate) > weightOf(this.failure)) this.failure = candidate;
  }

  private endsDeviceLog(segment: LogSegment): boolean {
    if (segment.stamped) return true;
    if (TOOL_LINE.test(segment.text) || parseProgressOperationLine(segment.text)) return true;
    return FAILURE_RULES.some((rule) => rule.pattern.exec(segment.text)?.index === 0);
  }

  private appendDeviceLog(line: string, events: RestoreEvent[]): void {
    events.push({ type: 'device-log', stage: this.stage, text: line, at: this.now() });
    if (this.deviceLog !== 'evidence') return;
    this.evidenceLog.push(line);
    if (this.evidenceLog.length > DEVICE_LOG_MAX_LINES) this.evidenceLog.shift();
  }

  private setStage(stage: Stage, events: RestoreEvent[]): void {
    if (stage === this.stage) return;
    this.stage = stage;
    this.uploadBytes = undefined;
    events.push({ type: 'stage', stage, at: this.now() });
  }

  private emitProgress(percent: number, events: RestoreEvent[]): void {
    const rounded = Math.min(100, Math.max(0, Math.round(percent * 10) / 10));
    // a redrawn bar repeats itself many times per percent: report whole-percent changes only
    const previous = this.lastPercent.get(this.stage);
    if (previous !== undefined && Math.floor(previous) === Math.floor(rounded) && rounded < 100) return;
    if (previous === 100 && rounded === 100) return;
    this.lastPercent.set(this.stage, rounded);
    events.push({
      type: 'progress',
      stage: this.stage,
      percent: rounded,
      ...(this.uploadBytes === undefined ? {} : { bytesTotal: this.uploadBytes }),
      at: this.now(),
    });
  }

  private emitDevice(mode: DeviceMode, events: RestoreEvent[]): void {
    if (this.ecid === undefined) return;
    events.push({ type: 'device', mode, ecid: this.ecid, at: this.now() });
  }

  private failureVerdict(failure: RecordedFailure): IdevicerestoreFailure {
    return {
      ok: false,
      stage: failure.stage,
      failureClass: failure.classification.failureClass,
      message: failure.line,
      reason: failure.classification.why,
      rule: failure.rule?.id ?? 'unrecognised-error',
      lineNumber: failure.lineNumber,
      evidence: this.evidence(
        failure.stage,
        failure.statusCode,
        `line ${failure.lineNumber}: ${failure.line}`,
      ),
    };
  }

  private noVerdict(): IdevicerestoreFailure {
    const message = this.finishedAt
      ? 'output ends after "Status: Restore Finished" without DONE: idevicerestore did not finish'
      : this.doneSeen
        ? 'idevicerestore printed DONE without "Status: Restore Finished": the device never reported success'
        : `output ends during ${this.stage} without a result`;
    return {
      ok: false,
      stage: this.stage,
      failureClass: 'unknown',
      message,
      reason: 'no line of this output explains the end of the attempt',
      rule: 'no-verdict',
      evidence: this.evidence(this.stage, undefined, message),
    };
  }

  private evidence(stage: Stage, statusCode: number | undefined, detail: string): FailureEvidence {
    const evidence: FailureEvidence = { stage, detail };
    if (this.lastDeviceMessage !== undefined) evidence.lastDeviceMessage = this.lastDeviceMessage;
    if (statusCode !== undefined) evidence.statusCode = statusCode;
    const deviceLog = boundedLog(this.evidenceLog);
    if (deviceLog) evidence.deviceLog = deviceLog;
    return evidence;
  }
}

/** A line as the tool printed it, for messages: colour codes and surrounding blanks removed. */
function printed(raw: string): string {
  return stripAnsi(raw).trim();
}

function weightOf(failure: RecordedFailure): number {
  return failure.rule?.weight ?? UNRECOGNISED;
}

function boundedLog(lines: readonly string[]): string | undefined {
  if (lines.length === 0) return undefined;
  const text = lines.join('\n');
  return text.length > DEVICE_LOG_MAX_CHARS ? text.slice(-DEVICE_LOG_MAX_CHARS) : text;
}
