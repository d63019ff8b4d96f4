// Where things are on an offline Windows volume, relative to its root (as evidence and plans name
// them; look them up with resolveCI, which matches case-insensitively and follows nothing).

/** The machine registry hives. */
export const CONFIG_DIR = 'Windows\\System32\\config';
export const configHive = (name: string) => `${CONFIG_DIR}\\${name}`;
export const SOFTWARE_HIVE = configHive('SOFTWARE');
export const SYSTEM_HIVE = configHive('SYSTEM');
export const COMPONENTS_HIVE = configHive('COMPONENTS');

/** WinRE on the OS volume: its configuration, and the image staged there while WinRE is disabled. */
export const RECOVERY_DIR = 'Windows\\System32\\Recovery';
export const REAGENT_XML = `${RECOVERY_DIR}\\ReAgent.xml`;
export const STAGED_WINRE_WIM = `${RECOVERY_DIR}\\Winre.wim`;

/** A component transaction queued for the next boot. */
export const PENDING_XML = 'Windows\\WinSxS\\pending.xml';

/** The hosts file the resolver reads before DNS (update disablers map Windows Update's names there). */
export const HOSTS_FILE = 'Windows\\System32\\drivers\\etc\\hosts';
/** The Task Scheduler folders of Windows Update's own tasks (their XML; the registry TaskCache is Task Scheduler's copy). */
export const WU_TASK_FOLDERS = [
  'Windows\\System32\\Tasks\\Microsoft\\Windows\\UpdateOrchestrator',
  'Windows\\System32\\Tasks\\Microsoft\\Windows\\WindowsUpdate',
];
