// The library API: every command's work, without the command line.
export { census, Census, type CensusOptions, type CensusResult, type PatternCount, type DirCount } from './scan/census.js';
export { censusParallel, type ParallelOptions } from './scan/parallel.js';
export { Walker, type WalkVisitor, type WalkOptions } from './scan/walker.js';
export { patternOfName, patternBytes } from './scan/pattern.js';
export { readMounts, parseMountinfo, mountOf, fsUsage, mountOption, type Mount, type FsUsage } from './probe/mounts.js';
export { topJson, topHuman, type TopInput, type TopView } from './report/top.js';
export { display, jsonName } from './report/text.js';
export { SysError } from './sys/libc.js';
export { startTrace, TraceStartError, type Trace, type TraceOptions } from './trace/run.js';
export type { TraceReport } from './trace/summary.js';
export { Lifecycle } from './trace/lifecycle.js';
export { runJob, emptyResult, type CleanResult, type CleanOptions } from './clean/cleaner.js';
export { parseRules, parseAge, parseSpan, globRegExp, RuleError, type Rule } from './clean/rules.js';
export { jobsFromRules, adHocJob, emitRule } from './clean/plan.js';
export type { CleanJob } from './clean/job.js';
