// Bundled by bench/run.mjs into bench/out/winre-image.cjs: the test helpers that build a Windows
// disk image for the WinRE rebuild bench (real sgdisk table, mkntfs, wimcapture Winre.wim, BCD).
export { buildWinreDisk, laptopParts } from '../test/helpers/winre-images.js';
export { buildWindowsTree } from '../test/helpers/winbuilder.js';
export { win10Winre } from '../test/scan/scenarios.js';
export { gptEnd } from '../test/helpers/disk-images.js';
