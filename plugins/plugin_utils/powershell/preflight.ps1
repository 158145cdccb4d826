#Requires -Version 5.1
# ssm.proxy script: preflight
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Proves FROM THE HOST, before anything is changed, that a proxy reaches the Systems Manager endpoints:
# one HTTPS GET of https://<service>.<region>.amazonaws.com/ per service through the proxy (no bypass),
# or direct when Proxy is empty. Any HTTP answer of the endpoint (also 4xx/5xx) proves the path works;
# no answer is "unreachable" with the .NET message. 407 is the proxy's answer, not the endpoint's: it
# counts as unreachable. The region comes from the Region parameter, else from instance metadata
# (IMDSv2, always direct). Sent through ansible.windows.win_powershell (ProxyCredential through
# sensitive_parameters with username/password); read-only, so it declares SupportsShouldProcess and
# runs in check mode too. Its twin in the simulated host (tests/sim) answers the same parameters with
# the same result shape.
[CmdletBinding(SupportsShouldProcess)]
param (
    [string]$Proxy = '',
    [PSCredential]$ProxyCredential = $null,
    [string]$Region = '',
    [string[]]$Services = @('ssm', 'ec2messages', 'ssmmessages'),
    [int]$TimeoutSeconds = 10
)

$ErrorActionPreference = 'Stop'
$Ansible.Changed = $false

$imdsBase = 'http://169.254.169.254/latest'
$dnsLabel = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$'

# The .NET exception behind a failed method call ($request.GetResponse() throws a MethodInvocationException).
Function Get-InnerException {
    param ($Exception)

    while ($Exception -is [System.Management.Automation.MethodInvocationException] -and $null -ne $Exception.InnerException) {
        $Exception = $Exception.InnerException
    }
    $Exception
}

Function New-Request {
    param ([string]$Url, [string]$Method = 'GET')

    $request = [System.Net.HttpWebRequest][System.Net.WebRequest]::Create($Url)
    $request.Method = $Method
    $request.Timeout = $TimeoutSeconds * 1000
    $request.ReadWriteTimeout = $TimeoutSeconds * 1000
    $request.AllowAutoRedirect = $false
    $request.KeepAlive = $false
    $request.UserAgent = 'ssm.proxy-preflight'
    # Direct unless the caller sets a proxy: never the user's WinINet or the machine's WinHTTP default.
    $request.Proxy = $null
    $request
}

# IMDSv2: a session token (PUT), then the region (GET); both direct, never through the proxy.
Function Get-ImdsRegion {
    $request = New-Request -Url "$imdsBase/api/token" -Method PUT
    $request.Headers.Add('X-aws-ec2-metadata-token-ttl-seconds', '60')
    $request.ContentLength = 0
    $response = $request.GetResponse()
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $response.GetResponseStream()
        $token = $reader.ReadToEnd()
    }
    finally {
        $response.Close()
    }

    $request = New-Request -Url "$imdsBase/meta-data/placement/region"
    $request.Headers.Add('X-aws-ec2-metadata-token', $token)
    $response = $request.GetResponse()
    try {
        $reader = New-Object -TypeName System.IO.StreamReader -ArgumentList $response.GetResponseStream()
        $reader.ReadToEnd().Trim()
    }
    finally {
        $response.Close()
    }
}

if ($TimeoutSeconds -lt 1) {
    throw "TimeoutSeconds must be at least 1 (got $TimeoutSeconds)."
}

$webProxy = $null
if ($Proxy) {
    $proxyUri = $null
    # Never echo the value: a mistaken user:password@ must not end up in the task output.
    if (-not [Uri]::TryCreate($Proxy, [UriKind]::Absolute, [ref]$proxyUri) -or $proxyUri.Scheme -ne 'http' -or
        $proxyUri.UserInfo -or -not $proxyUri.Host) {
        throw 'Proxy must be an http://host:port URL without credentials (pass credentials as ProxyCredential).'
    }
    $webProxy = New-Object -TypeName System.Net.WebProxy -ArgumentList $proxyUri, $false
    if ($null -ne $ProxyCredential) {
        $webProxy.Credentials = $ProxyCredential.GetNetworkCredential()
    }
}

$regionSource = 'parameter'
if (-not $Region) {
    $regionSource = 'imds'
    try {
        $Region = Get-ImdsRegion
    }
    catch {
        $reason = (Get-InnerException -Exception $_.Exception).Message
        throw "Cannot determine the AWS region: instance metadata (IMDSv2, http://169.254.169.254) did not answer ($reason). Set ssm_proxy_region to the host's region."
    }
    if (-not $Region) {
        throw "Cannot determine the AWS region: instance metadata (IMDSv2, http://169.254.169.254) returned no region. Set ssm_proxy_region to the host's region."
    }
}
if ($Region -notmatch $dnsLabel) {
    throw "Region '$Region' is not an AWS region name such as eu-west-1."
}
foreach ($service in $Services) {
    if ($service -notmatch $dnsLabel) {
        throw "Service '$service' is not an endpoint name such as ssm."
    }
}

# Windows PowerShell 5.1 on older Windows Server may not offer TLS 1.2, which the endpoints require.
$protocols = [System.Net.ServicePointManager]::SecurityProtocol
[System.Net.ServicePointManager]::SecurityProtocol = $protocols -bor [System.Net.SecurityProtocolType]::Tls12
$domain = if ($Region -like 'cn-*') { 'amazonaws.com.cn' } else { 'amazonaws.com' }

$endpoints = @(foreach ($service in $Services) {
        $url = "https://$service.$Region.$domain/"
        $entry = [Ordered]@{ service = $service; url = $url; reachable = $false; status = $null; error = $null }
        $request = New-Request -Url $url
        $request.Proxy = $webProxy
        try {
            $response = $request.GetResponse()
            $entry.status = [int]$response.StatusCode
            $entry.reachable = $true
            $response.Close()
        }
        catch {
            $exception = Get-InnerException -Exception $_.Exception
            if ($exception -is [System.Net.WebException] -and $null -ne $exception.Response) {
                # An HTTP answer (GET / is 404 on the real endpoints): the path works.
                $entry.status = [int]$exception.Response.StatusCode
                $exception.Response.Close()
                if ($entry.status -eq 407) {
                    $entry.error = 'The proxy requires authentication (407 Proxy Authentication Required).'
                }
                else {
                    $entry.reachable = $true
                }
            }
            else {
                $entry.error = $exception.Message
            }
        }
        $entry
    })

$Ansible.Result = @{
    region = $Region
    region_source = $regionSource
    endpoints = $endpoints
}
