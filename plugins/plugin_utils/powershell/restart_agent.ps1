#Requires -Version 5.1
# ssm.proxy script: restart_agent
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Restarts AmazonSSMAgent DETACHED, for hosts reached through the amazon.aws.aws_ssm connection: the
# session dies with the agent, so the restart runs in a separate hidden powershell.exe that first
# sleeps DelaySeconds, letting this command return its result before the agent (and the session) goes.
# Idempotent per request: the aws_ssm connection plugin may re-run the same command after the session
# dropped, so RequestId is remembered in HKLM:\SOFTWARE\ssm.proxy value RestartRequestId and a request
# already seen schedules nothing (changed false). It changes the host, so no SupportsShouldProcess:
# win_powershell skips it in check mode. Its twin in the simulated host (tests/sim) restarts the
# simulated agent at once.
[CmdletBinding()]
param (
    [string]$RequestId,
    [int]$DelaySeconds = 3
)

$ErrorActionPreference = 'Stop'

$serviceName = 'AmazonSSMAgent'
$stateKey = 'SOFTWARE\ssm.proxy'
$valueName = 'RestartRequestId'

if (-not $RequestId) {
    throw 'RequestId is required: a value unique to this restart request (a re-run with the same value schedules nothing).'
}
if ($DelaySeconds -lt 0) {
    throw "DelaySeconds must not be negative (got $DelaySeconds)."
}
# Fails with "Cannot find any service with service name 'AmazonSSMAgent'." before anything is changed.
$null = Get-Service -Name $serviceName

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
        $Ansible.Changed = $false
    }
    else {
        $command = "Start-Sleep -Seconds $DelaySeconds; Restart-Service -Name $serviceName -Force"
        $powershell = Join-Path -Path $env:SystemRoot -ChildPath 'System32\WindowsPowerShell\v1.0\powershell.exe'
        $commandLine = "`"$powershell`" -NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -Command `"$command`""
        # Win32_Process.Create starts the process from the WMI service, outside this session's job object: a child
        # of the session would die with it (WinRM closes its job; the SSM session worker ends with the agent).
        $created = Invoke-CimMethod -ClassName Win32_Process -MethodName Create -Arguments @{ CommandLine = $commandLine }
        if ($created.ReturnValue -ne 0) {
            throw "Could not start the detached restart of ${serviceName}: Win32_Process.Create returned $($created.ReturnValue)"
        }
        # Recorded only once the restart is on its way, so a failed attempt can be retried with the same id.
        $key = $machine.CreateSubKey($stateKey)
        try {
            $key.SetValue($valueName, $RequestId, [Microsoft.Win32.RegistryValueKind]::String)
        }
        finally {
            $key.Dispose()
        }
        $Ansible.Result.scheduled = $true
        $Ansible.Changed = $true
    }
}
finally {
    $machine.Dispose()
}
