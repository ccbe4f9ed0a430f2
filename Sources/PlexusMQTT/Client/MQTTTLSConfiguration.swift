/// TLS settings for `mqtts://` brokers.
///
/// With no CA file the system's trust store is used. Hostname verification is
/// on by default; for IP addresses the certificate must name the IP in its
/// subject alternative names.
public struct MQTTTLSConfiguration: Sendable, Hashable {
    /// PEM file of the certificate authorities to trust.
    public var caFile: String?
    /// PEM client certificate (chain) for brokers that require one.
    public var certificateFile: String?
    /// PEM private key of the client certificate.
    public var privateKeyFile: String?
    /// Check that the certificate names the host we connect to.
    public var verifyHostname: Bool
    /// Skip certificate verification entirely. For tests against throwaway brokers only.
    public var insecureSkipVerification: Bool
    /// Name to send in SNI and verify against, when it differs from the URL's host.
    public var serverName: String?

    public init(
        caFile: String? = nil,
        certificateFile: String? = nil,
        privateKeyFile: String? = nil,
        verifyHostname: Bool = true,
        insecureSkipVerification: Bool = false,
        serverName: String? = nil
    ) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.verifyHostname = verifyHostname
        self.insecureSkipVerification = insecureSkipVerification
        self.serverName = serverName
    }
}
