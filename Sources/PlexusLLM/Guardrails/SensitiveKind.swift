/// A built-in kind of secret or personal data the redactor recognises. The raw value is
/// the placeholder's type and the manifest's name: `[redacted:email]`.
public enum SensitiveKind: String, CaseIterable, Sendable, Hashable, Codable {
    case email
    case phone
    /// An IBAN whose ISO 7064 mod-97 check passes.
    case iban
    /// 13–19 digits (spaces or dashes allowed) whose Luhn check passes.
    case creditCard = "credit-card"
    /// Provider key shapes: `sk-…`, `sk_live_…`, `ghp_…`, `github_pat_…`, `xox[bpa]-…`,
    /// `AKIA…`, `AIza…`, `glpat-…`.
    case apiKey = "api-key"
    /// The credential after `Bearer ` / `Basic `, and JSON Web Tokens.
    case bearerToken = "bearer-token"
    /// A PEM `-----BEGIN … PRIVATE KEY-----` block.
    case privateKey = "private-key"
}
