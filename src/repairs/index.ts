// The repair modules, in the order a plan applies them.
import type { RepairModule } from '../engine/types.js';
import { wintrust } from './wintrust.js';

export const REPAIRS: RepairModule[] = [wintrust];
