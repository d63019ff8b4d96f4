@echo off
rem Builds WinPE media with wufix (Windows ADK). Run as administrator from "Deployment and Imaging
rem Tools Environment" (it puts copype, Dism and MakeWinPEMedia on PATH and sets WinPERoot).
rem
rem   add-to-winpe.cmd /ISO <file.iso> [<wufix.exe>] [<work dir>]
rem   add-to-winpe.cmd /UFD <drive:>   [<wufix.exe>] [<work dir>]
rem
rem   /ISO   write a bootable ISO (overwrites <file.iso>)
rem   /UFD   FORMAT the USB stick <drive:> as FAT32 and make it bootable (MakeWinPEMedia asks first)
rem   wufix.exe  default: wufix.exe beside this script, else ..\dist\wufix.exe (`make exe`)
rem   work dir   default: %SystemDrive%\WinPE_amd64_wufix; must not exist (copype creates it)
rem
rem Steps: copype amd64; mount media\sources\boot.wim (index 1, copype's only image); add the
rem optional components WinPE-WMI, WinPE-SecureStartup (BitLocker unlock: manage-bde) and
rem WinPE-EnhancedStorage (eDrives), each followed by its en-us language pack, in dependency order;
rem scratch space 512 MB; wufix.exe into \wufix\ of the image (X:\wufix\wufix.exe at boot, ~88 MB of
rem the RAM disk); winpe\startnet.cmd as Windows\System32\startnet.cmd (wpeinit, then the menu:
rem 1 scan all volumes, 2 repair dry run, 3 command prompt); unmount with /Commit; MakeWinPEMedia.
rem Every step is checked; after a failure with the image mounted it is unmounted with /Discard.
rem Linux alternative (wimlib, an existing boot.wim): winpe/add-to-wim.sh.
setlocal EnableExtensions

set "MODE=%~1"
set "TARGET=%~2"
set "EXE=%~3"
set "WORK=%~4"
if /i "%MODE%"=="/ISO" goto args_mode_ok
if /i "%MODE%"=="/UFD" goto args_mode_ok
goto usage
:args_mode_ok
if "%TARGET%"=="" goto usage
if "%EXE%"=="" if exist "%~dp0wufix.exe" set "EXE=%~dp0wufix.exe"
if "%EXE%"=="" set "EXE=%~dp0..\dist\wufix.exe"
if "%WORK%"=="" set "WORK=%SystemDrive%\WinPE_amd64_wufix"
set "STARTNET=%~dp0startnet.cmd"
set "MOUNT=%WORK%\mount"
set "WIM=%WORK%\media\sources\boot.wim"
set "OC=%WinPERoot%\amd64\WinPE_OCs"

rem ---- preconditions (nothing is changed before all of them hold)
set "STEP=checks"
fltmc >nul 2>&1
if errorlevel 1 (
  echo add-to-winpe: run this from an elevated ^(administrator^) prompt.
  exit /b 1
)
if "%WinPERoot%"=="" (
  echo add-to-winpe: WinPERoot is not set: run from "Deployment and Imaging Tools Environment" ^(Windows ADK + WinPE add-on^).
  exit /b 1
)
where copype >nul 2>&1
if errorlevel 1 (
  echo add-to-winpe: copype not found on PATH: run from "Deployment and Imaging Tools Environment".
  exit /b 1
)
if not exist "%EXE%" (
  echo add-to-winpe: %EXE% not found ^(build it with `make exe`, or give its path as the 3rd argument^).
  exit /b 1
)
if not exist "%STARTNET%" (
  echo add-to-winpe: %STARTNET% not found ^(keep this script beside startnet.cmd^).
  exit /b 1
)
if exist "%WORK%" (
  echo add-to-winpe: %WORK% exists; copype needs a new directory. Delete it or give another work dir.
  exit /b 1
)
for %%p in (WinPE-WMI WinPE-SecureStartup WinPE-EnhancedStorage) do if not exist "%OC%\%%p.cab" (
  echo add-to-winpe: %OC%\%%p.cab not found ^(is the WinPE add-on of the ADK installed?^)
  exit /b 1
)
for %%p in (WinPE-WMI WinPE-SecureStartup WinPE-EnhancedStorage) do if not exist "%OC%\en-us\%%p_en-us.cab" (
  echo add-to-winpe: %OC%\en-us\%%p_en-us.cab not found
  exit /b 1
)

rem ---- 1. working copy of WinPE (media\, mount\, fwfiles\)
set "STEP=copype amd64 %WORK%"
echo == %STEP%
call copype amd64 "%WORK%"
if errorlevel 1 goto fail

rem ---- 2. mount boot.wim
set "STEP=Dism /Mount-Image %WIM%"
echo == %STEP%
Dism /Mount-Image /ImageFile:"%WIM%" /Index:1 /MountDir:"%MOUNT%"
if errorlevel 1 goto fail

rem ---- 3. optional components, each with its en-us language pack (WMI first: SecureStartup needs it)
set "STEP=Dism /Add-Package WinPE-WMI"
echo == %STEP%
Dism /Add-Package /Image:"%MOUNT%" /PackagePath:"%OC%\WinPE-WMI.cab"
if errorlevel 1 goto fail_mounted
Dism /Add-Package /Image:"%MOUNT%" /PackagePath:"%OC%\en-us\WinPE-WMI_en-us.cab"
if errorlevel 1 goto fail_mounted

set "STEP=Dism /Add-Package WinPE-SecureStartup"
echo == %STEP%
Dism /Add-Package /Image:"%MOUNT%" /PackagePath:"%OC%\WinPE-SecureStartup.cab"
if errorlevel 1 goto fail_mounted
Dism /Add-Package /Image:"%MOUNT%" /PackagePath:"%OC%\en-us\WinPE-SecureStartup_en-us.cab"
if errorlevel 1 goto fail_mounted

set "STEP=Dism /Add-Package WinPE-EnhancedStorage"
echo == %STEP%
Dism /Add-Package /Image:"%MOUNT%" /PackagePath:"%OC%\WinPE-EnhancedStorage.cab"
if errorlevel 1 goto fail_mounted
Dism /Add-Package /Image:"%MOUNT%" /PackagePath:"%OC%\en-us\WinPE-EnhancedStorage_en-us.cab"
if errorlevel 1 goto fail_mounted

rem Scratch space 512 MB (the maximum): room on X: for what wufix and the tools it runs write there.
set "STEP=Dism /Set-ScratchSpace:512"
echo == %STEP%
Dism /Set-ScratchSpace:512 /Image:"%MOUNT%"
if errorlevel 1 goto fail_mounted

rem ---- 4. wufix.exe to \wufix\ and the start-up menu
set "STEP=copy wufix.exe and startnet.cmd into the image"
echo == %STEP%
if not exist "%MOUNT%\wufix" mkdir "%MOUNT%\wufix"
if errorlevel 1 goto fail_mounted
copy /b /y "%EXE%" "%MOUNT%\wufix\wufix.exe" >nul
if errorlevel 1 goto fail_mounted
copy /b /y "%STARTNET%" "%MOUNT%\Windows\System32\startnet.cmd" >nul
if errorlevel 1 goto fail_mounted
if exist "%MOUNT%\Windows\System32\winpeshl.ini" echo add-to-winpe: warning: the image has Windows\System32\winpeshl.ini, which runs instead of startnet.cmd

rem ---- 5. unmount, keeping the changes
set "STEP=Dism /Unmount-Image /Commit"
echo == %STEP%
Dism /Unmount-Image /MountDir:"%MOUNT%" /Commit
if errorlevel 1 goto fail_mounted

rem ---- 6. bootable media (BIOS and UEFI)
set "STEP=MakeWinPEMedia %MODE% %TARGET%"
echo == %STEP%
if /i "%MODE%"=="/UFD" goto media_ufd
call MakeWinPEMedia /ISO /F "%WORK%" "%TARGET%"
if errorlevel 1 goto fail
goto done
:media_ufd
rem No /F: MakeWinPEMedia shows which drive it will format and asks.
call MakeWinPEMedia /UFD "%WORK%" "%TARGET%"
if errorlevel 1 goto fail

:done
echo add-to-winpe: done: %TARGET% (boots to the wufix menu; wufix is X:\wufix\wufix.exe)
exit /b 0

:fail_mounted
echo add-to-winpe: failed: %STEP%. Discarding the mounted image %MOUNT%.
Dism /Unmount-Image /MountDir:"%MOUNT%" /Discard
if errorlevel 1 echo add-to-winpe: the discard failed too; run: Dism /Cleanup-Mountpoints
exit /b 1

:fail
echo add-to-winpe: failed: %STEP%
exit /b 1

:usage
echo usage: %~nx0 /ISO ^<file.iso^> [^<wufix.exe^>] [^<work dir^>]
echo        %~nx0 /UFD ^<drive:^>   [^<wufix.exe^>] [^<work dir^>]
echo Run as administrator from "Deployment and Imaging Tools Environment" (Windows ADK + WinPE add-on).
exit /b 2
