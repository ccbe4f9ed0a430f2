/// Chat-template tokens, role labels and fake system tags in data: text that pretends
/// to start a new turn of the conversation (`<|im_start|>system`, `[INST]`, `System:`
/// at the start of a line, `<SYSTEM MODE>`), and scripted dialogues of `Q:`/`A:` or
/// `User:`/`Assistant:` turns, and shell command lines.
enum RoleMarkers {
    struct Found: Sendable {
        var roleSwitch: (weight: Double, evidence: String)?
        var dialogueTurns = 0
        /// A shell command line (`curl … | sh`, `rm -rf`): instructions to run code.
        var shellCommand: String?
    }

    static func scan(_ text: ASCIIText) -> Found {
        var found = Found()
        let bytes = text.lower
        var index = 0
        var lineStart = true
        func note(_ weight: Double, _ evidence: String) {
            if (found.roleSwitch?.weight ?? 0) < weight { found.roleSwitch = (weight, evidence) }
        }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "<"):
                if text.matches("<|", at: index), let close = text.firstIndex(of: "|>", from: index + 2), close - index < 40 {
                    note(0.75, text.string(index..<(close + 2)))
                } else if text.matches("<<sys>>", at: index) || text.matches("<</sys>>", at: index) {
                    note(0.75, "<<SYS>>")
                } else if text.matches("<system", at: index) || text.matches("</system", at: index)
                    || text.matches("<\\system", at: index) || text.matches("<admin", at: index)
                    || text.matches("<developer", at: index)
                {
                    note(0.6, text.string(index..<min(bytes.count, index + 16)))
                }
            case UInt8(ascii: "["):
                if text.matches("[inst]", at: index) || text.matches("[/inst]", at: index) {
                    note(0.75, "[INST]")
                } else if text.matches("[system", at: index) || text.matches("[admin", at: index) {
                    note(0.55, text.string(index..<min(bytes.count, index + 14)))
                }
            case UInt8(ascii: "#"):
                if lineStart, text.matches("### system", at: index) || text.matches("### instruction", at: index)
                    || text.matches("## system", at: index)
                {
                    note(0.5, text.string(index..<min(bytes.count, index + 16)))
                }
            default:
                break
            }
            let wordStart = index == 0 || bytes[index - 1] == 0x20 || bytes[index - 1] == 0x0A || bytes[index - 1] == 0x09
                || bytes[index - 1] == UInt8(ascii: "\"") || bytes[index - 1] == UInt8(ascii: ">")
            if wordStart && (0x61...0x7A).contains(byte) {
                if lineStart && (text.matches("system:", at: index) || text.matches("system prompt:", at: index)
                    || text.matches("system message:", at: index))
                {
                    note(0.6, "System:")
                }
                if lineStart && (text.matches("assistant:", at: index) || text.matches("ai:", at: index)) {
                    note(0.45, text.string(index..<min(bytes.count, index + 10)))
                }
                if text.matches("curl ", at: index) || text.matches("wget ", at: index) || text.matches("rm -rf", at: index)
                    || text.matches("powershell -e", at: index) || text.matches("nc -e", at: index)
                {
                    found.shellCommand = text.string(index..<min(bytes.count, index + 40))
                }
                if text.matches("q: ", at: index) || text.matches("a: ", at: index) || text.matches("user: ", at: index)
                    || text.matches("assistant: ", at: index) || text.matches("human: ", at: index)
                    || text.matches("ai: ", at: index)
                {
                    found.dialogueTurns += 1
                }
            }
            if byte == 0x0A {
                lineStart = true
            } else if byte != 0x20 && byte != 0x09 && byte != UInt8(ascii: ">") && byte != UInt8(ascii: "*") {
                lineStart = false
            }
            index += 1
        }
        return found
    }
}
