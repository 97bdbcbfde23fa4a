// The two hubs the collector writes (names are shared with bicep/ and the pipeline's stream_collected activity).
import type { HubRole } from './mapping.ts';

export const DEFAULT_HUBS: Record<HubRole, string> = { behavioral: 'c360-behavioral-events', identity: 'c360-id-resolution' };
