// The idevicerestore engine driver and its output parser (the public surface; the tables and
// line helpers stay internal).
export {
  IdevicerestoreLogParser,
  type IdevicerestoreFailure,
  type IdevicerestoreLogParserOptions,
  type IdevicerestoreSuccess,
  type IdevicerestoreVerdict,
} from './log-parser';
export { FAILURE_RULES, type FailureRule, type Classification, type FailureContext } from './failure-rules';
export {
  helpOffersSigningServer,
  idevicerestoreArguments,
  type IdevicerestoreFirmware,
  type IdevicerestoreRequest,
} from './arguments';
export {
  IdevicerestoreDriver,
  type IdevicerestoreDriverOptions,
  type IdevicerestoreRunOptions,
  type IdevicerestoreRunResult,
} from './driver';
