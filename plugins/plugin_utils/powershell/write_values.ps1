#Requires -Version 5.1
# ssm.proxy script: write_values
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Writes several registry values in ONE execution, because every module execution over WinRM or SSM costs
# seconds: the role's backups and settings of all three components go in one. The values were decided on
# the controller from an earlier read (read_state.ps1); before anything is written, each value in Expect
# must still hold what that read saw, and RunsKey must hold no run marker the read did not see, or nothing
# is written and the conflicts are returned (another run, or a person, changed the host since the read).
# Changes are then applied in their order (backups first); a change that fails stops the script, which
# reports how many were applied and which one failed, so the controller can roll back what was written.
# It changes the host, so no SupportsShouldProcess: win_powershell skips it in check mode. Its twin in the
# simulated host (tests/sim) answers the same parameters with the same result shape.
#
# A value is @{ path = 'HKLM:\...'; name = '...'; exists = $true; type = 'REG_SZ'; value = ... } with the
# value as read_state.ps1 reports it: REG_BINARY and REG_NONE as one lowercase hex string, REG_DWORD and
# REG_QWORD signed (as .NET's GetValue returns them), REG_MULTI_SZ as a list; exists = $false removes it.
[CmdletBinding()]
param (
    [object[]]$Changes = @(),
    [object[]]$Expect = @(),
    # A key whose value names with an '@' mark runs in progress (<component>@<run id>), and the ones seen.
    [string]$RunsKey = '',
    [string[]]$KnownRuns = @(),
    # Keys removed after the changes when they hold no value and no subkey.
    [string[]]$RemoveIfEmpty = @()
)

$ErrorActionPreference = 'Stop'
# win_powershell reports $Ansible.Changed (default $true) even when the script throws.
$Ansible.Changed = $false

# Under WDAC/AppLocker enforcement the .NET calls below are refused in ConstrainedLanguage: say so first.
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    $Ansible.Result = @{ language_mode = [string]$ExecutionContext.SessionState.LanguageMode; conflicts = @(); applied = @() }
    return
}

$hives = @{
    HKLM = [Microsoft.Win32.RegistryHive]::LocalMachine
    HKU = [Microsoft.Win32.RegistryHive]::Users
    HKCU = [Microsoft.Win32.RegistryHive]::CurrentUser
    HKCR = [Microsoft.Win32.RegistryHive]::ClassesRoot
    HKCC = [Microsoft.Win32.RegistryHive]::CurrentConfig
}
$kinds = @{
    REG_SZ = [Microsoft.Win32.RegistryValueKind]::String
    REG_EXPAND_SZ = [Microsoft.Win32.RegistryValueKind]::ExpandString
    REG_MULTI_SZ = [Microsoft.Win32.RegistryValueKind]::MultiString
    REG_DWORD = [Microsoft.Win32.RegistryValueKind]::DWord
    REG_QWORD = [Microsoft.Win32.RegistryValueKind]::QWord
    REG_BINARY = [Microsoft.Win32.RegistryValueKind]::Binary
    REG_NONE = [Microsoft.Win32.RegistryValueKind]::None
}
$kindNames = @{}
foreach ($entry in $kinds.GetEnumerator()) {
    $kindNames[$entry.Value.ToString()] = $entry.Key
}

Function Split-RegistryPath {
    param ([string]$Path)

    $hive, $subKey = $Path -split ':\\', 2
    if (-not $hives.ContainsKey($hive) -or -not $subKey) {
        throw "'$Path' is not a registry key path such as HKLM:\SOFTWARE\ssm.proxy."
    }
    # The 64-bit view whatever the bitness of this process, as read_state.ps1 reads it.
    [Microsoft.Win32.RegistryKey]::OpenBaseKey($hives[$hive], [Microsoft.Win32.RegistryView]::Registry64), $subKey
}

Function Get-ValueState {
    # A value as read_state.ps1 reports it, or exists = $false.
    param ([string]$Path, [string]$Name)

    $base, $subKey = Split-RegistryPath -Path $Path
    try {
        $key = $base.OpenSubKey($subKey, $false)
        if ($null -eq $key) {
            return @{ exists = $false }
        }
        try {
            if ($key.GetValueNames() -notcontains $Name) {
                return @{ exists = $false }
            }
            $kind = $key.GetValueKind($Name).ToString()
            $data = $key.GetValue($Name, $null, 'DoNotExpandEnvironmentNames')
            if ($data -is [byte[]]) {
                $data = [System.BitConverter]::ToString($data).Replace('-', '').ToLowerInvariant()
            }
            elseif ($kind -eq 'MultiString') {
                $data = [string[]]$data
            }
            # Kinds outside .NET's enum (REG_LINK, ...) read as Unknown: never what the controller expects.
            $type = if ($kindNames.ContainsKey($kind)) { $kindNames[$kind] } else { 'REG_UNKNOWN' }
            @{ exists = $true; type = $type; value = $data }
        }
        finally {
            $key.Dispose()
        }
    }
    finally {
        $base.Dispose()
    }
}

Function Test-SameText {
    # Ordinal: -ceq compares with the invariant culture, which ignores some characters (NUL, soft hyphen).
    param ([string]$Left, [string]$Right)

    [string]::Equals($Left, $Right, [System.StringComparison]::Ordinal)
}

Function Test-SameValue {
    # Exact comparison, letter case included: "unchanged since the read" means the same bytes.
    param ([hashtable]$Current, $Wanted)

    if (-not $Wanted.exists) {
        return -not $Current.exists
    }
    if (-not $Current.exists -or -not (Test-SameText $Current.type $Wanted.type)) {
        return $false
    }
    if ($Wanted.type -eq 'REG_MULTI_SZ') {
        $old = @($Current.value)
        $new = @($Wanted.value)
        if ($old.Count -ne $new.Count) {
            return $false
        }
        for ($i = 0; $i -lt $old.Count; $i++) {
            if (-not (Test-SameText $old[$i] $new[$i])) {
                return $false
            }
        }
        return $true
    }
    if ($Wanted.type -in @('REG_DWORD', 'REG_QWORD') -and $Current.value -isnot [string]) {
        return [long]$Current.value -eq [long]$Wanted.value
    }
    # A DWORD/QWORD stored with more bytes than its kind reads as bytes (hex), as read_state.ps1 reports it.
    Test-SameText $Current.value $Wanted.value
}

Function ConvertTo-RegistryData {
    # What RegistryKey.SetValue takes for each kind. .NET Framework converts DWord/QWord data with
    # Convert.ToInt32/ToInt64, so they arrive signed; a hex string becomes its bytes.
    param ($Change)

    switch ($Change.type) {
        { $_ -in @('REG_SZ', 'REG_EXPAND_SZ') } { return [string]$Change.value }
        # The unary comma keeps the array whole: returned bare, PowerShell would unroll it (an empty one to
        # nothing, one line to a string), and SetValue casts MultiString data to string[].
        'REG_MULTI_SZ' { return , [string[]]@($Change.value | ForEach-Object { [string]$_ }) }
        'REG_DWORD' { return [int]$Change.value }
        'REG_QWORD' { return [long]$Change.value }
        { $_ -in @('REG_BINARY', 'REG_NONE') } {
            $hex = [string]$Change.value
            $bytes = New-Object -TypeName byte[] -ArgumentList ([int]($hex.Length / 2))
            for ($i = 0; $i -lt $bytes.Length; $i++) {
                $bytes[$i] = [System.Convert]::ToByte($hex.Substring($i * 2, 2), 16)
            }
            return , $bytes
        }
        default { throw "$($Change.path)\$($Change.name): unknown value type '$($Change.type)'." }
    }
}

Function Set-Change {
    # Returns whether the registry changed (removing a value that is not there changes nothing).
    param ($Change)

    $base, $subKey = Split-RegistryPath -Path $Change.path
    try {
        if ($Change.exists) {
            if (-not $kinds.ContainsKey([string]$Change.type)) {
                throw "unknown value type '$($Change.type)'."
            }
            $data = ConvertTo-RegistryData -Change $Change
            # CreateSubKey opens an existing key for writing, or creates it with its missing parents.
            $key = $base.CreateSubKey($subKey)
            try {
                $key.SetValue([string]$Change.name, $data, $kinds[[string]$Change.type])
            }
            finally {
                $key.Dispose()
            }
            return $true
        }
        $key = $base.OpenSubKey($subKey, $true)
        if ($null -eq $key) {
            return $false
        }
        try {
            if ($key.GetValueNames() -notcontains [string]$Change.name) {
                return $false
            }
            # DeleteValue(name, $false) ignores every error of RegDeleteValue, not only "not found"
            # (RegistryKey.DeleteValue, .NET Framework reference source): look again.
            $key.DeleteValue([string]$Change.name, $false)
            if ($key.GetValueNames() -contains [string]$Change.name) {
                throw "Windows did not remove the value (RegDeleteValue was refused)."
            }
            return $true
        }
        finally {
            $key.Dispose()
        }
    }
    finally {
        $base.Dispose()
    }
}

Function Remove-EmptyKey {
    param ([string]$Path)

    $base, $subKey = Split-RegistryPath -Path $Path
    try {
        $key = $base.OpenSubKey($subKey, $false)
        if ($null -eq $key) {
            return $false
        }
        try {
            $empty = $key.ValueCount -eq 0 -and $key.SubKeyCount -eq 0
        }
        finally {
            $key.Dispose()
        }
        if ($empty) {
            $base.DeleteSubKey($subKey, $false)
        }
        $empty
    }
    finally {
        $base.Dispose()
    }
}

Function Get-Reason {
    # PowerShell wraps .NET's exception ('Exception calling "SetValue" with "3" argument(s): ...'): keep what
    # Windows said. The registry API's messages name the key at most, never the data.
    param ($ErrorRecord)

    $exception = $ErrorRecord.Exception
    if ($exception -is [System.Management.Automation.MethodInvocationException] -and $exception.InnerException) {
        $exception = $exception.InnerException
    }
    $exception.Message
}

# 1. Nothing is written when the host no longer holds what the controller decided from.
$conflicts = New-Object -TypeName 'System.Collections.Generic.List[object]'
foreach ($wanted in $Expect) {
    try {
        $current = Get-ValueState -Path $wanted.path -Name $wanted.name
        $same = Test-SameValue -Current $current -Wanted $wanted
    }
    catch {
        $conflicts.Add(@{ path = [string]$wanted.path; name = [string]$wanted.name; reason = 'unreadable'; message = Get-Reason $_ })
        continue
    }
    if (-not $same) {
        $conflicts.Add(@{ path = [string]$wanted.path; name = [string]$wanted.name; reason = 'changed'; message = '' })
    }
}
if ($RunsKey) {
    $writing = @($Changes | Where-Object { $_.path -eq $RunsKey } | ForEach-Object { [string]$_.name })
    $base, $subKey = Split-RegistryPath -Path $RunsKey
    try {
        $key = $base.OpenSubKey($subKey, $false)
        if ($null -ne $key) {
            try {
                foreach ($name in $key.GetValueNames()) {
                    # -notcontains compares case-insensitively, as value names are.
                    if ($name -like '*@*' -and $KnownRuns -notcontains $name -and $writing -notcontains $name) {
                        $conflicts.Add(@{ path = $RunsKey; name = $name; reason = 'run'; message = '' })
                    }
                }
            }
            finally {
                $key.Dispose()
            }
        }
    }
    finally {
        $base.Dispose()
    }
}
if ($conflicts.Count -gt 0) {
    $Ansible.Result = @{ language_mode = 'FullLanguage'; conflicts = @($conflicts); applied = @() }
    return
}

# 2. The changes, in their order; the first that fails stops the others.
$applied = New-Object -TypeName 'System.Collections.Generic.List[bool]'
$index = 0
try {
    foreach ($change in $Changes) {
        $applied.Add((Set-Change -Change $change))
        $index++
        if ($applied[$applied.Count - 1]) {
            $Ansible.Changed = $true
        }
    }
    foreach ($path in $RemoveIfEmpty) {
        if (Remove-EmptyKey -Path $path) {
            $Ansible.Changed = $true
        }
    }
}
catch {
    $failed = if ($index -lt $Changes.Count) { $Changes[$index] } else { @{ path = [string]$path; name = '' } }
    $Ansible.Failed = $true
    $Ansible.Result = @{
        language_mode = 'FullLanguage'
        conflicts = @()
        applied = @($applied)
        error = @{ index = $index; path = [string]$failed.path; name = [string]$failed.name; message = Get-Reason $_ }
    }
    return
}
$Ansible.Result = @{ language_mode = 'FullLanguage'; conflicts = @(); applied = @($applied) }
