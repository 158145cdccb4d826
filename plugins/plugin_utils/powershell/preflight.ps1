#Requires -Version 5.1
# ssm.proxy script: preflight
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Proves FROM THE HOST, before anything is changed, that a proxy carries the SSM Agent's traffic to the
# Systems Manager endpoints: one HTTPS GET of https://<service>.<region>.<domain>/ per service through the
# proxy (no bypass), or direct when Proxy is empty. An endpoint counts as reachable ONLY on an answer from
# behind the tunnel (see Get-ProbeResult); every refusal of the proxy is "unreachable" with the proxy's own
# status and words. Credentials are offered for Basic only, as the agent (Go net/http, credentials in the
# proxy URL) sends nothing else. The region comes from the Region parameter, else from instance metadata
# (IMDSv2, always direct). Sent through ansible.windows.win_powershell (ProxyCredential through
# sensitive_parameters with username/password); read-only, so it declares SupportsShouldProcess and runs
# in check mode too. Nothing escapes as an error record but bad parameters: each probe's failure is data.
# Its twin in the simulated host (tests/sim, _sim_twins.preflight) answers the same parameters with the
# same result shape and messages.
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

# The .NET exception behind a failed method call (EndGetResponse throws a MethodInvocationException).
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
    # A new connection (CONNECT, TLS handshake) per probe: no probe rides on the tunnel of another.
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

# The schemes of a 407's Proxy-Authenticate challenges ('Basic realm="x"', 'Negotiate', 'NTLM' -> Basic, Negotiate, NTLM).
Function Get-ProxyAuthScheme {
    param ([System.Net.HttpWebResponse]$Response)

    $schemes = [System.Collections.Generic.List[string]]@()
    foreach ($challenge in @($Response.Headers.GetValues('Proxy-Authenticate'))) {
        if ($challenge) {
            $scheme = ($challenge.Trim() -split '\s+', 2)[0]
            if ($scheme -and -not ($schemes -contains $scheme)) {
                $schemes.Add($scheme)
            }
        }
    }
    , $schemes.ToArray()
}

# What one probe proves. The evidence, from .NET Framework 4.x (dotnet referencesource, System/net/System/Net):
# - An https request through a WebProxy always opens a CONNECT tunnel first (_Connection.cs
#   CompleteStartConnection: scheme https on a proxy ServicePoint -> TunnelThroughProxy), sent by an internal
#   HttpWebRequest whose verb is CONNECT (HttpWebRequest.cs, the (proxyUri, requestUri, originalRequest)
#   constructor). When the proxy answers it with an error status, that request's WebException (ProtocolError,
#   Response = the PROXY's HttpWebResponse) becomes the connection's m_InnerException, and HandleError hands
#   that very exception to our request (_Connection.cs: a WebException inner exception is not rewrapped), so
#   GetResponse/EndGetResponse throws it. An HttpWebResponse keeps the verb of the request that produced it
#   (HttpWebResponse.Method, from CurrentMethod): 'CONNECT' is the proxy's refusal, our 'GET' is an answer
#   sent INSIDE the TLS session, which exists only after the tunnel opened and the TLS handshake with a
#   certificate this host trusts for the endpoint's name completed. That answer (any status: GET / is 404 on
#   the Systems Manager endpoints) is the only success. 407 is always the proxy's. Seen in the field: .NET 4.5
#   through a proxy whose allow-list refused the CONNECT reports "The remote server returned an error: (403)
#   Forbidden." (github dapplo/Dapplo.Confluence#25); dotnet/runtime#48679 describes the same trap (the proxy's
#   answer indistinguishable from the server's) in .NET Core's handler.
# - Not used: ServicePoint.Certificate. Proxied requests share the PROXY's ServicePoint
#   (ServicePointManager.FindServicePoint keys it by the proxy address), so it holds the last certificate of
#   any endpoint, and it is set in the validation callback before the chain is judged (ServicePoint.cs
#   HandshakeDoneProcedure.CertValidationCallback): it proves neither which endpoint nor that TLS completed.
# - A certificate the host does not trust (a TLS-intercepting proxy re-signing with its own CA, or a host whose
#   store lacks Amazon's roots) fails with TrustFailure; a failed handshake otherwise with SecureChannelFailure.
#   The agent verifies against the same Windows store (Go's crypto/x509 on Windows) and fails the same way.
# - A proxy that asks only for Negotiate/NTLM: the CONNECT request's 407 is answered only by an authentication
#   module that finds a credential for its scheme (_BasicClient.cs Lookup: credentials.GetCredential(
#   ChallengedUri, "basic")); our CredentialCache holds one for Basic only, so the 407 stands, as for the agent.
Function Get-ProbeResult {
    param ([System.Net.HttpWebRequest]$Request, [string]$Service, [bool]$ThroughProxy, [bool]$HasCredential)

    $uri = $Request.RequestUri
    $target = "$($uri.Host):$($uri.Port)"
    $entry = [Ordered]@{
        service = $Service; url = [string]$uri; reachable = $false; outcome = 'unreachable'; answered_by = $null
        status = $null; reason = $null; proxy_auth = @(); credentials_sent = $false; error = $null
    }
    $response = $null
    $failure = $null
    $timedOut = $false
    try {
        # The request's Timeout does not bound the internal CONNECT request (it gets the default 100 s):
        # wait on the asynchronous call instead and abort it when the time is up.
        $pending = $Request.BeginGetResponse($null, $null)
        if (-not $pending.AsyncWaitHandle.WaitOne($TimeoutSeconds * 1000)) {
            $timedOut = $true
            $Request.Abort()
        }
        $response = $Request.EndGetResponse($pending)
    }
    catch {
        $failure = Get-InnerException -Exception $_.Exception
        if ($failure -is [System.Net.WebException] -and $null -ne $failure.Response) {
            $response = $failure.Response
        }
    }
    try {
        if ($timedOut -or ($null -eq $response -and $failure -is [System.Net.WebException] -and
                $failure.Status -eq [System.Net.WebExceptionStatus]::Timeout)) {
            $entry.outcome = 'timeout'
            $entry.error = "no answer within $TimeoutSeconds s (Timeout)"
        }
        elseif ($null -ne $response) {
            $entry.status = [int]$response.StatusCode
            $entry.reason = $response.StatusDescription
            $words = "$($entry.status) $($entry.reason)".Trim()
            if ($entry.status -eq 407) {
                $entry.answered_by = 'proxy'
                $entry.outcome = 'proxy_auth_required'
                $entry.proxy_auth = Get-ProxyAuthScheme -Response $response
                $basicOffered = $entry.proxy_auth -contains 'Basic'
                $entry.credentials_sent = $HasCredential -and $basicOffered
                $detail = if (-not $basicOffered -and $entry.proxy_auth.Count -gt 0) {
                    "it offers only $($entry.proxy_auth -join ', ') and the SSM Agent can authenticate to a proxy only with Basic (no credentials were sent)"
                }
                elseif (-not $basicOffered) {
                    'it names no authentication scheme (no credentials were sent)'
                }
                elseif ($entry.credentials_sent) {
                    'it refused the Basic credentials that were sent'
                }
                else {
                    'it asks for Basic credentials and none were sent'
                }
                $entry.error = "the proxy refused CONNECT to $target with ${words}: $detail"
            }
            elseif ($ThroughProxy -and $response.Method -eq 'CONNECT') {
                $entry.answered_by = 'proxy'
                $entry.outcome = 'connect_refused'
                $entry.error = "the proxy refused CONNECT to $target with $words"
            }
            else {
                $entry.answered_by = 'endpoint'
                $entry.outcome = 'reachable'
                $entry.reachable = $true
            }
        }
        elseif ($failure -is [System.Net.WebException] -and $failure.Status -eq [System.Net.WebExceptionStatus]::TrustFailure) {
            $entry.outcome = 'tls_untrusted'
            $entry.error = "the certificate presented for $target is not trusted by this host (TrustFailure): a TLS-intercepting proxy, or a root CA missing from the host's store; the SSM Agent fails the same way"
        }
        elseif ($failure -is [System.Net.WebException] -and $failure.Status -eq [System.Net.WebExceptionStatus]::SecureChannelFailure) {
            $entry.outcome = 'tls_failed'
            $entry.error = "no TLS session with $target (SecureChannelFailure: $($failure.Message))"
        }
        elseif ($failure -is [System.Net.WebException]) {
            # ConnectFailure (nothing listens), NameResolutionFailure, ProxyNameResolutionFailure, ...
            $entry.error = "$($failure.Status): $($failure.Message)"
        }
        else {
            $entry.error = "$($failure.GetType().Name): $($failure.Message)"
        }
    }
    finally {
        if ($null -ne $response) {
            $response.Close()
        }
    }
    $entry
}

if ($TimeoutSeconds -lt 1) {
    throw "TimeoutSeconds must be at least 1 (got $TimeoutSeconds)."
}
# In milliseconds it must fit HttpWebRequest.Timeout and WaitHandle.WaitOne (Int32).
if ($TimeoutSeconds -gt 3600) {
    throw "TimeoutSeconds must be at most 3600 (got $TimeoutSeconds)."
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
        # Basic only, as the agent: a plain NetworkCredential would answer Negotiate/NTLM/Digest too. The
        # challenged URI of a proxy's 407 is the proxy ServicePoint's address, scheme://host:port/.
        $cache = New-Object -TypeName System.Net.CredentialCache
        $cache.Add([Uri]"http://$($proxyUri.Authority)/", 'Basic', $ProxyCredential.GetNetworkCredential())
        $webProxy.Credentials = $cache
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

# Windows PowerShell 5.1 on Windows Server 2016 (.NET 4.6.2) may not offer TLS 1.2 by default, which the
# endpoints require; add it to what the process allows (this process only: win_powershell runs a new one).
$protocols = [System.Net.ServicePointManager]::SecurityProtocol
[System.Net.ServicePointManager]::SecurityProtocol = $protocols -bor [System.Net.SecurityProtocolType]::Tls12
# The aws-cn partition (cn-north-1, cn-northwest-1) has its own domain.
$domain = if ($Region -like 'cn-*') { 'amazonaws.com.cn' } else { 'amazonaws.com' }

$endpoints = @(foreach ($service in $Services) {
        $request = New-Request -Url "https://$service.$Region.$domain/"
        $request.Proxy = $webProxy
        Get-ProbeResult -Request $request -Service $service -ThroughProxy ($null -ne $webProxy) -HasCredential ($null -ne $ProxyCredential -and $null -ne $webProxy)
    })

$Ansible.Result = @{
    region = $Region
    region_source = $regionSource
    endpoints = $endpoints
}
