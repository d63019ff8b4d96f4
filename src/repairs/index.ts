// The repair modules, in the order a plan applies them: registry repairs first, then file renames
// (pending.xml, the update caches), so a failure in a rename rolls back the registry too. winre's
// disk rebuild runs before all of them (with the volume unmounted, src/winre/run.ts).
import type { RepairModule } from '../model/plan.js';
import { wintrust } from './wintrust.js';
import { trustcert } from './trustcert.js';
import { services } from './services.js';
import { qualityCompat } from './qualitycompat.js';
import { auPause, auResume } from './aupause.js';
import { pending } from './pending.js';
import { wucache } from './wucache.js';
import { winre } from '../winre/repair.js';

export const REPAIRS: RepairModule[] = [wintrust, trustcert, services, qualityCompat, auPause, auResume, pending, wucache, winre];
