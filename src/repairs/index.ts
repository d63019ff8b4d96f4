// The repair modules that change only the Windows volume, in the order a plan applies them: registry
// repairs first, then the hosts file rewrite and the scheduled tasks (TaskCache values, then each task file), then file renames (pending.xml, the update caches), so a failure in a rename rolls
// back the registry too. The full registry, with winre (whose disk rebuild runs before all of these,
// with the volume unmounted: src/winre/run.ts), is src/cli/wiring.ts.
import type { Repair } from '../engine/volume.js';
import { wintrust } from './wintrust.js';
import { trustcert } from './trustcert.js';
import { services } from './services.js';
import { qualityCompat } from './qualitycompat.js';
import { auPause, auResume } from './aupause.js';
import { wsusPolicy } from './wsuspolicy.js';
import { wuHosts } from './hosts.js';
import { wuTasks } from './tasks.js';
import { pending } from './pending.js';
import { wucache } from './wucache.js';
import { componentStore } from './componentstore.js';
import { removePackage } from './removepackage.js';

export const VOLUME_REPAIRS: readonly Repair[] = [
  wintrust,
  trustcert,
  services,
  qualityCompat,
  auPause,
  auResume,
  wsusPolicy,
  wuHosts,
  wuTasks,
  pending,
  wucache,
  componentStore,
  removePackage,
];
