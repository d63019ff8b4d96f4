// Fault injection for the crash-safety tests, at named points of a save or a repair:
// WUFIX_TEST_CRASH_AT=<point> kills the process with SIGKILL there (a power cut),
// WUFIX_TEST_SIGINT_AT=<point> delivers Ctrl-C there. Without those variables it does nothing.
export function faultPoint(point: string): void {
  if (process.env.WUFIX_TEST_CRASH_AT === point) process.kill(process.pid, 'SIGKILL');
  if (process.env.WUFIX_TEST_SIGINT_AT === point) process.emit('SIGINT', 'SIGINT');
}
