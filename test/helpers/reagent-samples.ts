// ReAgent.xml samples shared by the ReAgent.xml tests (winre.md section 7).
export const Z = '{00000000-0000-0000-0000-000000000000}';
export const WINRE_BCD = '{733b62e6-f608-11eb-825c-c112f60133ab}';

// winre.md §7 skeleton, filled in as an enabled GPT install writes it (UTF-8 with BOM, CRLF).
export const ENABLED = [
  "<?xml version='1.0' encoding='utf-8'?>",
  '',
  '<WindowsRE version="2.0">',
  `  <WinreBCD id="${WINRE_BCD}"/>`,
  '  <WinreLocation path="\\Recovery\\WindowsRE" id="0" offset="105906176" guid="{376e5397-7d1f-4e4f-a668-5a62c1269e60}"/>',
  `  <ImageLocation path="" id="0" offset="0" guid="${Z}"/>`,
  `  <PBRImageLocation path="" id="0" offset="0" guid="${Z}" index="0"/>`,
  `  <PBRCustomImageLocation path="" id="0" offset="0" guid="${Z}" index="0"/>`,
  '  <InstallState state="1"/>',
  '  <OsInstallAvailable state="0"/>',
  '  <CustomImageAvailable state="0"/>',
  '  <IsAutoRepairOn state="1"/>',
  '  <WinREStaged state="0"/>',
  '  <OperationParam path=""/>',
  '  <OperationPermanent state="0"/>',
  '  <OsBuildVersion path="19041.1.amd64fre.vb_release.191206-1406"/>',
  '  <OemTool state="0"/>',
  '  <IsServer state="0"/>',
  `  <DownlevelWinreLocation path="" id="0" offset="0" guid="${Z}"/>`,
  '  <IsWimBoot state="0"/>',
  '  <NarratorScheduled state="0"/>',
  '  <ScheduledOperation state="4"/>',
  '</WindowsRE>',
  '',
].join('\r\n');
