/// `${VAR}` and `${VAR:-default}` in manifest scalars.
///
/// - `${VAR}` is the variable's value; unset is an error naming the variable.
/// - `${VAR:-default}` is the value, or `default` when the variable is unset or empty
///   (as in the shell). The default is literal text up to the first `}`.
/// - `$${` is a literal `${`. A `$` not followed by `{` is kept as it is.
/// - Names are letters, digits and `_`, not starting with a digit.
enum EnvironmentSubstitution {
    enum Failure: Equatable {
        case unset(String)
        case unterminated
        case invalidName(String)
    }

    /// The text with every reference replaced, or the first failure.
    static func substitute(_ text: String, environment: [String: String]) -> Result<String, SubstitutionError> {
        guard text.contains("$") else { return .success(text) }
        var output = ""
        var failures: [Failure] = []
        var scalars = text.unicodeScalars[...]
        while let scalar = scalars.popFirst() {
            guard scalar == "$" else {
                output.unicodeScalars.append(scalar)
                continue
            }
            if scalars.starts(with: "${".unicodeScalars) {
                output += "${"
                scalars = scalars.dropFirst(2)
                continue
            }
            guard scalars.first == "{" else {
                output.unicodeScalars.append(scalar)
                continue
            }
            scalars = scalars.dropFirst()
            guard let close = scalars.firstIndex(of: "}") else {
                failures.append(.unterminated)
                break
            }
            let body = String(scalars[..<close])
            scalars = scalars[scalars.index(after: close)...]
            let name: String
            let fallback: String?
            if let range = body.range(of: ":-") {
                name = String(body[..<range.lowerBound])
                fallback = String(body[range.upperBound...])
            } else {
                name = body
                fallback = nil
            }
            guard isValidName(name) else {
                failures.append(.invalidName(name))
                continue
            }
            if let value = environment[name], !(fallback != nil && value.isEmpty) {
                output += value
            } else if let fallback {
                output += fallback
            } else {
                failures.append(.unset(name))
            }
        }
        return failures.isEmpty ? .success(output) : .failure(SubstitutionError(failures: failures))
    }

    struct SubstitutionError: Error, Equatable {
        var failures: [Failure]

        var message: String {
            failures.map { failure in
                switch failure {
                case .unset(let name):
                    "environment variable \(name) is not set; export it or write ${\(name):-default}"
                case .unterminated:
                    "'${' has no closing '}'; write $${ for a literal '${'"
                case .invalidName(let name):
                    "'${\(name)}' is not an environment variable reference: a name is letters, digits and _"
                }
            }.joined(separator: "; ")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_") }
    }
}
