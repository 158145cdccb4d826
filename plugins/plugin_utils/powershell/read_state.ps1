#Requires -Version 5.1
# ssm.proxy script: read_state
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Reads registry keys (their values, unexpanded) and the tails of files in ONE execution, because every
# module execution over WinRM or SSM costs seconds. Sent by the collection's action plugins through
# ansible.windows.win_powershell; read-only, so it declares SupportsShouldProcess to run in check mode too.
# Its twin in the simulated host (tests/sim) answers the same parameters with the same result shape.
[CmdletBinding(SupportsShouldProcess)]
param (
    [string[]]$RegistryKeys = @(),
    [string[]]$Files = @(),
    [int]$TailBytes = 65536,
    # Key path -> the only value names wanted from that key (other keys: every value).
    [hashtable]$ValueFilter = @{},
    # Registry keys (HKLM:\...) and folders whose ACL is wanted: protected or not, and who may read them.
    [string[]]$AclPaths = @()
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

# Under WDAC/AppLocker enforcement win_powershell runs this script in ConstrainedLanguage, where the .NET
# calls below are refused ("Method invocation is supported only on core types in this language mode.").
# Say so before anything else; the controller turns it into a message naming the cause and the fix.
if ($ExecutionContext.SessionState.LanguageMode -ne 'FullLanguage') {
    $Ansible.Result = @{ language_mode = [string]$ExecutionContext.SessionState.LanguageMode; registry = @(); files = @(); acl = @() }
    return
}

# win_regedit style paths (HKLM:\...) to the hives RegistryKey.OpenBaseKey takes.
$hives = @{
    HKLM = [Microsoft.Win32.RegistryHive]::LocalMachine
    HKU = [Microsoft.Win32.RegistryHive]::Users
    HKCU = [Microsoft.Win32.RegistryHive]::CurrentUser
    HKCR = [Microsoft.Win32.RegistryHive]::ClassesRoot
    HKCC = [Microsoft.Win32.RegistryHive]::CurrentConfig
}
$kindNames = @{
    String = 'REG_SZ'
    ExpandString = 'REG_EXPAND_SZ'
    MultiString = 'REG_MULTI_SZ'
    DWord = 'REG_DWORD'
    QWord = 'REG_QWORD'
    Binary = 'REG_BINARY'
}

Function Get-UnknownValueKind {
    # .NET Framework's GetValueKind answers Unknown for REG_NONE and for every kind outside its enum
    # (REG_LINK, REG_RESOURCE_LIST, ...): reg.exe prints the real one.
    param ([string]$NativePath, [string]$Name)

    $selector = if ($Name) { @('/v', $Name) } else { @('/ve') }
    $lines = & "$env:SystemRoot\System32\reg.exe" query $NativePath @selector /reg:64 2>$null
    foreach ($line in @($lines)) {
        if ($line -match '\s(REG_[A-Z_]+)(\s|$)') {
            return $Matches[1]
        }
    }
    'REG_NONE'
}

Function Get-RegistryKeyState {
    param ([string]$Path, [string[]]$Names)

    $hive, $subKey = $Path -split ':\\', 2
    $state = @{ path = $Path; exists = $false; values = @{}; error = $null }
    if (-not $hives.ContainsKey($hive)) {
        return $state
    }
    # The 64-bit view whatever the bitness of this process: a 32-bit host process would otherwise read
    # HKLM\SOFTWARE\WOW6432Node instead of the keys the 64-bit agent reads.
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey($hives[$hive], [Microsoft.Win32.RegistryView]::Registry64)
    try {
        try {
            # $null for a missing key; a key the account may not read throws (SecurityException): report it,
            # never as "absent", or the modules would rewrite what they cannot see.
            $key = $base.OpenSubKey($subKey, $false)
        }
        catch {
            $state.exists = $true
            $state.error = $_.Exception.Message
            return $state
        }
        if ($null -eq $key) {
            return $state
        }
        $state.exists = $true
        try {
            $valueNames = $key.GetValueNames()
            if ($null -ne $Names) {
                $valueNames = @($valueNames | Where-Object { $Names -contains $_ })
            }
            foreach ($name in $valueNames) {
                $kind = $key.GetValueKind($name).ToString()
                # DoNotExpandEnvironmentNames: REG_EXPAND_SZ as stored, like win_reg_stat's raw_value.
                $data = $key.GetValue($name, $null, 'DoNotExpandEnvironmentNames')
                if ($kindNames.ContainsKey($kind)) {
                    $type = $kindNames[$kind]
                }
                else {
                    $type = Get-UnknownValueKind -NativePath $key.Name -Name $name
                }
                if ($data -is [byte[]]) {
                    # One hex string: win_powershell converts every array element separately (seconds per KB on 5.1).
                    $data = [System.BitConverter]::ToString($data).Replace('-', '').ToLowerInvariant()
                }
                elseif ($kind -eq 'MultiString') {
                    $data = [string[]]$data
                }
                $state.values[$name] = @{ type = $type; value = $data }
            }
        }
        finally {
            $key.Dispose()
        }
    }
    finally {
        $base.Dispose()
    }
    $state
}

Function Get-FileTail {
    param ([string]$Path, [int]$MaxBytes)

    $tail = @{ path = $Path; exists = $false; size = 0; truncated = $false; start = 0; content = ''; error = $null }
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
            # A cut tail is read from one byte earlier, to see whether it starts at a line start.
            $from = [Math]::Max([long]0, $start - 1)
            $null = $stream.Seek($from, 'Begin')
            $buffer = New-Object -TypeName byte[] -ArgumentList ($stream.Length - $from)
            $read = 0
            while ($read -lt $buffer.Length) {
                $count = $stream.Read($buffer, $read, $buffer.Length - $read)
                if ($count -eq 0) {
                    break
                }
                $read += $count
            }
            # A cut tail starts at the first line start from $start on: no half line, no half character, and
            # the offset of every line in the file is exact (it tells one agent startup block from another).
            $skip = 0
            if ($start -gt 0) {
                $newline = [Array]::IndexOf($buffer, [byte]10, 0, $read)
                $skip = if ($newline -ge 0) { $newline + 1 } else { $read }
            }
            $tail.start = $from + $skip
            $tail.content = [System.Text.Encoding]::UTF8.GetString($buffer, $skip, $read - $skip)
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

Function Get-AclState {
    # Whether the object's DACL is protected (no inheritance) and which principals an allow rule lets read it,
    # each as SID and, when it translates, account name.
    param ([string]$Path)

    $state = @{ path = $Path; exists = $false; protected = $false; readers = @(); error = $null }
    $hive, $subKey = $Path -split ':\\', 2
    try {
        if ($hives.ContainsKey($hive)) {
            # The 64-bit view, as Get-RegistryKeyState reads the values.
            $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey($hives[$hive], [Microsoft.Win32.RegistryView]::Registry64)
            try {
                $key = $base.OpenSubKey($subKey, $false)
                if ($null -eq $key) {
                    return $state
                }
                try {
                    $acl = $key.GetAccessControl()
                }
                finally {
                    $key.Dispose()
                }
            }
            finally {
                $base.Dispose()
            }
        }
        elseif (Test-Path -LiteralPath $Path -PathType Container) {
            $acl = Get-Acl -LiteralPath $Path
        }
        else {
            return $state
        }
    }
    catch {
        $state.exists = $true
        $state.error = $_.Exception.Message
        return $state
    }
    $state.exists = $true
    $state.protected = $acl.AreAccessRulesProtected
    # QueryValues (registry) and ReadData (files) are bit 0x1; GENERIC_READ (0x80000000) and GENERIC_ALL (0x10000000)
    # read too (the agent's own Harden grants 0xF0000000, agent/fileutil/harden_windows.go). An InheritOnly rule
    # does not apply to the object itself (CREATOR OWNER). Deny rules are not subtracted: a listed reader may read.
    $readers = [ordered]@{}
    foreach ($rule in $acl.GetAccessRules($true, $true, [System.Security.Principal.SecurityIdentifier])) {
        $rights = if ($rule -is [System.Security.AccessControl.RegistryAccessRule]) { [int]$rule.RegistryRights } else { [int]$rule.FileSystemRights }
        # GENERIC_READ is the sign bit of the Int32 mask.
        $reads = ($rights -band 0x1) -ne 0 -or ($rights -band 0x10000000) -ne 0 -or $rights -lt 0
        $inheritOnly = ($rule.PropagationFlags -band [System.Security.AccessControl.PropagationFlags]::InheritOnly) -ne 0
        if ($rule.AccessControlType -ne 'Allow' -or $inheritOnly -or -not $reads) {
            continue
        }
        $sid = $rule.IdentityReference.Value
        if ($readers.Contains($sid)) {
            continue
        }
        $name = $null
        try {
            $name = $rule.IdentityReference.Translate([System.Security.Principal.NTAccount]).Value
        }
        catch {
            # A deleted account or a domain that does not answer: the SID alone.
            $name = $null
        }
        $readers[$sid] = @{ sid = $sid; name = $name }
    }
    $state.readers = @($readers.Values)
    $state
}

Function Get-ValueFilter {
    param ([string]$Path)

    # Registry paths are case-insensitive; the hashtable that carries the filter may not be.
    foreach ($filterPath in $ValueFilter.Keys) {
        if ($filterPath -eq $Path) {
            return , [string[]]@($ValueFilter[$filterPath])
        }
    }
    $null
}

$Ansible.Result = @{
    language_mode = 'FullLanguage'
    registry = @(foreach ($path in $RegistryKeys) { Get-RegistryKeyState -Path $path -Names (Get-ValueFilter -Path $path) })
    files = @(foreach ($path in $Files) { Get-FileTail -Path $path -MaxBytes $TailBytes })
    acl = @(foreach ($path in $AclPaths) { Get-AclState -Path $path })
}
