// Typed errors with a machine code; the CLI's one top-level handler maps them to exit codes, and
// with --json prints the code too ({"error": {"code", "exitCode", "message"}} on stdout).

/** Documented exit codes (README "Exit codes"). */
export const EXIT = {
  OK: 0,
  USAGE: 1,
  BAD_INPUT: 2,
  REFUSED: 3,
  /** Something was written and did not read back as planned (the journal is needed to undo it). */
  VERIFY_FAILED: 4,
  FINDINGS: 10,
  /** A bug in wufix: the message and stack go to stderr; please report. */
  INTERNAL: 70,
  /** Stopped by Ctrl-C, SIGTERM or SIGHUP: before any change nothing was written, after one it was rolled back. */
  INTERRUPTED: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * Every refusal (exit 3) wufix can give, with what it means. The union is closed: a new refusal
 * needs a line here (and so in the generated docs).
 */
export const REFUSAL_CODES = {
  refused: 'refused as unsafe, for a reason only the message gives',
  'already-undone': 'undo: the run was already undone',
  'apply-failed': 'the repair failed part-way and was rolled back: nothing changed',
  'bad-run-id': 'a run id that is not one wufix makes (it could name a path outside the journal)',
  'bcd-dirty': 'the BCD store was not closed cleanly (bcdedit /enum once, then retry)',
  'bcd-no-winre': 'the BCD store has no WinRE loader entry to re-point, or more than one candidate',
  'bcd-os-loader': 'the Windows loader entry of the BCD store cannot be told apart',
  'bcd-stale': 'a BCD value changed between planning and writing',
  bitlocker: 'a BitLocker-encrypted volume is locked: unlock it first',
  catroot: 'a repair would rename System32\\catroot (never touched, only catroot2)',
  'changed-since': 'a file or the disk changed after the run; undo stops (--force to try anyway)',
  'dirty-hive': 'a hive was not closed cleanly and its logs are not applied: not written',
  'diskpart-plan-mismatch': 'the disk plan cannot be expressed as diskpart commands',
  'diskpart-type': 'a partition type diskpart cannot set',
  'diskpart-unaligned': 'an offset or size diskpart cannot express (not whole MiB / sectors)',
  'dism-failed': 'DISM /RevertPendingActions failed; the run was rolled back',
  exists: 'the destination of a rename or create already exists',
  'invalid-plan': 'a disk plan failed validation: nothing written',
  'journal-link': 'the journal folder (or a file in it) is a link or not a folder',
  'journal-outside-plan': 'the journal lists a file its plan does not name (altered journal)',
  'journal-path': 'the journal names a path outside the volume (altered journal)',
  'journal-ramdisk': 'the journal would live only in the WinPE RAM disk and vanish at reboot',
  'journal-space': 'not enough free space for the journal backup',
  'journal-tar': 'the journal backup.tar is malformed or altered',
  'journal-unauthenticated': "the journal is not sealed with this machine's key: not used",
  'layout-changed': 'the partition table changed since the plan was made',
  link: 'a path the run needs is a symbolic link or junction: never followed',
  'missing-tool': 'a host tool wufix needs is not installed',
  mounted: 'the volume is mounted elsewhere: a second read-write mount would change it',
  'no-disk': 'the disk under the Windows volume cannot be found',
  'no-diskpart': 'diskpart is not available (Windows/WinPE)',
  'no-dism': 'the plan needs DISM, which this host does not have (Windows/WinPE only)',
  'no-letter': 'no free drive letter for the recovery partition',
  'no-partition': 'the partition of the Windows volume cannot be found on its disk',
  'no-tool': 'a Windows tool could not be started',
  'not-root': 'the operation needs root: loop devices, mounts, or a volume only root may write',
  'nothing-to-undo': 'undo: the run changed nothing, or did not finish applying',
  'ntfs-not-resizable': 'ntfsresize cannot shrink the Windows volume as planned',
  'package-not-found': 'remove-package: no installed CBS package by that name or KB',
  'package-protected': 'remove-package: never the servicing stack, a Permanent package or the only cumulative update',
  platform: 'the command is not supported on this operating system',
  'read-only': 'the Windows volume is mounted read-only',
  'running-os': 'the root is the running system, not an offline installation',
  'special-file': 'a path the run needs is a device, FIFO or socket: never opened',
  'state-dir': 'the state directory (key and ledger) is unsafe or inside a target',
  'store-source-bad': 'component-store: --store-source is not a readable install.wim/esd',
  'store-source-mismatch': 'component-store: no image of --store-source is the offline build.UBR and edition',
  'undo-backend': 'the run changed the disk with the other backend (Linux vs Windows)',
  'undo-changed': 'the partition the run created is no longer where it was',
  'unfinished-run': 'an earlier run stopped half-way on this disk: undo it first',
  'overlay-exists': '--overlay names a file that exists: the overlay must be new',
  'unsafe-path': 'a path the run needs escapes the volume or crosses a non-folder',
  'vdisk-attach': 'diskpart could not attach the VHD/VHDX (open in Hyper-V, attached already) or its disk was not found',
  'vdisk-backing-missing': 'a virtual disk reads through a backing file that is missing',
  'vdisk-corrupt': 'qemu-img check finds the virtual-disk container damaged',
  'vdisk-detach': 'diskpart could not detach the VHD/VHDX at the end: detach it by hand',
  'vdisk-locked': 'the virtual disk is in use by a running virtual machine or another process',
  'vdisk-reference': 'a virtual disk reads through something that is not a plain image file (a protocol, a device)',
  'vdisk-path': 'the path of the VHD/VHDX holds a quote or control character diskpart cannot take',
  'vdisk-stream-optimized': 'a streamOptimized VMDK cannot be changed in place: convert it first',
  'vdisk-windows-format': 'on Windows/WinPE only VHD and VHDX are attached (diskpart): convert the image or use Linux',
  'winre-bitlocker': 'WinRE: the OS volume is BitLocker-encrypted; shrinking it is refused',
  'winre-internal': 'WinRE: the planner contradicted itself (a bug; nothing written)',
  'winre-no-free': 'WinRE: the free space of the Windows volume cannot be read',
  'winre-no-os': 'WinRE: the Windows partition is not found on the disk',
  'winre-no-recovery-partition': 'WinRE: there is no recovery partition to rebuild or replace',
  'winre-no-room': 'WinRE: no unallocated space for the new recovery partition',
  'winre-no-sdi': 'WinRE: boot.sdi is missing from the WinRE source',
  'winre-no-wim': 'WinRE: Winre.wim is missing from the WinRE source',
  'winre-os-full': 'WinRE: the Windows volume has too little free space to shrink',
  'winre-os-type': 'WinRE: the Windows partition is not NTFS or not a basic data partition',
  'winre-size-too-small': 'WinRE: --winre-size is smaller than Winre.wim needs',
  'winre-source': 'WinRE: the plan names a source file outside the volume',
  'winre-source-changed': 'WinRE: a source file changed since the plan was made',
  'winre-source-bad': 'WinRE: --winre-source is not a readable install.wim/esd, or its Winre.wim is not a WIM',
  'winre-source-mismatch': 'WinRE: no image of the --winre-source media is the offline Windows build',
  'winre-source-no-winre': 'WinRE: the --winre-source image holds no Winre.wim or boot.sdi',
} as const satisfies Record<string, string>;

export type RefusalCode = keyof typeof REFUSAL_CODES;

/** Every bad-input code (exit 2), with what it means. */
export const BAD_INPUT_CODES = {
  'bad-input': 'input wufix cannot read or does not support, for a reason only the message gives',
  format: 'a file is malformed (the message names the offset)',
  'bad-error-code': 'not a Windows error code (0x........ or a decimal HRESULT)',
  'bcd-os-loader': 'the BCD store has no Windows loader entry to use',
  'bcd-target': 'the BCD re-point target is not a device wufix can write',
  'dirty-no-logs': 'a hive was not closed cleanly and has no usable transaction log to replay',
  'log-missing': 'a log file the scan needs is absent',
  'log-read': 'a log file could not be read',
  'no-key': 'the registry key is not in the hive',
  'no-run': 'no journal for that run id, or no runs at all in the journal (undo: nothing to undo)',
  'no-value': 'the registry value is not in the key',
  'not-a-certificate': 'a --cert file is not a PEM or DER certificate',
  'not-found': 'the file is not there',
  'not-software-hive': 'the hive is not a SOFTWARE hive',
  'not-system-hive': 'the hive is not a SYSTEM hive',
  'not-windows': 'no offline Windows found: not at the root, on the image, or on any mounted volume',
  'reagent-target': 'ReAgent.xml cannot be re-pointed to that partition',
  'several-certificates': 'a --cert file holds more than one certificate',
  'too-large': "a file is larger than its reader's stated cap: not read",
  'virtual-disk': 'a virtual-disk container (VHDX, dynamic VHD, VMDK, qcow2, VDI) where a raw disk is needed: convert or attach it first',
  'winre-input': 'WinRE: a planner input is out of range',
  'winre-source-missing': 'WinRE: a source file the plan names is missing',
} as const satisfies Record<string, string>;

export type BadInputCode = keyof typeof BAD_INPUT_CODES;

/** Every verification-failure code (exit 4). */
export const VERIFICATION_CODES = {
  'verify-failed': 'something written (or restored) does not read back as planned',
  'diskpart-failed': 'diskpart reported a failure; the disk is checked and restored from the journal',
} as const satisfies Record<string, string>;

export type VerificationCode = keyof typeof VERIFICATION_CODES;

/** Every code a WufixError can carry. */
export type ErrorCode = RefusalCode | BadInputCode | VerificationCode | 'usage' | 'interrupted';

export class WufixError extends Error {
  readonly exitCode: ExitCode;
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, exitCode: ExitCode) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Input we cannot read or do not support. `offset` is a file offset when one applies. */
export class BadInputError extends WufixError {
  declare readonly code: BadInputCode;
  readonly file?: string;
  readonly offset?: number;
  constructor(message: string, opts: { file?: string; offset?: number; code?: BadInputCode } = {}) {
    super(opts.code ?? 'bad-input', message, EXIT.BAD_INPUT);
    this.file = opts.file;
    this.offset = opts.offset;
  }
  /** One line: "<file>: at offset 0x...: <problem>". */
  describe(): string {
    const where = this.offset !== undefined ? `at offset 0x${this.offset.toString(16)}: ` : '';
    return `${this.file ? this.file + ': ' : ''}${where}${this.message}`;
  }
}

/** Something we will not do because it could lose data; the message says what, why and what to do. */
export class RefusedError extends WufixError {
  declare readonly code: RefusalCode;
  constructor(message: string, code: RefusalCode = 'refused') {
    super(code, message, EXIT.REFUSED);
  }
}

/** Something written (or restored) does not read back as planned: exit 4. The message says what differs. */
export class VerificationError extends WufixError {
  declare readonly code: VerificationCode;
  constructor(message: string, code: VerificationCode = 'verify-failed') {
    super(code, message, EXIT.VERIFY_FAILED);
  }
}

/** A stop signal ended the run (exit 130); the message says what state the target was left in. */
export class InterruptedError extends WufixError {
  constructor(message: string) {
    super('interrupted', message, EXIT.INTERRUPTED);
  }
}

export class UsageError extends WufixError {
  constructor(message: string) {
    super('usage', message, EXIT.USAGE);
  }
}

/** Raised by parsers on a structural problem; `offset` is relative to the buffer being parsed. */
export class FormatError extends BadInputError {
  constructor(message: string, offset?: number) {
    super(message, { offset, code: 'format' });
  }
}
