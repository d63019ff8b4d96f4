declare const __WUFIX_VERSION__: string | undefined;
declare const __WUFIX_COMMIT__: string | undefined;
declare const __WUFIX_BUILD_DATE__: string | undefined;

export function versionString(): string {
  const v = typeof __WUFIX_VERSION__ === 'string' ? __WUFIX_VERSION__ : '0.0.0-dev';
  const c = typeof __WUFIX_COMMIT__ === 'string' ? __WUFIX_COMMIT__ : 'unknown';
  const d = typeof __WUFIX_BUILD_DATE__ === 'string' ? __WUFIX_BUILD_DATE__ : 'unbuilt';
  return `wufix ${v} (commit ${c}, built ${d})`;
}
