@echo off
rem wufix WinPE start-up and menu. WinPE runs System32\startnet.cmd through `cmd /k` when the image
rem has no Winpeshl.ini; this one is put there by winpe\add-to-winpe.cmd (ADK) or
rem winpe/add-to-wim.sh (wimlib). On a stick with another PE (Ventoy, Hiren's), copy it beside
rem wufix.exe and run it from the PE's shell as `D:\wufix\startnet.cmd menu` (see winpe\README.md).
rem   startnet.cmd        wpeinit (PnP, network, unattend), then the menu
rem   startnet.cmd menu   the menu only (to come back from the command prompt)
rem Keep this file ASCII with CRLF line endings (cmd.exe mis-reads labels in LF-only files).
setlocal EnableExtensions
if /i not "%~1"=="menu" wpeinit

rem wufix.exe: beside this script, in the image (X:\wufix), or \wufix on any drive (a USB data
rem partition). Drive letters change from boot to boot, so they are searched, never assumed.
set "WUFIX="
if exist "%~dp0wufix.exe" set "WUFIX=%~dp0wufix.exe"
if not defined WUFIX if exist "%SystemDrive%\wufix\wufix.exe" set "WUFIX=%SystemDrive%\wufix\wufix.exe"
if not defined WUFIX for %%d in (C D E F G H I J K L M N O P Q R S T U V W Y Z) do if not defined WUFIX if exist "%%d:\wufix\wufix.exe" set "WUFIX=%%d:\wufix\wufix.exe"
if not defined WUFIX (
  echo wufix.exe not found in %SystemDrive%\wufix or \wufix on any drive.
  goto shell
)

:menu
echo.
echo   wufix - offline Windows Update repair   (%WUFIX%)
echo.
echo   1  Scan all volumes: find each offline Windows and explain its update failures
echo   2  Repair, dry run: the plan for one volume (changes nothing)
echo   3  Command prompt
echo.
set "CH="
set /p "CH=Choice [1-3]: "
if "%CH%"=="1" goto scan
if "%CH%"=="2" goto dryrun
if "%CH%"=="3" goto shell
goto menu

:scan
"%WUFIX%" scan
echo.
echo wufix scan exit code %errorlevel% (0 nothing to fix, 10 findings). More: "%WUFIX%" scan --help
pause
goto menu

:dryrun
set "DRV="
set /p "DRV=Drive letter of the offline Windows (for example C): "
if not defined DRV goto menu
set "DRV=%DRV::=%"
set "DRV=%DRV:\=%"
if not defined DRV goto menu
if not "%DRV:~1%"=="" (
  echo Give one drive letter, for example C.
  goto dryrun
)
if not exist "%DRV%:\Windows\System32\config\SYSTEM" (
  echo %DRV%: does not hold an offline Windows ^(no %DRV%:\Windows\System32\config\SYSTEM^).
  pause
  goto menu
)
rem No quotes around the root: `"C:\"` would reach wufix as C:" (backslash-quote is an escape).
"%WUFIX%" repair --root %DRV%:\ --dry-run
echo.
echo To apply: "%WUFIX%" repair --root %DRV%:\   (shows the plan, asks before writing)
pause
goto menu

:shell
echo.
if defined WUFIX echo Command prompt. wufix: "%WUFIX%" --help    Back to the menu: startnet menu
endlocal & set "WUFIX=%WUFIX%"
exit /b 0
