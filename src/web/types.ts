// The shapes the page reads from the agent's API: the agent's own types (docs/json.md).
export type { Forecast, Point, Sample, MountSample, PatternSample, UserWatchSample, Resource, AgentStatus } from '../agent/types.js';

