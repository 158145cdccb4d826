#Requires -Version 5.1
# ssm.proxy script: restart_agent
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Restarts AmazonSSMAgent DETACHED, for hosts reached through the amazon.aws.aws_ssm connection: the
# session dies with the agent, so the restart runs in a separate hidden powershell.exe that first
# sleeps DelaySeconds, letting this command return its result before the agent (and the session) goes.
# Idempotent per request: the aws_ssm connection plugin may re-run the same command after the session
# dropped, so RequestId is remembered in HKLM:\SOFTWARE\ssm.proxy value RestartRequestId BEFORE anything
# is scheduled, and a request already seen schedules nothing (changed false). Nobody watches the detached
# process, so it makes sure the service ends up running (Start-Service again, with retries, when the
# restart failed) and records the outcome in value RestartOutcome (JSON: request_id, outcome, time,
# message), which the collection's next read reports when the agent did not come back. It changes the
# host, so no SupportsShouldProcess: win_powershell skips it in check mode. Its twin in the simulated host
# (tests/sim) restarts the simulated agent at once.
[CmdletBinding()]
param (
    [string]$RequestId,
    [int]$DelaySeconds = 3
)

$ErrorActionPreference = 'Stop'
# win_powershell reports $Ansible.Changed (default $true) even when the script throws: nothing is changed
# until the restart is scheduled.
$Ansible.Changed = $false

$serviceName = 'AmazonSSMAgent'
$stateKey = 'SOFTWARE\ssm.proxy'
$valueName = 'RestartRequestId'
$outcomeName = 'RestartOutcome'

if ($RequestId -notmatch '^[A-Za-z0-9._:/+-]{1,128}$') {
    throw "RequestId must be 1 to 128 characters of A-Z a-z 0-9 . _ : / + - unique to this restart request (got '$RequestId')."
}
if ($DelaySeconds -lt 0) {
    throw "DelaySeconds must not be negative (got $DelaySeconds)."
}
# Fails with "Cannot find any service with service name 'AmazonSSMAgent'." before anything is changed.
$null = Get-Service -Name $serviceName

# Run by the detached powershell.exe: restart, make sure the service runs (Start-Service again when the restart
# failed: Restart-Service leaves a service that failed to start stopped), and record the outcome for the next read.
# The time is local, in the agent log's format, so that the controller can compare it with the agent's startup block.
$detached = @'
$ErrorActionPreference = 'Stop'
Start-Sleep -Seconds __DELAY__
$outcome = 'failed'
$message = ''
foreach ($attempt in 1..3) {
    try {
        if ($attempt -eq 1) { Restart-Service -Name AmazonSSMAgent -Force } else { Start-Service -Name AmazonSSMAgent }
        (Get-Service -Name AmazonSSMAgent).WaitForStatus('Running', [TimeSpan]::FromSeconds(120))
        $outcome = 'running'
        break
    }
    catch {
        $message = $_.Exception.Message
        Start-Sleep -Seconds 10
    }
}
$record = ConvertTo-Json -Compress -InputObject @{
    request_id = '__ID__'; outcome = $outcome; time = (Get-Date -Format 'yyyy-MM-dd HH:mm:ss'); message = $message
}
$machine = [Microsoft.Win32.RegistryKey]::OpenBaseKey('LocalMachine', 'Registry64')
$key = $machine.CreateSubKey('SOFTWARE\ssm.proxy')
$key.SetValue('RestartOutcome', $record, 'String')
$key.Dispose()
$machine.Dispose()
'@
# RequestId is validated above (no quote can reach the detached script); -EncodedCommand (UTF-16LE base64)
# keeps the script out of command-line quoting altogether.
$detached = $detached.Replace('__DELAY__', [string]$DelaySeconds).Replace('__ID__', $RequestId)
$encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($detached))

# The 64-bit view whatever the bitness of this PowerShell, so every caller sees the same value.
$machine = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
try {
    $previous = $null
    $key = $machine.OpenSubKey($stateKey, $false)
    if ($null -ne $key) {
        try {
            $previous = $key.GetValue($valueName, $null)
        }
        finally {
            $key.Dispose()
        }
    }

    $Ansible.Result = @{ request_id = $RequestId; scheduled = $false }
    if ($previous -is [string] -and $previous -ceq $RequestId) {
        # Already scheduled by an earlier run of this very request.
        return
    }
    # Recorded BEFORE the process starts: a session that dies right after scheduling must not let the retried
    # command schedule a second restart.
    $key = $machine.CreateSubKey($stateKey)
    try {
        $key.SetValue($valueName, $RequestId, [Microsoft.Win32.RegistryValueKind]::String)
        $scheduled = ConvertTo-Json -Compress -InputObject @{
            request_id = $RequestId; outcome = 'scheduled'; time = (Get-Date -Format 'yyyy-MM-dd HH:mm:ss'); message = ''
        }
        $key.SetValue($outcomeName, $scheduled, [Microsoft.Win32.RegistryValueKind]::String)
        $powershell = Join-Path -Path $env:SystemRoot -ChildPath 'System32\WindowsPowerShell\v1.0\powershell.exe'
        $commandLine = "`"$powershell`" -NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -EncodedCommand $encoded"
        # Win32_Process.Create starts the process from the WMI service, outside this session's job object: a child
        # of the session would die with it (WinRM closes its job; the SSM session worker ends with the agent).
        $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $commandLine }
        if ($created.ReturnValue -ne 0) {
            # Nothing was scheduled: forget the request, so that a retry may schedule it.
            $key.DeleteValue($valueName, $false)
            $key.DeleteValue($outcomeName, $false)
            throw "Could not start the detached restart of ${serviceName}: Win32_Process.Create returned $($created.ReturnValue)"
        }
    }
    finally {
        $key.Dispose()
    }
    $Ansible.Result.scheduled = $true
    $Ansible.Changed = $true
}
finally {
    $machine.Dispose()
}
