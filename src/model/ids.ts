// The closed set of repair ids: the one list the CLI, the plans, the findings and the error-code
// table name repairs by (the finding ids are FindingId in ./scan.ts).

/** Every repair module's id, in plan order (--only/--skip accept exactly these; cli/wiring.ts has the modules). */
export const REPAIR_IDS = [
  'wintrust',
  'trust-cert',
  'services',
  'qualitycompat',
  'au-pause',
  'au-resume',
  'wsus-policy',
  'wu-hosts',
  'wu-tasks',
  'pending',
  'wu-cache',
  'component-store',
  'remove-package',
  'winre',
] as const;

export type RepairId = (typeof REPAIR_IDS)[number];

export const isRepairId = (s: string): s is RepairId => (REPAIR_IDS as readonly string[]).includes(s);
