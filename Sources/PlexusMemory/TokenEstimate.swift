/// How many tokens a text costs a language model, estimated without its tokenizer.
///
/// The estimate is one token per three UTF-8 bytes, rounded up. Tokenizers of the
/// common model families (GPT, Claude, Llama) average about four bytes per token on
/// English prose and about three on JSON, numbers, identifiers and topic paths, which is
/// most of what memory holds. Estimating with three errs on the safe side: a context
/// window assembled to a budget may waste a little of it, but does not overrun the
/// model's limit because the real count came out higher. Non-Latin scripts take more
/// bytes per character and are estimated higher still, as they cost more tokens too.
public enum TokenEstimate {
    /// UTF-8 bytes counted as one token.
    public static let bytesPerToken = 3

    /// The estimated token count of `text`: `ceil(utf8 bytes / 3)`.
    public static func tokens(in text: String) -> Int {
        (text.utf8.count + bytesPerToken - 1) / bytesPerToken
    }
}
