/// Letters of other scripts that look like Latin ones (Unicode's confusables, the lower
/// case ones that matter for spoofing words), so `іgnоrе` with Cyrillic і, о and е reads
/// as `ignore`. Applied only to tokens that mix them with Latin letters or consist of
/// them entirely (see ``TextNormalizer``), so real Cyrillic and Greek words stay intact.
enum Confusables {
    static func latin(for scalar: Unicode.Scalar) -> UInt8? {
        switch scalar.value {
        // Cyrillic
        case 0x0430: return UInt8(ascii: "a")
        case 0x0432: return UInt8(ascii: "b")
        case 0x0435, 0x0451: return UInt8(ascii: "e")
        case 0x043A: return UInt8(ascii: "k")
        case 0x043C: return UInt8(ascii: "m")
        case 0x043D: return UInt8(ascii: "h")
        case 0x043E: return UInt8(ascii: "o")
        case 0x0440: return UInt8(ascii: "p")
        case 0x0441: return UInt8(ascii: "c")
        case 0x0442: return UInt8(ascii: "t")
        case 0x0443: return UInt8(ascii: "y")
        case 0x0445: return UInt8(ascii: "x")
        case 0x0456, 0x0457: return UInt8(ascii: "i")
        case 0x0458: return UInt8(ascii: "j")
        case 0x0455: return UInt8(ascii: "s")
        case 0x0501: return UInt8(ascii: "d")
        case 0x051B: return UInt8(ascii: "q")
        case 0x051D: return UInt8(ascii: "w")
        case 0x04BB: return UInt8(ascii: "h")
        case 0x0261: return UInt8(ascii: "g")
        // Greek
        case 0x03B1: return UInt8(ascii: "a")
        case 0x03B5: return UInt8(ascii: "e")
        case 0x03B9: return UInt8(ascii: "i")
        case 0x03BA: return UInt8(ascii: "k")
        case 0x03BD: return UInt8(ascii: "v")
        case 0x03BF: return UInt8(ascii: "o")
        case 0x03C1: return UInt8(ascii: "p")
        case 0x03C4: return UInt8(ascii: "t")
        case 0x03C5: return UInt8(ascii: "u")
        case 0x03C7: return UInt8(ascii: "x")
        case 0x03C9: return UInt8(ascii: "w")
        // Latin look-alikes outside ASCII that NFKD keeps
        case 0x0131: return UInt8(ascii: "i")  // dotless i
        case 0x0237: return UInt8(ascii: "j")
        case 0x0251: return UInt8(ascii: "a")
        case 0x026A: return UInt8(ascii: "i")
        case 0x0280: return UInt8(ascii: "r")
        case 0x1D00: return UInt8(ascii: "a")
        case 0x1D07: return UInt8(ascii: "e")
        case 0x1D0F: return UInt8(ascii: "o")
        default: return nil
        }
    }

    /// Leetspeak digits and symbols and the letters they stand for.
    static func leetLetter(for byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0"): return UInt8(ascii: "o")
        case UInt8(ascii: "1"): return UInt8(ascii: "i")
        case UInt8(ascii: "3"): return UInt8(ascii: "e")
        case UInt8(ascii: "4"): return UInt8(ascii: "a")
        case UInt8(ascii: "5"): return UInt8(ascii: "s")
        case UInt8(ascii: "7"): return UInt8(ascii: "t")
        case UInt8(ascii: "8"): return UInt8(ascii: "b")
        case UInt8(ascii: "@"): return UInt8(ascii: "a")
        case UInt8(ascii: "$"): return UInt8(ascii: "s")
        default: return nil
        }
    }
}
