<#
.SYNOPSIS
  TrustLens for Windows: registers (or removes) the native-messaging host
  with Google Chrome, Microsoft Edge and Firefox.

.DESCRIPTION
  UNTESTED HERE: the project is built and tested on Debian only.

  Writes one manifest per browser family next to the host and sets the
  default value of each browser's registry key to that manifest's path,
  following the host's own table (host/install.c, "Windows" rows;
  tests/install/run.sh checks that every row appears in this file):

    chrome   HKCU/HKLM  Software\Google\Chrome\NativeMessagingHosts\org.trustlens.host
    edge     HKCU/HKLM  Software\Microsoft\Edge\NativeMessagingHosts\org.trustlens.host
    firefox  HKCU/HKLM  Software\Mozilla\NativeMessagingHosts\org.trustlens.host

  Brave, Vivaldi and Opera on Windows read Google Chrome's key.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File install.ps1 -Scope CurrentUser
  powershell -ExecutionPolicy Bypass -File install.ps1 -Scope AllUsers -HostPath "C:\Program Files\TrustLens\trustlens-host.exe"
  powershell -ExecutionPolicy Bypass -File install.ps1 -Scope CurrentUser -Uninstall
#>
param(
    [ValidateSet('CurrentUser', 'AllUsers')] [string] $Scope = 'CurrentUser',
    [string] $HostPath = (Join-Path $PSScriptRoot 'trustlens-host.exe'),
    [switch] $Uninstall
)
$ErrorActionPreference = 'Stop'

$Name = 'org.trustlens.host'
$ChromiumOrigin = 'chrome-extension://npfbfafbeggpjpnhdcidonbfednhhnij/'
$GeckoId = 'trustlens@trustlens.org'

# browser, family, key (the same under HKCU and HKLM)
$Rows = @(
    @{ Browser = 'chrome';  Family = 'chromium'; Key = 'Software\Google\Chrome\NativeMessagingHosts\org.trustlens.host' },
    @{ Browser = 'edge';    Family = 'chromium'; Key = 'Software\Microsoft\Edge\NativeMessagingHosts\org.trustlens.host' },
    @{ Browser = 'firefox'; Family = 'firefox';  Key = 'Software\Mozilla\NativeMessagingHosts\org.trustlens.host' }
)

$Hive = if ($Scope -eq 'AllUsers') { 'HKLM:' } else { 'HKCU:' }
$ManifestDir = if ($Scope -eq 'AllUsers') { Join-Path $env:ProgramData 'TrustLens' } else { Join-Path $env:LOCALAPPDATA 'TrustLens' }

foreach ($row in $Rows) {
    $key = Join-Path $Hive $row.Key
    $file = Join-Path $ManifestDir "$Name.$($row.Family).json"
    if ($Uninstall) {
        if (Test-Path $key) { Remove-Item -Path $key -Force; Write-Output "$($row.Browser): removed $key" }
        continue
    }
    if (-not (Test-Path $HostPath)) { throw "No host at $HostPath (use -HostPath)" }
    New-Item -ItemType Directory -Force -Path $ManifestDir | Out-Null
    $manifest = [ordered]@{
        name        = $Name
        description = 'TrustLens: who is proven to be behind a site or a mail'
        path        = (Resolve-Path $HostPath).Path
        type        = 'stdio'
    }
    if ($row.Family -eq 'firefox') { $manifest.allowed_extensions = @($GeckoId) }
    else { $manifest.allowed_origins = @($ChromiumOrigin) }
    # UTF-8 without BOM: browsers refuse a manifest that starts with one.
    $json = $manifest | ConvertTo-Json -Depth 3
    [System.IO.File]::WriteAllText($file, $json, (New-Object System.Text.UTF8Encoding($false)))
    New-Item -Path $key -Force | Out-Null
    Set-Item -Path $key -Value $file
    Write-Output "$($row.Browser): $key -> $file"
}
if ($Uninstall) {
    foreach ($f in 'chromium', 'firefox') { Remove-Item -Force -ErrorAction SilentlyContinue (Join-Path $ManifestDir "$Name.$f.json") }
}
