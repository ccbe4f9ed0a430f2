/// A `pattern`: a regular expression from a subset of ECMA-262 (the dialect JSON Schema
/// names), matched in time linear in the input, so no pattern and no payload can make
/// validation backtrack for minutes (`(a+)+$` against `aaaa…b` takes microseconds).
///
/// The expression is compiled to a Thompson NFA and run as a Pike VM over the string's
/// Unicode scalars. As JSON Schema says, the pattern is not anchored: it matches when
/// it matches anywhere in the string; write `^…$` to match the whole string.
///
/// Supported: literal characters; `.` (any character but a line terminator); classes
/// `[abc]`, `[^a-z]`; `\d \D \w \W \s \S` (ASCII digits and word characters, as in
/// ECMA-262); escapes `\t \n \r \f \v \0 \xHH \uHHHH` and `\` before any of
/// `^$\.*+?()[]{}|/-`; groups `(…)`, `(?:…)`, `(?<name>…)`; alternation `|`;
/// quantifiers `* + ? {n} {n,} {n,m}` (greedy or lazy, which for a yes/no match is
/// the same); anchors `^` and `$` (start and end of the string). Refused:
/// back-references, lookahead and lookbehind, word boundaries `\b \B`, Unicode
/// property escapes `\p{…}`, and flags.
public struct JSONSchemaPattern: Sendable {
    /// Longest pattern accepted, in Unicode scalars.
    public static let maximumLength = 1_000
    /// Largest count in `{n,m}`.
    public static let maximumRepetition = 1_000
    /// Most NFA instructions once counted repetitions are expanded.
    public static let maximumProgramSize = 2_000
    /// Longest string checked against a pattern, in Unicode scalars; a longer string
    /// fails `pattern` (bounding the work to `maximumInputLength × maximumProgramSize`).
    public static let maximumInputLength = 10_000

    /// The pattern as written.
    public let source: String
    private let program: [Instruction]

    public init(_ pattern: String) throws(JSONSchemaPatternError) {
        let scalars = Array(pattern.unicodeScalars)
        guard scalars.count <= Self.maximumLength else {
            throw JSONSchemaPatternError(offset: Self.maximumLength, reason: "the pattern is longer than \(Self.maximumLength) characters")
        }
        var parser = PatternParser(scalars: scalars)
        let tree = try parser.parseAll()
        guard tree.size <= Self.maximumProgramSize else {
            throw JSONSchemaPatternError(
                offset: 0,
                reason: "the pattern is too large once its repetitions are expanded (more than \(Self.maximumProgramSize) steps); use smaller counts in {n,m}")
        }
        var program: [Instruction] = []
        tree.emit(into: &program)
        program.append(.match)
        self.source = pattern
        self.program = program
    }

    /// True when the pattern matches somewhere in `string`.
    public func matches(_ string: String) -> Bool {
        let input = Array(string.unicodeScalars)
        var current = StateSet(capacity: program.count)
        var next = StateSet(capacity: program.count)
        var stack: [Int] = []
        addThread(0, at: 0, inputCount: input.count, to: &current, stack: &stack)
        for position in 0...input.count {
            if current.containsMatch { return true }
            guard position < input.count else { break }
            let scalar = input[position]
            next.removeAll()
            for pc in current.members {
                if case .consume(let matcher) = program[pc], matcher.matches(scalar) {
                    addThread(pc + 1, at: position + 1, inputCount: input.count, to: &next, stack: &stack)
                }
            }
            // Unanchored: a match may also start at the next position.
            addThread(0, at: position + 1, inputCount: input.count, to: &next, stack: &stack)
            swap(&current, &next)
        }
        return current.containsMatch
    }

    /// Adds `start` and every instruction reachable from it without consuming input.
    private func addThread(_ start: Int, at position: Int, inputCount: Int, to set: inout StateSet, stack: inout [Int]) {
        stack.append(start)
        while let pc = stack.popLast() {
            guard set.insert(pc) else { continue }
            switch program[pc] {
            case .consume: break
            case .match: set.containsMatch = true
            case .jump(let target): stack.append(target)
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .assertStart: if position == 0 { stack.append(pc + 1) }
            case .assertEnd: if position == inputCount { stack.append(pc + 1) }
            }
        }
    }
}

/// Why a pattern was refused: the reason and where (a 0-based offset in scalars).
public struct JSONSchemaPatternError: Error, Sendable, Hashable, CustomStringConvertible {
    public let offset: Int
    public let reason: String

    public var description: String { "\(reason) (at character \(offset + 1))" }
}

// MARK: - Program

private enum Instruction: Sendable {
    case consume(ScalarMatcher)
    case split(Int, Int)
    case jump(Int)
    case assertStart
    case assertEnd
    case match
}

/// A set of program counters with O(1) insert and clear (a sparse set).
private struct StateSet {
    private var dense: [Int] = []
    private var sparse: [Int]
    var containsMatch = false

    init(capacity: Int) {
        sparse = Array(repeating: 0, count: capacity)
        dense.reserveCapacity(capacity)
    }

    var members: [Int] { dense }

    /// False when `pc` was already in the set.
    mutating func insert(_ pc: Int) -> Bool {
        let slot = sparse[pc]
        if slot < dense.count, dense[slot] == pc { return false }
        sparse[pc] = dense.count
        dense.append(pc)
        return true
    }

    mutating func removeAll() {
        dense.removeAll(keepingCapacity: true)
        containsMatch = false
    }
}

/// What one `consume` instruction accepts.
private struct ScalarMatcher: Sendable {
    /// Sorted, non-overlapping ranges of scalar values.
    var ranges: [ClosedRange<UInt32>]
    var negated: Bool

    func matches(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < value {
                low = middle + 1
            } else {
                high = middle
            }
        }
        let inside = low < ranges.count && ranges[low].contains(value)
        return inside != negated
    }

    static func single(_ value: UInt32) -> ScalarMatcher { ScalarMatcher(ranges: [value...value], negated: false) }

    static let maximumScalar: UInt32 = 0x10FFFF

    /// Sorts and merges ranges.
    static func normalized(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var merged: [ClosedRange<UInt32>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound &+ 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The scalar values not in `ranges` (which must be normalized).
    static func complement(_ ranges: [ClosedRange<UInt32>]) -> [ClosedRange<UInt32>] {
        var result: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for range in ranges {
            if range.lowerBound > next { result.append(next...(range.lowerBound - 1)) }
            if range.upperBound >= maximumScalar { return result }
            next = range.upperBound + 1
        }
        result.append(next...maximumScalar)
        return result
    }

    // ECMA-262's classes.
    static let digits: [ClosedRange<UInt32>] = [0x30...0x39]
    static let word: [ClosedRange<UInt32>] = [0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]
    static let space: [ClosedRange<UInt32>] = normalized([
        0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
        0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
    ])
    static let lineTerminators: [ClosedRange<UInt32>] = [0x0A...0x0A, 0x0D...0x0D, 0x2028...0x2029]
}

// MARK: - Syntax tree

private indirect enum PatternNode {
    case consume(ScalarMatcher)
    case assertStart
    case assertEnd
    case sequence([PatternNode])
    case alternation([PatternNode])
    case repetition(PatternNode, min: Int, max: Int?)

    /// Instructions once emitted, saturating far above any limit.
    var size: Int {
        switch self {
        case .consume, .assertStart, .assertEnd: return 1
        case .sequence(let nodes): return nodes.reduce(0) { min($0 + $1.size, 1 << 40) }
        case .alternation(let nodes): return nodes.reduce(0) { min($0 + $1.size + 2, 1 << 40) }
        case .repetition(let node, let minimum, let maximum):
            // The counts are at most maximumRepetition, so nothing here overflows.
            let body = node.size
            let optional = maximum.map { ($0 - minimum) * (body + 1) } ?? (body + 2)
            return min(minimum * body + optional, 1 << 40)
        }
    }

    func emit(into program: inout [Instruction]) {
        switch self {
        case .consume(let matcher): program.append(.consume(matcher))
        case .assertStart: program.append(.assertStart)
        case .assertEnd: program.append(.assertEnd)
        case .sequence(let nodes):
            for node in nodes { node.emit(into: &program) }
        case .alternation(let nodes):
            // split L1, next; L1: a; jump end; next: split L2, next2; … last
            var jumpsToEnd: [Int] = []
            for (index, node) in nodes.enumerated() {
                if index == nodes.count - 1 {
                    node.emit(into: &program)
                } else {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    node.emit(into: &program)
                    jumpsToEnd.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                }
            }
            for jump in jumpsToEnd { program[jump] = .jump(program.count) }
        case .repetition(let node, let minimum, let maximum):
            for _ in 0..<minimum { node.emit(into: &program) }
            if let maximum {
                // Each optional copy: split body, end.
                var splits: [Int] = []
                for _ in minimum..<maximum {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, 0))
                    node.emit(into: &program)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                // loop: split body, end; body; jump loop
                let loop = program.count
                program.append(.split(loop + 1, 0))
                node.emit(into: &program)
                program.append(.jump(loop))
                program[loop] = .split(loop + 1, program.count)
            }
        }
    }
}

// MARK: - Parser

private struct PatternParser {
    let scalars: [Unicode.Scalar]
    var index = 0
    var groupDepth = 0
    static let maximumGroupDepth = 32

    init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

    var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

    func error(_ reason: String, at offset: Int? = nil) -> JSONSchemaPatternError {
        JSONSchemaPatternError(offset: offset ?? index, reason: reason)
    }

    mutating func parseAll() throws(JSONSchemaPatternError) -> PatternNode {
        let node = try alternation()
        if current == ")" { throw error("unmatched ')'") }
        return node
    }

    mutating func alternation() throws(JSONSchemaPatternError) -> PatternNode {
        var branches = [try sequence()]
        while current == "|" {
            index += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    mutating func sequence() throws(JSONSchemaPatternError) -> PatternNode {
        var nodes: [PatternNode] = []
        while let scalar = current, scalar != "|", scalar != ")" {
            let atomStart = index
            var atom = try self.atom()
            if let (minimum, maximum) = try quantifier() {
                switch atom {
                case .assertStart, .assertEnd: throw error("nothing to repeat before the quantifier", at: atomStart)
                default: break
                }
                atom = .repetition(atom, min: minimum, max: maximum)
            }
            nodes.append(atom)
        }
        return nodes.count == 1 ? nodes[0] : .sequence(nodes)
    }

    /// `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each optionally lazy (`*?`).
    mutating func quantifier() throws(JSONSchemaPatternError) -> (Int, Int?)? {
        let start = index
        var result: (Int, Int?)
        switch current {
        case "*": index += 1; result = (0, nil)
        case "+": index += 1; result = (1, nil)
        case "?": index += 1; result = (0, 1)
        case "{":
            index += 1
            guard let minimum = number() else { throw error("'{' does not start a {n,m} quantifier; write \\{ for a literal '{'", at: start) }
            var maximum: Int? = minimum
            if current == "," {
                index += 1
                maximum = number()
            }
            guard current == "}" else { throw error("unterminated {n,m} quantifier", at: start) }
            index += 1
            if let maximum, maximum < minimum { throw error("{\(minimum),\(maximum)} has its numbers out of order", at: start) }
            guard minimum <= JSONSchemaPattern.maximumRepetition, (maximum ?? 0) <= JSONSchemaPattern.maximumRepetition else {
                throw error("repetition counts above \(JSONSchemaPattern.maximumRepetition) are not supported", at: start)
            }
            result = (minimum, maximum)
        default:
            return nil
        }
        if current == "?" { index += 1 }
        if let next = current, next == "*" || next == "+" || next == "?" || next == "{" {
            throw error("a quantifier cannot follow another quantifier")
        }
        return result
    }

    /// A decimal number (at most 9 digits, so it cannot overflow), or nil if none.
    mutating func number() -> Int? {
        var value = 0
        var digits = 0
        while let scalar = current, ("0"..."9").contains(scalar), digits < 9 {
            value = value * 10 + Int(scalar.value - 48)
            digits += 1
            index += 1
        }
        return digits == 0 ? nil : value
    }

    mutating func atom() throws(JSONSchemaPatternError) -> PatternNode {
        let start = index
        let scalar = scalars[index]
        index += 1
        switch scalar {
        case "^": return .assertStart
        case "$": return .assertEnd
        case ".": return .consume(ScalarMatcher(ranges: ScalarMatcher.lineTerminators, negated: true))
        case "*", "+", "?": throw error("nothing to repeat before '\(scalar)'", at: start)
        case "{": throw error("'{' does not follow anything to repeat; write \\{ for a literal '{'", at: start)
        case "[": return .consume(try characterClass(start: start))
        case "(": return try group(start: start)
        case "\\":
            switch try escape(inClass: false) {
            case .scalar(let value): return .consume(.single(value))
            case .ranges(let matcher): return .consume(matcher)
            }
        default: return .consume(.single(scalar.value))
        }
    }

    mutating func group(start: Int) throws(JSONSchemaPatternError) -> PatternNode {
        if current == "?" {
            index += 1
            switch current {
            case ":": index += 1
            case "=", "!": throw error("lookahead (?= …) and (?! …) is not supported", at: start)
            case "<":
                index += 1
                if current == "=" || current == "!" { throw error("lookbehind (?<= …) and (?<! …) is not supported", at: start) }
                while let scalar = current, scalar != ">" {
                    guard scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "$" else {
                        throw error("invalid group name")
                    }
                    index += 1
                }
                guard current == ">" else { throw error("unterminated group name", at: start) }
                index += 1
            default: throw error("unsupported group syntax '(?'", at: start)
            }
        }
        groupDepth += 1
        guard groupDepth <= Self.maximumGroupDepth else { throw error("groups nest deeper than \(Self.maximumGroupDepth) levels", at: start) }
        let inner = try alternation()
        groupDepth -= 1
        guard current == ")" else { throw error("unterminated group: missing ')'", at: start) }
        index += 1
        return inner
    }

    enum Escaped {
        case scalar(UInt32)
        case ranges(ScalarMatcher)
    }

    /// After a `\`.
    mutating func escape(inClass: Bool) throws(JSONSchemaPatternError) -> Escaped {
        let start = index - 1
        guard let scalar = current else { throw error("the pattern ends with a lone '\\'", at: start) }
        index += 1
        switch scalar {
        case "d": return .ranges(ScalarMatcher(ranges: ScalarMatcher.digits, negated: false))
        case "D": return .ranges(ScalarMatcher(ranges: ScalarMatcher.digits, negated: true))
        case "w": return .ranges(ScalarMatcher(ranges: ScalarMatcher.word, negated: false))
        case "W": return .ranges(ScalarMatcher(ranges: ScalarMatcher.word, negated: true))
        case "s": return .ranges(ScalarMatcher(ranges: ScalarMatcher.space, negated: false))
        case "S": return .ranges(ScalarMatcher(ranges: ScalarMatcher.space, negated: true))
        case "t": return .scalar(0x09)
        case "n": return .scalar(0x0A)
        case "v": return .scalar(0x0B)
        case "f": return .scalar(0x0C)
        case "r": return .scalar(0x0D)
        case "b" where inClass: return .scalar(0x08)
        case "b", "B": throw error("word boundaries (\\b, \\B) are not supported", at: start)
        case "0":
            if let next = current, ("0"..."9").contains(next) { throw error("octal escapes are not supported", at: start) }
            return .scalar(0)
        case "1"..."9": throw error("back-references (\\1 …) are not supported", at: start)
        case "x": return .scalar(try hex(digits: 2, start: start))
        case "u":
            let unit = try hex(digits: 4, start: start)
            if (0xD800...0xDBFF).contains(unit), current == "\\", index + 1 < scalars.count, scalars[index + 1] == "u" {
                index += 2
                let low = try hex(digits: 4, start: start)
                guard (0xDC00...0xDFFF).contains(low) else { throw error("\\u\(String(unit, radix: 16)) is a lone surrogate", at: start) }
                return .scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
            }
            guard !(0xD800...0xDFFF).contains(unit) else { throw error("\\u\(String(unit, radix: 16)) is a lone surrogate", at: start) }
            return .scalar(unit)
        case "p", "P": throw error("Unicode property escapes (\\p{…}) are not supported", at: start)
        case "c": throw error("control escapes (\\cX) are not supported", at: start)
        default:
            if "^$\\.*+?()[]{}|/-".unicodeScalars.contains(scalar) { return .scalar(scalar.value) }
            throw error("unknown escape '\\\(scalar)'; write \\\\ for a literal backslash", at: start)
        }
    }

    mutating func hex(digits count: Int, start: Int) throws(JSONSchemaPatternError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let scalar = current, let digit = UInt32(String(scalar), radix: 16) else {
                throw error("expected \(count) hexadecimal digits in the escape", at: start)
            }
            value = value * 16 + digit
            index += 1
        }
        return value
    }

    /// After `[`: `[abc]`, `[^a-z\d]`.
    mutating func characterClass(start: Int) throws(JSONSchemaPatternError) -> ScalarMatcher {
        var negated = false
        if current == "^" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        while true {
            guard let scalar = current else { throw error("unterminated character class: missing ']'", at: start) }
            if scalar == "]" {
                index += 1
                break
            }
            let itemStart = index
            let low = try classItem()
            if current == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                let high = try classItem()
                guard case .scalar(let lowValue) = low, case .scalar(let highValue) = high else {
                    throw error("a class escape such as \\d cannot bound a range", at: itemStart)
                }
                guard lowValue <= highValue else { throw error("the range is out of order", at: itemStart) }
                ranges.append(lowValue...highValue)
                continue
            }
            switch low {
            case .scalar(let value): ranges.append(value...value)
            case .ranges(let matcher):
                ranges += matcher.negated ? ScalarMatcher.complement(matcher.ranges) : matcher.ranges
            }
        }
        return ScalarMatcher(ranges: ScalarMatcher.normalized(ranges), negated: negated)
    }

    mutating func classItem() throws(JSONSchemaPatternError) -> Escaped {
        let scalar = scalars[index]
        index += 1
        if scalar == "\\" { return try escape(inClass: true) }
        if scalar == "[" && current == ":" { throw error("POSIX classes ([:alpha:]) are not supported", at: index - 1) }
        return .scalar(scalar.value)
    }
}
