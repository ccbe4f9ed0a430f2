/// The shape of the values a prompt template may use: which names exist, which are lists,
/// which hold members.
///
/// `plexus check` resolves every `{{name}}` and `{{#section}}` of a template against this
/// tree (``PromptTemplate/problems(providing:)``), with Mustache's scoping: inside a
/// section over a list, the element's members come first, then the enclosing ones.
public indirect enum PromptVariable: Sendable, Hashable {
    /// Text, a number or a flag.
    case value
    /// Named members (`{{agent.id}}`, or `{{#agent}}{{id}}{{/agent}}`).
    case object([String: PromptVariable])
    /// A list iterated by a section (`{{#facts}}…{{/facts}}`), each element of this shape.
    case list(PromptVariable)

    /// The members of an object; none for values and lists.
    var members: [String: PromptVariable] {
        if case .object(let members) = self { return members }
        return [:]
    }

    /// Every dotted path to a value in this tree, sorted (`agent.id`, `facts.subject`…),
    /// for documentation and did-you-mean.
    public var paths: [String] {
        func collect(_ variable: PromptVariable, _ prefix: String, into paths: inout [String]) {
            switch variable {
            case .value:
                paths.append(prefix)
            case .list(let element):
                if case .value = element { paths.append(prefix) } else { collect(element, prefix, into: &paths) }
            case .object(let members):
                for (name, member) in members {
                    collect(member, prefix.isEmpty ? name : prefix + "." + name, into: &paths)
                }
            }
        }
        var paths: [String] = []
        collect(self, "", into: &paths)
        return paths.sorted()
    }
}
