#Requires -Version 5.1
# ssm.proxy script: read_state
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Reads registry keys (every value, unexpanded) and the tails of files in ONE execution, because every
# module execution over WinRM or SSM costs seconds. Sent by the collection's action plugins through
# ansible.windows.win_powershell; read-only, so it declares SupportsShouldProcess to run in check mode too.
# Its twin in the simulated host (tests/sim) answers the same parameters with the same result shape.
[CmdletBinding(SupportsShouldProcess)]
param (
    [string[]]$RegistryKeys = @(),
    [string[]]$Files = @(),
    [int]$TailBytes = 65536
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# win_regedit style paths (HKLM:\...) to provider paths that need no PSDrive (HKU: has none by default).
$hives = @{
    HKLM = 'HKEY_LOCAL_MACHINE'
    HKU = 'HKEY_USERS'
    HKCU = 'HKEY_CURRENT_USER'
    HKCR = 'HKEY_CLASSES_ROOT'
    HKCC = 'HKEY_CURRENT_CONFIG'
}
$kindNames = @{
    String = 'REG_SZ'
    ExpandString = 'REG_EXPAND_SZ'
    MultiString = 'REG_MULTI_SZ'
    DWord = 'REG_DWORD'
    QWord = 'REG_QWORD'
    Binary = 'REG_BINARY'
    None = 'REG_NONE'
    Unknown = 'REG_NONE'
}

Function Get-RegistryKeyState {
    param ([string]$Path)

    $hive, $subKey = $Path -split ':\\', 2
    $state = @{ path = $Path; exists = $false; values = @{} }
    $key = Get-Item -LiteralPath "Registry::$($hives[$hive.ToUpperInvariant()])\$subKey" -ErrorAction SilentlyContinue
    if (-not $key) {
        return $state
    }
    $state.exists = $true
    foreach ($name in $key.GetValueNames()) {
        $kind = $key.GetValueKind($name).ToString()
        # DoNotExpandEnvironmentNames: REG_EXPAND_SZ as stored, like win_reg_stat's raw_value.
        $data = $key.GetValue($name, $null, 'DoNotExpandEnvironmentNames')
        if ($kind -eq 'Binary') {
            $data = [int[]]$data
        }
        elseif ($kind -eq 'MultiString') {
            $data = [string[]]$data
        }
        $state.values[$name] = @{ type = $kindNames[$kind]; value = $data }
    }
    $key.Close()
    $state
}

Function Get-FileTail {
    param ([string]$Path, [int]$MaxBytes)

    $tail = @{ path = $Path; exists = $false; size = 0; truncated = $false; content = ''; error = $null }
    if (-not (Test-Path -LiteralPath $Path -PathType Leaf)) {
        return $tail
    }
    $tail.exists = $true
    try {
        # The agent keeps its log open for writing: share read/write/delete so neither side is blocked.
        $stream = [System.IO.File]::Open($Path, 'Open', 'Read', 'ReadWrite, Delete')
        try {
            $tail.size = $stream.Length
            $start = [Math]::Max([long]0, $stream.Length - $MaxBytes)
            $tail.truncated = $start -gt 0
            $null = $stream.Seek($start, 'Begin')
            $buffer = New-Object -TypeName byte[] -ArgumentList ($stream.Length - $start)
            $read = 0
            while ($read -lt $buffer.Length) {
                $count = $stream.Read($buffer, $read, $buffer.Length - $read)
                if ($count -eq 0) {
                    break
                }
                $read += $count
            }
            $tail.content = [System.Text.Encoding]::UTF8.GetString($buffer, 0, $read)
        }
        finally {
            $stream.Dispose()
        }
    }
    catch {
        $tail.error = $_.Exception.Message
    }
    $tail
}

$Ansible.Result = @{
    registry = @(foreach ($path in $RegistryKeys) { Get-RegistryKeyState -Path $path })
    files = @(foreach ($path in $Files) { Get-FileTail -Path $path -MaxBytes $TailBytes })
}
