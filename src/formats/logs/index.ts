// Streaming parsers for the update logs readable offline (windows-update.md §8): ReportingEvents.log,
// CBS.log, the pre-Windows 10 WindowsUpdate.log and .NET/MSI setup logs, one module each. Pure:
// every parser takes an (async) iterable of byte chunks and yields typed records with file + line
// number as evidence. Memory stays bounded by the chunk size and `maxLineLength`, whatever the file
// size; the only fs code is in scan/collect/logs-file.ts.
//
// Times: these logs write wall-clock time. ReportingEvents carries a UTC offset and gets an exact
// Date; CBS.log, WindowsUpdate.log and setup logs have none, so their wall-clock time is encoded
// as if it were UTC (`timeIsLocal: true`), which keeps ordering and the printed value right.
export { DETECT_BYTES, decodeWindows1252, detectEncoding, type DetectedEncoding, type LogEncoding } from './encoding.js';
export * from './lines.js';
export { extractKb, parseLogTime } from './fields.js';
export * from './reporting-events.js';
export * from './cbs.js';
export * from './windowsupdate.js';
export * from './setup.js';
export * from './dism.js';
export * from './panther.js';
export * from './setupdiag.js';
